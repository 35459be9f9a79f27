import ArgumentParser
import Foundation
import GuarantorCore
import GuarantorStore

/// `guarantor import stix|acled|ucdp FILE --mission DIR --store S --member M [--source S]`: observations from a
/// member's MISP or OpenCTI (a STIX 2.1 bundle) or from ACLED and UCDP GED tables, appended whole or not at all.
public struct ImportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "import",
        abstract:
            "Append the observations of a STIX 2.1 bundle, an ACLED CSV or a UCDP GED CSV; a file with any error is rejected whole."
    )

    @Argument(help: "stix, acled or ucdp.") var format: String
    @Argument(help: "The file.") var file: String
    @Option(help: "The mission directory.") var mission: String
    @Option(help: "The SQLite store (created if missing).") var store: String
    @Option(help: "The member importing it (MISSION for the mission's own staff): the observations' originator.")
    var member: String
    @Option(
        help:
            "The source (sources.json) they come from: required for ACLED, UCDP and STIX sightings from outside Guarantor."
    )
    var source: String?

    public init() {}

    public func validate() throws {
        guard Imports.Format(rawValue: format) != nil else {
            throw ValidationError(
                "\"\(format)\" is not one of \(Imports.Format.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    public func run() throws {
        let mission = try Files.loadMission(self.mission)
        // The mission itself (its own staff's imports), or a member or party.
        if member != "MISSION" { _ = try Files.reader(member: member, isPublic: false, of: mission) }
        let bytes = try Files.readObservations(file)
        var imported: Imports.Imported
        switch Imports.read(
            Imports.Format(rawValue: format)!, bytes, member: member, source: source,
            isKnownSource: mission.sources.contains)
        {
        case .failure(let rejection):
            let count = rejection.totalErrors == 1 ? "1 error" : "\(rejection.totalErrors) errors"
            throw CLIError("\(file) rejected, \(count), nothing was stored:\n\(rejection)")
        case .success(let i): imported = i
        }
        do {
            try imported.batch.receive(at: WallClock.now(), maximumSkewSeconds: Observation.defaultMaximumSkewSeconds)
        } catch {
            throw CLIError("\(file) rejected, nothing was stored:\n\(error)")
        }
        let result: EventStore.IngestResult
        do {
            let store = try EventStore(path: self.store, missionId: mission.agreement.id)
            result = try store.ingest(
                imported.batch.observations, maximumSkewSeconds: Observation.defaultMaximumSkewSeconds)
        } catch let error as StoreError {
            throw CLIError("\(error) — nothing was stored")
        }
        print(IngestCommand.summary(file: file, total: imported.batch.observations.count, result: result))
        if !imported.skipped.isEmpty {
            print(
                "skipped: "
                    + imported.skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(
                        separator: ", "))
        }
    }
}
