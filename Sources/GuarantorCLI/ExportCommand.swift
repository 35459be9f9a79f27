import ArgumentParser
import Foundation
import GuarantorCore
import GuarantorServer
import GuarantorStore

/// `guarantor export stix|acled|incidents-geojson|violations-geojson --mission DIR --store S [--member M | --public]
/// --out FILE`: the record for other tools, as a reader may read it (the same bytes as `GET /export/…`).
public struct ExportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract:
            "Write the record as a STIX 2.1 bundle, ACLED-style CSV or GeoJSON, as a member (or the public) may read it."
    )

    /// The formats, by the name the command takes.
    static let formats: [String: Exports.Format] = [
        "stix": .stix, "acled": .acled, "incidents-geojson": .incidents, "violations-geojson": .violations,
    ]

    @Argument(help: "stix, acled, incidents-geojson or violations-geojson.") var format: String
    @Option(help: "The mission directory.") var mission: String
    @Option(help: "The store (its engine resumes from the latest snapshot).") var store: String
    @Option(help: "Only what this member may read (default: every record, for the mission).") var member: String?
    @Flag(name: .customLong("public"), help: "Only TLP:CLEAR records.") var isPublic = false
    @Option(help: "The file to write.") var out: String

    public init() {}

    public func validate() throws {
        guard Self.formats[format] != nil else {
            throw ValidationError("\"\(format)\" is not one of \(Self.formats.keys.sorted().joined(separator: ", "))")
        }
        if member != nil && isPublic { throw ValidationError("give --member M or --public, not both") }
    }

    public func run() throws {
        let mission = try Files.loadMission(self.mission)
        let reader = try Files.reader(member: member, isPublic: isPublic, of: mission)
        var engine = try Files.openEngine(missionDirectory: self.mission, mission: mission, store: store)
        let file = try Exports.file(Self.formats[format]!, from: engine, reader: reader)
        // Written from the bytes as they are (a week's bundle is over 100 MB: no copy).
        try file.bytes.withUnsafeBytes { buffer in
            try Data(
                bytesNoCopy: UnsafeMutableRawPointer(mutating: buffer.baseAddress!), count: buffer.count,
                deallocator: .none
            ).write(to: URL(fileURLWithPath: out))
        }
        say("wrote \(out) (\(file.bytes.count) bytes) for \(reader.id)")
        Files.snapshotIfLong(&engine)
    }
}

extension Files {
    /// The reader `--member M` or `--public` names (neither: the mission, every record).
    static func reader(member: String?, isPublic: Bool, of mission: Mission) throws -> ReportReader {
        if member == Releasability.publicReader { throw CLIError("for the public's view say --public") }
        if isPublic { return .publicReader }
        guard let member else { return .mission }
        let known = (mission.coalition?.members.map(\.id) ?? []) + mission.agreement.parties.map(\.id)
        guard known.contains(member) else {
            throw CLIError(
                "--member: \"\(member)\" is not a member or party of the mission (\(known.joined(separator: ", ")))")
        }
        return .member(member)
    }
}
