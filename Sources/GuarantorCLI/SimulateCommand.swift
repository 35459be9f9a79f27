import ArgumentParser
import Foundation
import GuarantorCore

/// `guarantor simulate --mission DIR --seed N --hours H --out DIR`
public struct SimulateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Generate ground truth and the observations the mission's sources would report of it.")

    @Option(help: "The mission directory.")
    var mission: String

    @Option(help: "Seed of the scenario.")
    var seed: UInt64 = 1

    @Option(help: "Hours of event time to simulate, from one day after the agreement takes effect.")
    var hours: Double = 24

    @Option(help: "Events and false reports this many times as frequent as usual (a busier front, for benchmarks).")
    var intensity: Double = 1

    @Option(
        help:
            "How noisy the reports are: standard, realistic (vague and late reports), harsh (doubled errors, a fifth fabricated)."
    )
    var noise: String = "standard"

    @Option(help: "The directory for observations.ndjson and truth.ndjson.")
    var out: String

    public init() {}

    public func validate() throws {
        guard Simulator.Noise(rawValue: noise) != nil else {
            throw ValidationError(
                "--noise must be one of \(Simulator.Noise.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard hours > 0, hours <= 24 * 366 else { throw ValidationError("--hours must be in 0…8784") }
        guard intensity > 0, intensity <= 1_000 else { throw ValidationError("--intensity must be in 0…1000") }
    }

    public func run() throws {
        let mission = try Files.loadMission(self.mission)
        let (observations, truth, deliveries) = Simulator.run(
            mission: mission, seed: seed, hours: hours, intensity: intensity, noise: Simulator.Noise(rawValue: noise)!)
        var bytes: [UInt8] = []
        for o in observations {
            bytes += o.canonicalJSON
            bytes.append(0x0A)
        }
        let directory = URL(fileURLWithPath: out, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Files.write(bytes, to: directory.appendingPathComponent("observations.ndjson"))
            try Files.write(truth, to: directory.appendingPathComponent("truth.ndjson"))
            var actions = JSONWriter()
            for delivery in deliveries {
                delivery.write(into: &actions)
                actions.newline()
            }
            try Files.write(actions.bytes, to: directory.appendingPathComponent("actions.ndjson"))
        } catch {
            throw CLIError("cannot write to \(out): \(error.localizedDescription)")
        }
        let events = truth.split(separator: 0x0A).filter { $0.starts(with: Array(#"{"type":"event""#.utf8)) }.count
        print(
            "\(out): \(events.grouped) events over \(hours) h seen in \(observations.count.grouped) observations (seed \(seed)), \(deliveries.count) deliveries in actions.ndjson"
        )
    }
}

/// `guarantor score --truth FILE --results DIR`
public struct ScoreCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "score", abstract: "Score replay results against simulated ground truth.")

    @Option(help: "truth.ndjson from `guarantor simulate`.")
    var truth: String

    @Option(help: "The output directory of `guarantor replay` (incidents.ndjson, violations.ndjson).")
    var results: String

    @Flag(help: "Print the figures as one JSON object.")
    var json = false

    public init() {}

    public func run() throws {
        func read(_ path: String) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
            return [UInt8](data)
        }
        do {
            let score = try Score.compute(
                truth: read(truth), incidents: read(results + "/incidents.ndjson"),
                violations: read(results + "/violations.ndjson"),
                alerts: FileManager.default.contents(atPath: results + "/alerts.ndjson").map { [UInt8]($0) })
            print(json ? score.json.prettyPrinted : score.text)
        } catch let error as FieldError {
            throw CLIError("malformed input: \(error)")
        } catch let error as JSONParseError {
            throw CLIError("malformed input: \(error)")
        }
    }
}
