import ArgumentParser
import Foundation
import GuarantorCore
import GuarantorStore

/// `guarantor ingest --mission DIR --store FILE.sqlite OBS.ndjson`
public struct IngestCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Append observations to the mission's event log; a file with any invalid line is rejected whole.")

    @Option(help: "The mission directory.")
    var mission: String

    @Option(help: "The SQLite store (created if missing).")
    var store: String

    @Argument(help: "An NDJSON file of observations.")
    var file: String

    @Option(help: "Refuse observations dated more than this many seconds after their receipt (now).")
    var maximumSkew = Observation.defaultMaximumSkewSeconds

    public init() {}

    public func validate() throws {
        guard (0...Observation.maximumSkewSeconds).contains(maximumSkew) else {
            throw ValidationError("--maximum-skew must be 0…\(Int(Observation.maximumSkewSeconds)) seconds")
        }
    }

    public func run() throws {
        let mission = try Files.loadMission(self.mission)
        var batch = try Files.parseObservations(file, mission: mission)
        do {
            try batch.receive(at: WallClock.now(), maximumSkewSeconds: maximumSkew)
        } catch {
            let count = error.totalErrors == 1 ? "1 error" : "\(error.totalErrors) errors"
            throw CLIError("\(file) rejected, \(count), nothing was stored:\n\(error)")
        }
        let result: EventStore.IngestResult
        do {
            let store = try EventStore(path: self.store, missionId: mission.agreement.id)
            result = try store.ingest(batch.observations, maximumSkewSeconds: maximumSkew)
        } catch let error as StoreError {
            throw CLIError("\(error) — nothing was stored")
        }
        print(Self.summary(file: file, total: batch.observations.count, result: result))
    }

    static func summary(file: String, total: Int, result: EventStore.IngestResult) -> String {
        var text =
            "\(file): \(total.grouped) observations, \(result.appended.grouped) appended, \(result.alreadyPresent.grouped) already stored"
        if result.appended == 0 { text += " (nothing added)" }
        text += "\nevent log: \(Int(result.eventCount).grouped) events, head \(EventChain.hex(result.headHash))"
        return text
    }
}
