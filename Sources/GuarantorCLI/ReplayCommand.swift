import ArgumentParser
import Foundation
import GuarantorCore
import GuarantorStore

/// `guarantor replay --mission DIR (--observations FILE.ndjson [--actions FILE.ndjson] | --store FILE) --out DIR`
public struct ReplayCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract:
            "Process an observation file, or a store's event log, as if it had arrived in that order; the output is byte-identical every run."
    )

    @Option(help: "The mission directory.")
    var mission: String

    @Option(help: "An NDJSON file of observations.")
    var observations: String?

    @Option(help: "An NDJSON file of analysts', board members' and parties' actions (with --observations).")
    var actions: String?

    @Option(help: "Replay a store's event log (observations and actions) instead of files.")
    var store: String?

    @Option(help: "The directory for the outputs.")
    var out: String

    public init() {}

    public func validate() throws {
        guard (observations == nil) != (store == nil) else {
            throw ValidationError("give either --observations FILE or --store FILE")
        }
        if actions != nil && store != nil {
            throw ValidationError("--actions goes with --observations; a store holds its own")
        }
    }

    public func run() throws {
        let mission = try Files.loadMission(self.mission)
        let (batch, actions) = try Files.inputs(
            mission: mission, observations: observations, actions: self.actions, store: store)
        let output = try Self.replay(
            mission: mission, batch: batch, actions: actions, to: URL(fileURLWithPath: out, isDirectory: true))
        print(
            "\(observations ?? store!): \(batch.observations.count.grouped) observations → \(output.incidentCount.grouped) incidents, "
                + "\(output.violationCount.grouped) violations in \(out)/")
        if output.lateObservations > 0 {
            print(
                "  \(output.lateObservations.grouped) arrived later than the allowed lateness: kept as incidents marked late"
            )
        }
        if !actions.isEmpty {
            print("  \(actions.count.grouped) actions, \(output.refusedActions.grouped) refused (see actions.ndjson)")
        }
    }

    /// Runs the replay and writes its files into `directory`.
    static func replay(mission: Mission, batch: ObservationBatch, actions: [MissionAction] = [], to directory: URL)
        throws -> Replay.Output
    {
        let progress = Progress(total: batch.observations.count, label: "classifying")
        let output = Replay.run(mission: mission, batch: batch, actions: actions, progress: progress.update)
        progress.finish()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (name, bytes) in output.files { try Files.write(bytes, to: directory.appendingPathComponent(name)) }
        } catch {
            throw CLIError("cannot write to \(directory.path): \(error.localizedDescription)")
        }
        return output
    }
}
