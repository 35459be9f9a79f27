import Foundation
import GuarantorCore

/// `guarantor replay` in bounded memory: the engine's changes folded into files as they come.
///
/// observations.ndjson is written as observations arrive. incidents.ndjson and violations.ndjson are written in
/// (start, id) order as incidents become final and the engine's frontier passes them; the few that come out of order
/// (a late report, an incident people's actions name) are held and merged in at the end, with the help of one small
/// key per written incident. Everything is written into a directory beside the output and moved into place only when
/// the whole input was good.
struct StreamingReplay {
    let mission: Mission
    private(set) var engine: MissionEngine
    private let work: URL
    private let observations: BufferedFile
    private var ordered: OrderedUnits
    private var outcomes: [String: (action: ReviewAction, outcome: String)] = [:]
    private var guarantee: GuaranteeResults?
    private var impediments: [ImpedimentCount] = []
    private(set) var observationCount = 0
    private var sinceDrain = 0

    init(mission: Mission, options: MissionEngine.Options, beside out: URL) throws {
        self.mission = mission
        engine = MissionEngine(mission: mission, options: options)
        let parent = out.deletingLastPathComponent()
        work = parent.appendingPathComponent(".\(out.lastPathComponent).partial-\(getpid())")
        try? FileManager.default.removeItem(at: work)
        do {
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        } catch {
            throw CLIError("cannot write to \(parent.path): \(error.localizedDescription)")
        }
        observations = try BufferedFile(path: work.appendingPathComponent("observations.ndjson").path)
        ordered = try OrderedUnits(mission: mission, directory: work, standing: engine.standingFindings)
    }

    /// Feeds one observation and writes its classification.
    mutating func add(_ observation: Observation) {
        let c = engine.add(observation)
        var w = JSONWriter(capacity: 256)
        mission.classificationLine(id: observation.id, c, into: &w)
        w.newline()
        observations.write(w.bytes)
        observationCount += 1
        sinceDrain += 1
        if sinceDrain >= 4_096 { drain() }
    }

    mutating func add(_ action: MissionAction) {
        engine.add(action)
        drain()
    }

    private mutating func drain() {
        sinceDrain = 0
        fold(engine.takeChanges())
        ordered.write(before: engine.frontier)
    }

    private mutating func fold(_ changes: EngineChanges) {
        for change in changes.units {
            switch change {
            case .upsert(let record, let state): ordered.upsert(record, final: state == .sealed)
            case .remove(let id): ordered.remove(id)
            }
        }
        for (action, outcome) in changes.outcomes { outcomes[action.id] = (action, outcome) }
        if let g = changes.guarantee { guarantee = g }
        if let i = changes.impediments { impediments = i }
    }

    /// Abandons the output (the input was refused): nothing is written.
    func discard() { try? FileManager.default.removeItem(at: work) }

    /// What the replay counted.
    struct Summary {
        var observations: Int
        var incidents: Int
        var violations: Int
        var late: Int
        var actions: Int
        var refused: Int
    }

    /// Seals everything, writes every file and moves them into `out`.
    mutating func finish(actions: [MissionAction], into out: URL) throws -> Summary {
        engine.finish()
        fold(engine.takeChanges())
        try observations.close()
        let (incidents, violations) = try ordered.finish()
        // actions.ndjson: every action with its outcome, by (at, id).
        var answered: [(at: Timestamp, id: String, line: [UInt8], applied: Bool)] = []
        for (action, outcome) in outcomes.values {
            var w = JSONWriter()
            action.write(into: &w, outcome: outcome)
            answered.append((action.at, action.id, w.bytes, outcome == "applied"))
        }
        let guaranteeActions = actions.compactMap { a -> GuaranteeAction? in
            if case .guarantee(let g) = a { return g }
            return nil
        }
        for (action, outcome) in guarantee?.actions
            ?? guaranteeActions.map({ ($0, "refused: the mission has no guarantee (coalition.json, triggers.json)") })
        {
            var w = JSONWriter()
            action.write(into: &w, outcome: outcome)
            answered.append((action.at, action.id, w.bytes, outcome == "applied"))
        }
        var actionBytes: [UInt8] = []
        for entry in answered.sorted(by: { ($0.at, $0.id) < ($1.at, $1.id) }) { actionBytes += entry.line + [0x0A] }
        let (alerts, obligations, statements, sanctions) = guarantee.map(Replay.guaranteeFiles) ?? ([], [], [], [])
        let small: [(String, [UInt8])] = [
            ("actions.ndjson", actionBytes), ("impediments.ndjson", Replay.impedimentFile(impediments)),
            ("alerts.ndjson", alerts), ("obligations.ndjson", obligations), ("statements.ndjson", statements),
            ("sanctions.ndjson", sanctions),
        ]
        do {
            for (name, bytes) in small { try Data(bytes).write(to: work.appendingPathComponent(name)) }
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            for name in Replay.fileNames {
                let target = out.appendingPathComponent(name)
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.moveItem(at: work.appendingPathComponent(name), to: target)
            }
            try FileManager.default.removeItem(at: work)
        } catch {
            throw CLIError("cannot write to \(out.path): \(error.localizedDescription)")
        }
        return Summary(
            observations: observationCount, incidents: incidents, violations: violations, late: engine.lateCount,
            actions: answered.count, refused: answered.filter { !$0.applied }.count)
    }
}

