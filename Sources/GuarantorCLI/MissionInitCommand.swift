import ArgumentParser
import Foundation
import GuarantorCore
import GuarantorStore

/// `guarantor mission init DIR --line LINE.geojson --party ID=LON,LAT --party ID=LON,LAT [--sectors SECTORS.geojson]`
public struct MissionInitCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "init",
        abstract:
            "Create a mission directory: agreement.json (line, parties, default zones), sources.json and declarations.json."
    )

    @Argument(help: "The mission directory to create.")
    var directory: String

    @Option(help: "A GeoJSON LineString or MultiLineString (geometry, Feature or one-feature FeatureCollection).")
    var line: String

    @Option(name: .customLong("party"), help: "A party and a reference point on its side: ID=LON,LAT (give two).")
    var parties: [String] = []

    @Option(help: "A GeoJSON FeatureCollection of named polygons (property name or shapeName) to use as sectors.")
    var sectors: String?

    @Option(help: "Length of the along-line sectors, metres, when no sectors file is given.")
    var sectorLength: Double = 50_000

    @Option(help: "Mission id (default: the directory's name).")
    var id: String?

    @Option(help: "Title of the agreement.")
    var title = "Ceasefire agreement"

    @Option(help: "When the ceasefire takes effect (RFC 3339).")
    var effectiveAt = "2026-01-01T00:00:00Z"

    @Flag(help: "Replace the files of an existing mission directory.")
    var force = false

    public init() {}

    public func validate() throws {
        guard parties.count == 2 else { throw ValidationError("give exactly two --party ID=LON,LAT options") }
        for party in parties where Self.parseParty(party) == nil {
            throw ValidationError("--party \(party): expected ID=LON,LAT with lon in -180…180 and lat in -90…90")
        }
        guard Timestamp(rfc3339: effectiveAt) != nil else {
            throw ValidationError("--effective-at \(effectiveAt) is not RFC 3339")
        }
    }

    static func parseParty(_ text: String) -> Party? {
        let pieces = text.split(separator: "=", maxSplits: 1)
        guard pieces.count == 2, !pieces[0].isEmpty else { return nil }
        let coordinates = pieces[1].split(separator: ",")
        guard coordinates.count == 2, let lon = Double(coordinates[0]), let lat = Double(coordinates[1]),
            GeoPoint.problem(lon: lon, lat: lat) == nil
        else { return nil }
        let id = String(pieces[0])
        return Party(id: id, name: knownPartyNames[id] ?? id, referencePoint: GeoPoint(lon: lon, lat: lat))
    }

    static let knownPartyNames = ["UA": "Ukraine", "RU": "Russian Federation"]

    public func run() throws {
        let directoryURL = URL(fileURLWithPath: directory, isDirectory: true)
        let missionId = id ?? directoryURL.lastPathComponent
        try Self.create(
            at: directoryURL, missionId: missionId, title: title, effectiveAt: Timestamp(rfc3339: effectiveAt)!,
            parties: parties.compactMap(Self.parseParty), lineFile: URL(fileURLWithPath: line),
            sectorsFile: sectors.map { URL(fileURLWithPath: $0) }, sectorLength: sectorLength, force: force)
        let mission = try Files.loadMission(directory)
        print("Created mission \"\(missionId)\" in \(directory)")
        print(
            "  line: \(mission.line.parts.count) part(s), \(mission.line.parts.map(\.count).reduce(0, +)) vertices, \(Int(mission.line.lengthMeters / 1000)) km"
        )
        let left = mission.agreement.parties[mission.leftParty],
            right = mission.agreement.parties[1 - mission.leftParty]
        print("  sides: \(left.id) on the left walking the line from its start, \(right.id) on the right")
        print(
            "  zones: "
                + mission.agreement.zones.map { "\($0.id) \(Int($0.halfWidthMeters / 1000)) km" }.joined(
                    separator: ", "))
        print(
            "  sectors: \(mission.sectors.names.count)  sources: \(mission.sources.sources.count) (edit sources.json)")
    }

    /// Writes a validated mission directory; nothing is written if any input is invalid.
    static func create(
        at directory: URL, missionId: String, title: String, effectiveAt: Timestamp, parties: [Party],
        lineFile: URL, sectorsFile: URL?, sectorLength: Double, force: Bool
    ) throws {
        let fm = FileManager.default
        let agreementURL = directory.appendingPathComponent(MissionDirectory.agreementFile)
        if fm.fileExists(atPath: agreementURL.path) && !force {
            throw CLIError("\(directory.path) already holds a mission (use --force to replace it)")
        }
        let lineValue = try readInput(lineFile, as: "--line")
        let lineParts: [[GeoPoint]]
        do { lineParts = try GeoJSON.lineParts(lineValue) } catch let error as FieldError {
            throw CLIError("\(lineFile.path): \(error)")
        }
        var areas: [GeoJSON.NamedArea]?
        var sectorsValue: JSONValue?
        if let sectorsFile {
            let value = try readInput(sectorsFile, as: "--sectors")
            do { areas = try GeoJSON.namedAreas(value) } catch let error as FieldError {
                throw CLIError("\(sectorsFile.path): \(error)")
            }
            sectorsValue = value
        }
        let agreement = Agreement(
            id: missionId, title: title, effectiveAt: effectiveAt, parties: parties, line: .file(path: "line.geojson"),
            sectors: sectorsFile == nil ? .alongLine(stretchMeters: sectorLength) : .areas(path: "sectors.geojson"))
        let sources = SourceRegistry(defaultSources(parties: parties))
        let (coalitionValue, triggersValue) = try defaultGuarantee(
            site: parties[0].referencePoint, effectiveAt: effectiveAt)
        do {
            _ = try Mission(
                agreement: agreement, lineParts: lineParts, areas: areas, sources: sources, lineFile: lineFile.path,
                agreementFile: "--party")
        } catch let problem as Mission.Problem {
            throw CLIError("\(problem)")
        }
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
            try MissionDirectory.write(lineValue, to: directory.appendingPathComponent("line.geojson"))
            if let sectorsValue {
                try MissionDirectory.write(sectorsValue, to: directory.appendingPathComponent("sectors.geojson"))
            }
            try MissionDirectory.write(sources.json, to: directory.appendingPathComponent(MissionDirectory.sourcesFile))
            try MissionDirectory.write(
                Declarations.emptyFile, to: directory.appendingPathComponent(MissionDirectory.declarationsFile))
            try MissionDirectory.write(
                coalitionValue, to: directory.appendingPathComponent(MissionDirectory.coalitionFile))
            try MissionDirectory.write(
                triggersValue, to: directory.appendingPathComponent(MissionDirectory.triggersFile))
            try MissionDirectory.write(agreement.json, to: agreementURL)
        } catch {
            throw CLIError("cannot write the mission to \(directory.path): \(error.localizedDescription)")
        }
    }

    /// The coalition and trigger book a new mission starts with (Defaults/): eight members, pledges under every
    /// pillar, a deterrence force of 28,500 pledged under a 30,000 ceiling deployed at the first party's reference
    /// point, and a four-level ladder.
    static func defaultGuarantee(site: GeoPoint, effectiveAt: Timestamp) throws -> (JSONValue, JSONValue) {
        func resource(_ name: String) throws -> String {
            guard let url = Bundle.module.url(forResource: "Defaults/\(name)", withExtension: "json"),
                let text = try? String(contentsOf: url, encoding: .utf8)
            else { throw CLIError("the default \(name).json is missing from the tool's resources") }
            return text
        }
        let coalition = try resource("coalition")
            .replacingOccurrences(of: "SITE_LON", with: "\(site.lon)")
            .replacingOccurrences(of: "SITE_LAT", with: "\(site.lat)")
            .replacingOccurrences(of: "EFFECTIVE_AT", with: effectiveAt.rfc3339)
        do {
            return (try JSONValue.parse(coalition), try JSONValue.parse(try resource("triggers")))
        } catch {
            throw CLIError("the default coalition or triggers file is not JSON: \(error)")
        }
    }

    private static func readInput(_ url: URL, as option: String) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CLIError("\(option) \(url.path): cannot read the file")
        }
        if data.isEmpty { throw CLIError("\(option) \(url.path): the file is empty") }
        do { return try JSONValue.parse(data) } catch { throw CLIError("\(option) \(url.path): \(error)") }
    }

    /// The sources a new mission starts with: coalition sensors and patrols, open sources, and each party's claims.
    static func defaultSources(parties: [Party]) -> [Source] {
        [
            Source(id: "us-acoustic-07", kind: .acoustic, organisation: "US", reliability: .b),
            Source(id: "uk-acoustic-02", kind: .acoustic, organisation: "UK", reliability: .b),
            Source(id: "us-radar-03", kind: .radar, organisation: "US", reliability: .b),
            Source(id: "fr-radar-05", kind: .radar, organisation: "FR", reliability: .b),
            Source(id: "uk-satellite-01", kind: .satellite, organisation: "UK", reliability: .a),
            Source(id: "fr-uav-02", kind: .uav, organisation: "FR", reliability: .b),
            Source(id: "uk-uav-06", kind: .uav, organisation: "UK", reliability: .b),
            Source(id: "de-camera-11", kind: .staticCamera, organisation: "DE", reliability: .c),
            Source(id: "pl-patrol-04", kind: .patrol, organisation: "PL", reliability: .b),
            Source(id: "mission-osint", kind: .osint, organisation: "MISSION", reliability: .d),
        ]
            + parties.map {
                Source(id: "\($0.id.lowercased())-claims", kind: .partyClaim, organisation: $0.id, reliability: .e)
            }
    }
}
