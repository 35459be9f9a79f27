import Foundation

/// One input of the engines as a log holds it, in log order.
public enum LogRecord: Sendable {
    case observation(Observation)
    case action(MissionAction)
}

/// How a record already collected reads under two lines: the log replayed under each (the same engine, the same
/// actions, in log order), and every observation, incident and finding compared by id.
///
/// The correlator never reads the line, so the incidents are the same groups under both; what changes is where they
/// lie (side, zones), whether a rule makes them a violation, and to whom a violation is attributed.
public struct RecordComparison: Sendable {
    /// What changed for one kind of record (observations or incidents): how many were compared, how many lie on
    /// another party's side (by the party they pass to), and how many enter or leave each zone.
    public struct Placement: Sendable, Equatable {
        public var compared = 0
        /// By party index.
        public var sideChangedTo: [Int]
        /// By zone index (agreement.zones, narrowest first).
        public var entering: [Int]
        public var leaving: [Int]

        init(parties: Int, zones: Int) {
            sideChangedTo = Array(repeating: 0, count: parties)
            entering = Array(repeating: 0, count: zones)
            leaving = Array(repeating: 0, count: zones)
        }

        mutating func add(_ a: Classification, _ b: Classification) {
            add(party: (a.party, b.party), zones: (a.zones, b.zones))
        }

        mutating func add(party: (a: Int, b: Int), zones: (a: UInt64, b: UInt64)) {
            compared += 1
            if party.a != party.b { sideChangedTo[party.b] += 1 }
            guard zones.a != zones.b else { return }
            for z in entering.indices {
                let bit: UInt64 = 1 << UInt64(z)
                if zones.a & bit == 0 && zones.b & bit != 0 { entering[z] += 1 }
                if zones.a & bit != 0 && zones.b & bit == 0 { leaving[z] += 1 }
            }
        }
    }

    /// What changed for the findings of one rule.
    public struct RuleChange: Sendable, Equatable {
        public var underA = 0
        public var underB = 0
        /// Findings under one line and not the other.
        public var onlyUnderA = 0
        public var onlyUnderB = 0
        /// Findings under both lines attributed to different parties (or to a party under one and `unattributed` under
        /// the other).
        public var attributionChanged = 0
    }

    public let observations: Placement
    /// Incidents under both lines (the same groups); `unmatched` counts those found under one line only.
    public let incidents: Placement
    public let unmatchedIncidents: Int
    /// By rule id, sorted.
    public let rules: [(rule: String, change: RuleChange)]
    /// Findings attributed to each party (and `unattributed`) under A and under B.
    public let attributedTo: [(party: String, underA: Int, underB: Int)]

    /// Replays the log under each line (two engines, side by side on two threads) and compares the results.
    /// - Parameters:
    ///   - actions: every action of the log (the engine pins the incidents they name before it starts).
    ///   - records: reads the log in order, calling its argument once per record; it is called once for each line (0
    ///     for A, 1 for B), from that line's thread, so the log is streamed rather than held. A thrown error ends the
    ///     comparison.
    ///   - readable: which observations enter (a reader's view); actions always do.
    public init(
        a: Mission, b: Mission, actions: [MissionAction],
        records: @Sendable (_ line: Int, (LogRecord) -> Void) throws -> Void,
        readable: @escaping @Sendable (Observation) -> Bool = { _ in true }
    ) throws {
        let runs = try Self.replayBoth([a, b], actions: actions, records: records, readable: readable)
        self.init(a: a, ra: runs[0], rb: runs[1])
    }

    /// Replays `records` under each line and compares the results.
    public init(a: Mission, b: Mission, records: [LogRecord]) {
        let actions = records.compactMap { r -> MissionAction? in
            if case .action(let a) = r { return a }
            return nil
        }
        // Reading an array throws nothing.
        self = try! RecordComparison(a: a, b: b, actions: actions) { _, body in records.forEach(body) }
    }

    private init(a: Mission, ra: Run, rb: Run) {
        let parties = a.agreement.parties.count, zones = a.agreement.zones.count
        var observations = Placement(parties: parties, zones: zones)
        for (ca, cb) in zip(ra.classifications, rb.classifications) {
            observations.add(party: (Int(ca.party), Int(cb.party)), zones: (ca.zones, cb.zones))
        }
        self.observations = observations

        var incidents = Placement(parties: parties, zones: zones)
        var underB: [String: Classification] = [:]
        for i in rb.results.incidents { underB[i.id] = i.classification }
        var matched = 0
        for i in ra.results.incidents {
            guard let cb = underB[i.id] else { continue }
            incidents.add(i.classification, cb)
            matched += 1
        }
        self.incidents = incidents
        unmatchedIncidents = ra.results.incidents.count + rb.results.incidents.count - 2 * matched

        var byRule: [String: RuleChange] = [:]
        var findingsB: [String: Violation] = [:]
        for v in rb.results.violations { findingsB[v.id] = v }
        var tallyA: [String: Int] = [:], tallyB: [String: Int] = [:]
        for v in ra.results.violations {
            byRule[v.rule, default: RuleChange()].underA += 1
            tallyA[v.attributedTo, default: 0] += 1
            if let w = findingsB[v.id] {
                if w.attributedTo != v.attributedTo { byRule[v.rule, default: RuleChange()].attributionChanged += 1 }
                findingsB[v.id] = nil
            } else {
                byRule[v.rule, default: RuleChange()].onlyUnderA += 1
            }
        }
        for v in rb.results.violations {
            byRule[v.rule, default: RuleChange()].underB += 1
            tallyB[v.attributedTo, default: 0] += 1
        }
        for v in findingsB.values { byRule[v.rule, default: RuleChange()].onlyUnderB += 1 }
        rules = byRule.keys.sorted().map { ($0, byRule[$0]!) }
        attributedTo = (a.agreement.parties.map(\.id) + ["unattributed"]).map {
            ($0, tallyA[$0] ?? 0, tallyB[$0] ?? 0)
        }
    }

