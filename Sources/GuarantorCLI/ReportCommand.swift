import ArgumentParser
import Foundation
import GuarantorCore
import GuarantorServer
import GuarantorStore

/// `guarantor report daily|spot`: the mission's reports as a reader may read them, written as report.html,
/// report.md and report.pdf, and issued to the log.
public struct ReportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Write the daily report or a spot report, and record its issue in the log.",
        subcommands: [DailyReportCommand.self, SpotReportCommand.self])

    public init() {}
}

/// What both reports take: the mission, the store, the reader, the language and where to write.
struct ReportOptions: ParsableArguments {
    @Option(help: "The mission directory.") var mission: String
    @Option(help: "The store (its engine resumes from the latest snapshot).") var store: String
    @Option(help: "Only what this member may read (default: every record, for the mission).") var member: String?
    @Flag(name: .customLong("public"), help: "Only TLP:CLEAR records: the public report.") var isPublic = false
    @Option(help: "en or uk.") var lang: String = "en"
    @Flag(help: "Write no PDF (it needs Chromium).") var noPDF = false
    @Option(help: "The directory for report.html, report.md and report.pdf.") var out: String

    func validate() throws {
        if member != nil && isPublic { throw ValidationError("give --member M or --public, not both") }
        if ReportLanguage(rawValue: lang) == nil { throw ValidationError("--lang: \"\(lang)\" is not en or uk") }
        if member == Releasability.publicReader { throw ValidationError("for the public report say --public") }
    }

    var language: ReportLanguage { ReportLanguage(rawValue: lang)! }

    func reader(of mission: Mission) throws -> ReportReader {
        try Files.reader(member: member, isPublic: isPublic, of: mission)
    }

    /// Writes the files, issues them to the log and says so.
    func write(_ files: Reports.Files, kind: String, subject: String, reader: ReportReader, store: EventStore) throws {
        var written: [(name: String, bytes: [UInt8])] = [("report.html", files.html), ("report.md", files.markdown)]
        if !noPDF {
            do {
                written.append(("report.pdf", try Reports.pdf(ofHTML: files.html)))
            } catch let refusal as Reports.Refusal {
                throw CLIError("\(refusal.reason) (or say --no-pdf)")
            }
        }
        let directory = URL(fileURLWithPath: out, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for file in written { try Data(file.bytes).write(to: directory.appendingPathComponent(file.name)) }
        let event = try Reports.issue(
            written, kind: kind, subject: subject, reader: reader, language: language, through: files.through,
            store: store)
        say("wrote \(written.map(\.name).joined(separator: ", ")) in \(out)/ for \(reader.id)")
        say("issued as event \(event) of the log; check a copy with `guarantor verify --report FILE`")
    }
}

/// `guarantor report daily --mission DIR --store S --date YYYY-MM-DD [--member M | --public] [--lang en|uk] --out OUT`
public struct DailyReportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "daily",
        abstract:
            "The daily report (the OSCE SMM's structure) for the day ending at the cut-off of --date, with maps and charts."
    )

    @OptionGroup var options: ReportOptions
    @Option(help: "The day, YYYY-MM-DD: from the previous day's cut-off to this one's.") var date: String
    @Option(help: "The cut-off, HH:MM local time.") var cutoff: String = Reports.defaultCutoff
    @Option(help: "The cut-off's time zone.") var timeZone: String = Reports.defaultTimeZone

    public init() {}

    public func run() throws {
        let mission = try Files.loadMission(options.mission)
        let reader = try options.reader(of: mission)
        var engine = try Files.openEngine(missionDirectory: options.mission, mission: mission, store: options.store)
        let files: Reports.Files
        do {
            files = try Reports.daily(
                from: engine, date: date, cutoff: cutoff, timeZone: timeZone, reader: reader,
                language: options.language)
        } catch let refusal as Reports.Refusal {
            throw CLIError("--\(refusal.field == "timeZone" ? "time-zone" : refusal.field): \(refusal.reason)")
        }
        try options.write(files, kind: "daily", subject: date, reader: reader, store: engine.store)
        Files.snapshotIfLong(&engine)
    }
}

/// `guarantor report spot --mission DIR --store S --alert ID [--member M | --public] [--lang en|uk] --out OUT`
public struct SpotReportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "spot", abstract: "The spot report on a tripwire alert or an alert resting on a grave finding.")

    @OptionGroup var options: ReportOptions
    @Option(help: "The alert's id (guarantor status, GET /alerts).") var alert: String

    public init() {}

    public func run() throws {
        let mission = try Files.loadMission(options.mission)
        let reader = try options.reader(of: mission)
        var engine = try Files.openEngine(missionDirectory: options.mission, mission: mission, store: options.store)
        let files: Reports.Files
        do {
            files = try Reports.spot(from: engine, alert: alert, reader: reader, language: options.language)
        } catch let refusal as Reports.Refusal {
            throw CLIError("--alert: \(refusal.reason)")
        }
        try options.write(files, kind: "spot", subject: alert, reader: reader, store: engine.store)
        Files.snapshotIfLong(&engine)
    }
}
