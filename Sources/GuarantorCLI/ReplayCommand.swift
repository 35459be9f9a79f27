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

    @Option(
        help:
            "Replay under a candidate line instead of the agreement's: its id (`guarantor lines list`) or a GeoJSON file."
    )
    var line: String?

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
        var mission = try Files.loadMission(self.mission)
        if let line { mission = try Files.candidate(line, mission: mission, directory: self.mission).mission }
        let outURL = URL(fileURLWithPath: out, isDirectory: true)
        let summary: StreamingReplay.Summary
        if let observations {
            let actions = try self.actions.map(Files.parseActions) ?? []
            summary = try Self.replay(file: observations, actions: actions, mission: mission, to: outURL)
        } else {
            summary = try Self.replay(store: Files.openStore(store!, mission: mission), mission: mission, to: outURL)
        }
        print(
            "\(observations ?? store!): \(summary.observations.grouped) observations → \(summary.incidents.grouped) incidents, "
                + "\(summary.violations.grouped) violations in \(out)/")
        if summary.late > 0 {
            print("  \(summary.late.grouped) arrived later than the allowed lateness: kept as incidents marked late")
        }
        if summary.actions > 0 {
            print("  \(summary.actions.grouped) actions, \(summary.refused.grouped) refused (see actions.ndjson)")
        }
    }

    /// Replays an observations file read in pieces: each line is checked as it is read and the engine fed; a file
    /// with any bad line is refused whole, listing every error, and nothing is written.
    static func replay(file path: String, actions: [MissionAction], mission: Mission, to out: URL) throws
        -> StreamingReplay.Summary
    {
        var replay = try StreamingReplay(mission: mission, options: Replay.options(pinning: actions), beside: out)
        var errors: [LineError] = []
        var totalErrors = 0
        func record(_ error: LineError) {
            totalErrors += 1
            if errors.count < NDJSON.maximumErrors { errors.append(error) }
        }
        // Members' answers, deliveries and clock events go in when the record reaches their time, as they would have
        // arrived: one given after every observation lies before the guarantee's frontier and would make it start
        // again from the agreement's start (same results, much later). People's actions on incidents go in at the end.
        let timed = actions.filter { if case .guarantee = $0 { true } else { false } }
            .sorted { ($0.at, $0.id) < ($1.at, $1.id) }
        var nextTimed = 0
        var firstLineOfId: [String: Int] = [:]
        var lastLine = 0
        var bytes = 0
        let isKnown = mission.sources.contains
        do {
            try LineReader.forEachLine(of: path) { line, number in
                lastLine = number
                bytes += line.count + 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
                if line.count > NDJSON.maximumLineBytes {
                    record(LineError(line: number, field: "", reason: "longer than \(NDJSON.maximumLineBytes) bytes"))
                    return
                }
                do {
                    let o = try ObservationBatch.decode(line, isKnownSource: isKnown)
                    if let first = firstLineOfId.updateValue(number, forKey: o.id) {
                        firstLineOfId[o.id] = first
                        record(
                            LineError(
                                line: number, field: "id", reason: "duplicate id \"\(o.id)\" (first on line \(first))"))
                        return
                    }
                    if totalErrors == 0 {
                        while nextTimed < timed.count && timed[nextTimed].at <= o.observedAt {
                            replay.add(timed[nextTimed])
                            nextTimed += 1
                        }
                        replay.add(o)
                    }
                } catch let error as JSONParseError {
                    record(LineError(line: number, field: "", reason: error.description))
                } catch let error as FieldError {
                    record(LineError(line: number, field: error.path, reason: error.reason))
                }
            }
        } catch {
            replay.discard()
            throw error
        }
        if bytes == 0 && lastLine == 0 {
            record(LineError(line: 0, field: "", reason: "the file is empty (0 bytes)"))
        } else if totalErrors == 0 && replay.observationCount == 0 {
            record(LineError(line: lastLine, field: "", reason: "the file has no observations"))
        }
        guard totalErrors == 0 else {
            replay.discard()
            let rejection = NDJSON.Rejection(errors: errors, totalErrors: totalErrors)
            let count = totalErrors == 1 ? "1 error" : "\(totalErrors) errors"
            throw CLIError("\(path) rejected, \(count), nothing was stored or written:\n\(rejection)")
        }
        for action in timed[nextTimed...] { replay.add(action) }
        for action in actions { if case .review = action { replay.add(action) } }
        return try replay.finish(actions: actions, into: out)
    }

    /// Replays a store's log in log order, reading it as it goes.
    static func replay(store: EventStore, mission: Mission, to out: URL) throws -> StreamingReplay.Summary {
        do {
            let actions = try store.actions()
            var replay = try StreamingReplay(mission: mission, options: Replay.options(pinning: actions), beside: out)
            do {
                try store.forEachRecord { _, record in
                    switch record {
                    case .observation(let o): replay.add(o)
                    case .action(let a): replay.add(a)
                    }
                }
            } catch {
                replay.discard()
                throw error
            }
            return try replay.finish(actions: actions, into: out)
        } catch let error as StoreError {
            throw CLIError("\(error)")
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