    /// One line's replay: every observation's place (side and zones), in order, and the results.
    private struct Run: Sendable {
        var classifications: [Placed] = []
        var results = VerificationResults(incidents: [], violations: [], actions: [], impediments: [])
    }

    /// What ``Placement`` compares of an observation's classification.
    private struct Placed: Sendable {
        var party: Int32
        var zones: UInt64
    }

    /// Replays the log under each mission, one thread each, each reading it from `records`.
    private static func replayBoth(
        _ missions: [Mission], actions: [MissionAction],
        records: @Sendable (_ line: Int, (LogRecord) -> Void) throws -> Void,
        readable: @escaping @Sendable (Observation) -> Bool
    ) throws -> [Run] {
        let box = RunBox(count: missions.count)
        DispatchQueue.concurrentPerform(iterations: missions.count) { i in
            var run = Run()
            var engine = MissionEngine(mission: missions[i], options: Replay.options(pinning: actions))
            do {
                try records(i) { record in
                    switch record {
                    case .observation(let o):
                        guard readable(o) else { return }
                        let c = engine.add(o)
                        run.classifications.append(Placed(party: Int32(c.party), zones: c.zones))
                    case .action(let a): engine.add(a)
                    }
                }
            } catch {
                box.fail(error)
                return
            }
            engine.finish()
            // Drained once, at the end. On the 1,082,783-observation log (docs/FORMATS.md), streaming it on both
            // threads took 415 s and 1.92 GB; draining every 4,096 records too, 520 s; reading it into memory once
            // first, 542 s and 2.29 GB.
            var fold = ResultFold(standingFindings: engine.standingFindings)
            fold.apply(engine.takeChanges())
            run.results = fold.verification
            box.set(i, run)
        }
        return try box.runs()
    }

    /// The runs of the two threads, each written once, or the first error either met.
    private final class RunBox: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [Run]
        private var error: Error?
        init(count: Int) { slots = Array(repeating: Run(), count: count) }
        func set(_ i: Int, _ run: Run) { lock.withLock { slots[i] = run } }
        func fail(_ e: Error) { lock.withLock { error = error ?? e } }
        func runs() throws -> [Run] {
            try lock.withLock {
                if let error { throw error }
                return slots
            }
        }
    }

    // MARK: summary.json

    /// The `record` member of summary.json.
    public func summary(mission: Mission) -> JSONValue {
        let parties = mission.agreement.parties.map(\.id), zones = mission.agreement.zones.map(\.id)
        func placement(_ p: Placement) -> [String: JSONValue] {
            [
                "compared": .number(Double(p.compared)),
                "sideChangedTo": .object(
                    Dictionary(
                        uniqueKeysWithValues: parties.indices.map {
                            (parties[$0], .number(Double(p.sideChangedTo[$0])))
                        })),
                "zones": .object(
                    Dictionary(
                        uniqueKeysWithValues: zones.indices.map {
                            (
                                zones[$0],
                                JSONValue.object([
                                    "entering": .number(Double(p.entering[$0])),
                                    "leaving": .number(Double(p.leaving[$0])),
                                ])
                            )
                        })),
            ]
        }
        var incidentMembers = placement(incidents)
        incidentMembers["unmatched"] = .number(Double(unmatchedIncidents))
        return .object([
            "observations": .object(placement(observations)),
            "incidents": .object(incidentMembers),
            "violations": .object([
                "perRule": .object(
                    Dictionary(
                        uniqueKeysWithValues: rules.map { r in
                            (
                                r.rule,
                                JSONValue.object([
                                    "underA": .number(Double(r.change.underA)),
                                    "underB": .number(Double(r.change.underB)),
                                    "onlyUnderA": .number(Double(r.change.onlyUnderA)),
                                    "onlyUnderB": .number(Double(r.change.onlyUnderB)),
                                    "attributionChanged": .number(Double(r.change.attributionChanged)),
                                ])
                            )
                        })),
                "attributedTo": .object(
                    Dictionary(
                        uniqueKeysWithValues: attributedTo.map {
                            (
                                $0.party,
                                JSONValue.object([
                                    "underA": .number(Double($0.underA)), "underB": .number(Double($0.underB)),
                                ])
                            )
                        })),
            ]),
        ])
    }
}
