import ArgumentParser
import Foundation
import GuarantorCore
import GuarantorStore

/// `guarantor lines add|list|compare`: the candidate ceasefire lines a mission keeps, and two of them side by side.
public struct LinesCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lines", abstract: "Keep candidate ceasefire lines beside the agreement's and compare any two.",
        subcommands: [LinesAddCommand.self, LinesListCommand.self, LinesCompareCommand.self])

    public init() {}
}

/// `guarantor lines add DIR --id ID --title T [--source S] [--date YYYY-MM-DD] FILE.geojson`
public struct LinesAddCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a candidate line (GeoJSON LineString or MultiLineString) to a mission.")

    @Argument(help: "The mission directory.") var mission: String
    @Option(help: "Its id (letters, digits, . _ -).") var id: String
    @Option(help: "Its title.") var title: String
    @Option(help: "Where it comes from.") var source: String?
    @Option(help: "The date it stands for (YYYY-MM-DD).") var date: String?
    @Argument(help: "The GeoJSON file.") var file: String

    public init() {}

    public func run() throws {
        let base = try Files.loadMission(mission)
        let directory = URL(fileURLWithPath: mission, isDirectory: true)
        do {
            var lines = try CandidateLines(directory: directory)
            try lines.add(
                id: id, title: title, source: source, date: date, geoJSON: URL(fileURLWithPath: file), base: base)
            let added = try lines.mission(id, base: base)
            print("added line \(id): \(String(format: "%.1f", added.line.lengthMeters / 1000)) km")
        } catch let error as ConfigurationError {
            throw CLIError("line \(id): \(error)")
        }
    }
}

/// `guarantor lines list DIR`
public struct LinesListCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List a mission's lines: the agreement's, then the candidates.")

    @Argument(help: "The mission directory.") var mission: String
    @Flag(help: "Print JSON (what GET /lines returns).") var json = false

    public init() {}

    public func run() throws {
        let base = try Files.loadMission(mission)
        do {
            let lines = try CandidateLines(directory: URL(fileURLWithPath: mission, isDirectory: true))
            if json {
                print(try lines.listing(base: base).prettyPrinted)
                return
            }
            for e in lines.entries {
                let km = String(format: "%8.1f km", try lines.mission(e.id, base: base).line.lengthMeters / 1000)
                let id = e.id.padding(toLength: 16, withPad: " ", startingAt: 0)
                print("\(id) \(km)  \(e.date ?? "          ")  \(e.title)")
            }
        } catch let error as ConfigurationError {
            throw CLIError("\(error)")
        }
    }
}

/// `guarantor lines compare --mission DIR A B [--settlements FILE] [--store S] --out OUT`
public struct LinesCompareCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract:
            "Compare two lines (candidate ids or GeoJSON files): lengths, distances, and the settlements that change side."
    )

    @Option(help: "The mission directory.") var mission: String
    @Argument(help: "Line A: a candidate id or a GeoJSON file.") var a: String
    @Argument(help: "Line B: a candidate id or a GeoJSON file.") var b: String
    @Option(help: "A gazetteer: GeoNames postal codes (tab-separated) or GeoJSON points with a name.")
    var settlements: String?
    @Option(help: "A store whose record to replay under both lines (observations, incidents, violations).")
    var store: String?
    @Option(help: "The directory for summary.json, settlements.ndjson, areas.geojson and summary.md.") var out: String

    public init() {}

    public func run() throws {
        let base = try Files.loadMission(mission)
        let lineA = try Files.candidate(a, mission: base, directory: mission)
        let lineB = try Files.candidate(b, mission: base, directory: mission)
        var places: [Settlement] = []
        if let settlements {
            guard let data = FileManager.default.contents(atPath: settlements) else {
                throw CLIError("cannot read \(settlements)")
            }
            do {
                places = try Gazetteer.read(Array(data))
            } catch let error as FieldError {
                throw CLIError("\(settlements): \(error)")
            }
        }
        var record: RecordComparison?
        if let store {
            guard FileManager.default.fileExists(atPath: store) else { throw CLIError("no store at \(store)") }
            let opened = try Files.openStore(store, mission: base)
            do {
                record = try RecordComparison(a: lineA.mission, b: lineB.mission, actions: try opened.actions()) {
                    _, body in try opened.forEachRecord { _, r in body(r) }
                }
            } catch let error as StoreError {
                throw CLIError("\(error)")
            }
        }
        let comparison = LineComparison(a: lineA, b: lineB, settlements: places, record: record)
        let outURL = URL(fileURLWithPath: out, isDirectory: true)
        try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true)
        try Data(comparison.summary.prettyPrinted.utf8).write(to: outURL.appendingPathComponent("summary.json"))
        try Data(comparison.settlementLines).write(to: outURL.appendingPathComponent("settlements.ndjson"))
        try Data(comparison.areasGeoJSON).write(to: outURL.appendingPathComponent("areas.geojson"))
        try Data(comparison.markdown.utf8).write(to: outURL.appendingPathComponent("summary.md"))
        print(comparison.markdown)
    }
}
