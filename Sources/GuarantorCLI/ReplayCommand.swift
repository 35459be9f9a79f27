import ArgumentParser
import Foundation
import GuarantorCore
import GuarantorStore

/// `guarantor replay --mission DIR --observations FILE.ndjson --out DIR`
public struct ReplayCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract:
            "Process an observation file as if it had arrived in that order; the output is byte-identical every run.")

    @Option(help: "The mission directory.")
    var mission: String

    @Option(help: "An NDJSON file of observations.")
    var observations: String

    @Option(help: "The directory for the outputs (observations.ndjson).")
    var out: String

    public init() {}

    public func run() throws {
        let mission = try Files.loadMission(self.mission)
        let batch = try Files.parseObservations(observations, mission: mission)
        let output = try Self.replay(mission: mission, batch: batch, to: URL(fileURLWithPath: out, isDirectory: true))
        print(
            "\(observations): \(batch.observations.count.grouped) observations → \(output.incidentCount.grouped) incidents, "
                + "\(output.violationCount.grouped) violations in \(out)/")
        if output.lateObservations > 0 {
            print(
                "  \(output.lateObservations.grouped) arrived later than the allowed lateness: kept as incidents marked late"
            )
        }
    }

    /// Runs the replay and writes its files into `directory`.
    static func replay(mission: Mission, batch: ObservationBatch, to directory: URL) throws -> Replay.Output {
        let progress = Progress(total: batch.observations.count, label: "classifying")
        let output = Replay.run(mission: mission, batch: batch, progress: progress.update)
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