/// incidents.ndjson and violations.ndjson written in order as incidents become final.
private struct OrderedUnits {
    let mission: Mission
    private let directory: URL
    private let incidents: BufferedFile
    private let violations: BufferedFile
    /// Final incidents not yet written (the frontier has not passed them), and their keys in a heap.
    private var waitingRecords: [Int: IncidentRecord] = [:]
    private var waiting = MinHeap<Waiting>()
    private var nextWaiting = 0
    /// Incidents that came out of order, or may still change (held), by id; merged in at the end.
    private var outOfOrder: [String: IncidentRecord] = [:]
    /// The key of each incident written, in order, and how many violation lines followed it.
    private var written: [(key: Key, violationBytes: Int32, incidentBytes: Int32)] = []
    private var last: Key?
    private var incidentCount = 0
    private var violationCount: Int
    /// Bytes of the standing findings at the head of the violations file.
    private let standingBytes: Int

    struct Key: Comparable {
        var start: Int64
        var id: UInt64
        static func < (l: Key, r: Key) -> Bool { (l.start, l.id) < (r.start, r.id) }
    }

    struct Waiting: Comparable {
        var key: Key
        var index: Int
        static func < (l: Waiting, r: Waiting) -> Bool { l.key < r.key }
    }

    init(mission: Mission, directory: URL, standing: [Violation]) throws {
        self.mission = mission
        self.directory = directory
        incidents = try BufferedFile(path: directory.appendingPathComponent("incidents.main").path)
        violations = try BufferedFile(path: directory.appendingPathComponent("violations.main").path)
        // Findings that stand from the effective time come before every incident's (no incident before it makes one).
        var w = JSONWriter()
        for v in standing.sorted(by: { $0.id < $1.id }) {
            Replay.violationLine(v, into: &w)
            w.newline()
        }
        violations.write(w.bytes)
        violationCount = standing.count
        standingBytes = w.bytes.count
    }

    private static func key(_ record: IncidentRecord) -> Key {
        Key(start: record.incident.start.nanoseconds, id: IncidentKey.parse(record.incident.id) ?? 0)
    }

    mutating func upsert(_ record: IncidentRecord, final: Bool) {
        let key = Self.key(record)
        if final, last.map({ $0 < key }) ?? true, outOfOrder[record.incident.id] == nil {
            waitingRecords[nextWaiting] = record
            waiting.push(Waiting(key: key, index: nextWaiting))
            nextWaiting += 1
        } else {
            outOfOrder[record.incident.id] = record
        }
    }

    mutating func remove(_ id: String) {
        // Only held incidents are taken back in a replay (the groups its actions name are kept).
        outOfOrder[id] = nil
    }

    /// Writes the final incidents that start before `frontier`.
    mutating func write(before frontier: Timestamp) {
        while let next = waiting.first, next.key.start < frontier.nanoseconds {
            waiting.pop()
            append(waitingRecords.removeValue(forKey: next.index)!, key: next.key)
        }
    }

    private mutating func append(_ record: IncidentRecord, key: Key) {
        var w = JSONWriter(capacity: 512)
        mission.incidentLine(record.incident, into: &w)
        w.newline()
        let incidentBytes = w.bytes.count
        for v in record.findings {
            Replay.violationLine(v, into: &w)
            w.newline()
        }
        w.bytes.withUnsafeBufferPointer { all in
            incidents.write(UnsafeBufferPointer(rebasing: all[0..<incidentBytes]))
            violations.write(UnsafeBufferPointer(rebasing: all[incidentBytes...]))
        }
        written.append((key, Int32(w.bytes.count - incidentBytes), Int32(incidentBytes)))
        last = key
        incidentCount += 1
        violationCount += record.findings.count
    }

    /// Writes what waits, merges in what came out of order, and names the files; returns the counts.
    mutating func finish() throws -> (incidents: Int, violations: Int) {
        while let next = waiting.pop() { append(waitingRecords.removeValue(forKey: next.index)!, key: next.key) }
        try incidents.close()
        try violations.close()
        let main = (
            directory.appendingPathComponent("incidents.main"), directory.appendingPathComponent("violations.main")
        )
        let final = (
            directory.appendingPathComponent("incidents.ndjson"), directory.appendingPathComponent("violations.ndjson")
        )
        guard !outOfOrder.isEmpty else {
            try FileManager.default.moveItem(at: main.0, to: final.0)
            try FileManager.default.moveItem(at: main.1, to: final.1)
            return (incidentCount, violationCount)
        }
        // The merge: the written incidents in order, with the others slotted in by key.
        let extra = outOfOrder.values.map { (Self.key($0), $0) }.sorted { $0.0 < $1.0 }
        let incidentsIn = try BufferedReader(path: main.0.path)
        let violationsIn = try BufferedReader(path: main.1.path)
        let incidentsOut = try BufferedFile(path: final.0.path)
        let violationsOut = try BufferedFile(path: final.1.path)
        try violationsIn.copy(standingBytes, to: violationsOut)
        var next = 0
        func emit(_ record: IncidentRecord) {
            var w = JSONWriter(capacity: 512)
            mission.incidentLine(record.incident, into: &w)
            w.newline()
            incidentsOut.write(w.bytes)
            var v = JSONWriter()
            for finding in record.findings {
                Replay.violationLine(finding, into: &v)
                v.newline()
            }
            violationsOut.write(v.bytes)
        }
        for entry in written {
            while next < extra.count && extra[next].0 < entry.key {
                emit(extra[next].1)
                next += 1
            }
            try incidentsIn.copy(Int(entry.incidentBytes), to: incidentsOut)
            try violationsIn.copy(Int(entry.violationBytes), to: violationsOut)
        }
        while next < extra.count {
            emit(extra[next].1)
            next += 1
        }
        try incidentsOut.close()
        try violationsOut.close()
        try FileManager.default.removeItem(at: main.0)
        try FileManager.default.removeItem(at: main.1)
        return (incidentCount + extra.count, violationCount + extra.reduce(0) { $0 + $1.1.findings.count })
    }
}
