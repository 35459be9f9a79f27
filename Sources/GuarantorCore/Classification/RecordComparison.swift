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
            compared += 1
            if a.party != b.party { sideChangedTo[b.party] += 1 }
            guard a.zones != b.zones else { return }
            for z in entering.indices {
                let bit: UInt64 = 1 << UInt64(z)
                if a.zones & bit == 0 && b.zones & bit != 0 { entering[z] += 1 }
                if a.zones & bit != 0 && b.zones & bit == 0 { leaving[z] += 1 }
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

    /// Replays `records` under each line (two engines, side by side on two threads) and compares the results.
    /// - Parameter readable: which observations enter (a reader's view); actions always do.
    public init(a: Mission, b: Mission, records: [LogRecord], readable: (Observation) -> Bool = { _ in true }) {
        let kept = records.filter {
            if case .observation(let o) = $0 { return readable(o) }
            return true
        }
        let runs = Self.replayBoth([a, b], kept)
        let (ra, rb) = (runs[0], runs[1])
        let parties = a.agreement.parties.count, zones = a.agreement.zones.count
        var observations = Placement(parties: parties, zones: zones)
        for (ca, cb) in zip(ra.classifications, rb.classifications) { observations.add(ca, cb) }
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

    /// One line's replay: every observation's classification, in order, and the results.
    private struct Run: Sendable {
        var classifications: [Classification] = []
        var results = VerificationResults(incidents: [], violations: [], actions: [], impediments: [])
    }

    /// Replays the records under each mission, one thread each.
    private static func replayBoth(_ missions: [Mission], _ records: [LogRecord]) -> [Run] {
        let box = RunBox(count: missions.count)
        let actions = records.compactMap { r -> MissionAction? in
            if case .action(let a) = r { return a }
            return nil
        }
        DispatchQueue.concurrentPerform(iterations: missions.count) { i in
            var run = Run()
            var engine = MissionEngine(mission: missions[i], options: Replay.options(pinning: actions))
            for record in records {
                switch record {
                case .observation(let o): run.classifications.append(engine.add(o))
                case .action(let a): engine.add(a)
                }
            }
            engine.finish()
            var fold = ResultFold(standingFindings: engine.standingFindings)
            fold.apply(engine.takeChanges())
            run.results = fold.verification
            box.set(i, run)
        }
        return box.runs
    }

    /// The runs of the two threads, each written once.
    private final class RunBox: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [Run]
        init(count: Int) { slots = Array(repeating: Run(), count: count) }
        func set(_ i: Int, _ run: Run) { lock.withLock { slots[i] = run } }
        var runs: [Run] { lock.withLock { slots } }
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
