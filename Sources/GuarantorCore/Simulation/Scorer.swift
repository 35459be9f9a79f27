import Foundation

/// Scores replay results against a simulator's ground truth: B-cubed clustering quality, precision and recall of
/// verified violations, and attribution accuracy.
public struct Score: Sendable {
    public var observations: Int
    public var bcubedPrecision: Double
    public var bcubedRecall: Double
    public var bcubedF1: Double { 2 * bcubedPrecision * bcubedRecall / max(bcubedPrecision + bcubedRecall, 1e-12) }
    /// Verified violations found, those that match a real (event, rule), and the real ones.
    public var predictedViolations: Int
    public var correctViolations: Int
    public var trueViolations: Int
    public var violationPrecision: Double {
        predictedViolations == 0 ? 1 : Double(correctViolations) / Double(predictedViolations)
    }
    public var violationRecall: Double { trueViolations == 0 ? 1 : Double(correctViolations) / Double(trueViolations) }
    /// Real (event, rule) pairs whose event the sources saw well enough to verify (truth's `verifiable`), and those
    /// of them found: the engine's share of recall, apart from what no source saw.
    public var verifiableViolations = 0
    public var correctVerifiable = 0
    public var verifiableRecall: Double {
        verifiableViolations == 0 ? 1 : Double(correctVerifiable) / Double(verifiableViolations)
    }
    /// Matched violations whose event's origin (or side, for sightings) was observed, and those attributed rightly,
    /// wrongly (to the other party) or not at all.
    public var attributable: Int
    public var correctlyAttributed: Int
    public var wronglyAttributed = 0
    public var unattributed: Int { attributable - correctlyAttributed - wronglyAttributed }
    public var attributionAccuracy: Double {
        attributable == 0 ? 1 : Double(correctlyAttributed) / Double(attributable)
    }
    /// Per source kind: reports of real events and those in their event's incident — the incident holding most of
    /// the event's reports from sources other than open sources and party claims (all reports when it has none),
    /// ties to the smaller id. Only events with two reports or more.
    public var association: [String: (joined: Int, reports: Int)] = [:]

    /// The share of a source kind's reports joined to their event's incident (1 without reports).
    public func associationRecall(_ kind: String) -> Double {
        guard let a = association[kind], a.reports > 0 else { return 1 }
        return Double(a.joined) / Double(a.reports)
    }
    /// Reports listed as ambiguous (``Incident/ambiguousBetween``), and those of them whose event is one of the two
    /// candidates' (one of the two anchors is a report of the same event): how often the list offers the analyst the
    /// right answer.
    public var ambiguous = 0
    public var ambiguousWithTheirEvent = 0
    /// Trigger and tripwire alerts against the moments ground truth crossed each threshold (nil without alerts).
    public var triggers: TriggerScore?

    /// Scores `incidents.ndjson` and `violations.ndjson` against `truth.ndjson`.
    public static func compute(truth: [UInt8], incidents: [UInt8], violations: [UInt8], alerts: [UInt8]? = nil) throws
        -> Score
    {
        var truthAlerts: [TriggerScore.Firing] = []
        var eventOf: [String: String] = [:]  // observation id → event id ("" for a false report)
        var kindOf: [String: String] = [:]  // observation id → source kind, when truth says
        var events: [String: (party: String, violations: [String], originObserved: Bool, verifiable: Bool)] = [:]
        for line in try lines(truth) {
            let f = try JSONFields(line)
            switch try f.string("type") {
            case "event":
                let rules = try f.array("violations").compactMap { if case .string(let s) = $0 { s } else { nil } }
                events[try f.string("id")] = (
                    try f.string("party"), rules, f.members["originObserved"] == .bool(true),
                    f.members["verifiable"] != .bool(false)
                )
            case "observation":
                let id = try f.string("observationId")
                eventOf[id] = try f.optionalString("eventId") ?? ""
                kindOf[id] = try f.optionalString("sourceKind")
            case "alert":
                var firing = try TriggerScore.Firing(f, time: "at")
                firing.events = Set(
                    try f.array("eventIds").compactMap { if case .string(let s) = $0 { s } else { nil } })
                truthAlerts.append(firing)
            default: continue
            }
        }
        var incidentOf: [String: String] = [:]
        var membersOf: [String: [String]] = [:]
        var ambiguous = 0, ambiguousWithTheirEvent = 0
        for line in try lines(incidents) {
            let f = try JSONFields(line)
            let id = try f.string("id")
            let members = try f.array("observationIds").compactMap { if case .string(let s) = $0 { s } else { nil } }
            membersOf[id] = members
            for m in members { incidentOf[m] = id }
            if let between = try f.optionalStrings("ambiguousBetween"), let report = members.first {
                ambiguous += 1
                let event = eventOf[report] ?? ""
                if !event.isEmpty && between.contains(where: { eventOf[$0] == event }) { ambiguousWithTheirEvent += 1 }
            }
        }
        // B-cubed over every observation; each false report is a truth cluster of its own.
        func label(_ o: String) -> String { let e = eventOf[o] ?? ""; return e.isEmpty ? "false:" + o : e }
        var truthSize: [String: Int] = [:]
        var pairCount: [String: Int] = [:]  // (incident, label) → observations
        var incidentSize: [String: Int] = [:]
        for o in eventOf.keys {
            let l = label(o), c = incidentOf[o] ?? "missing:" + o
            truthSize[l, default: 0] += 1
            incidentSize[c, default: 0] += 1
            pairCount[c + "\u{1F}" + l, default: 0] += 1
        }
        var precision = 0.0, recall = 0.0
        for o in eventOf.keys.sorted() {  // a fixed order: the sums' last digits must not vary between runs
            let l = label(o), c = incidentOf[o] ?? "missing:" + o
            let both = Double(pairCount[c + "\u{1F}" + l]!)
            precision += both / Double(incidentSize[c]!)
            recall += both / Double(truthSize[l]!)
        }
        let n = Double(max(eventOf.count, 1))
        let association = associationByKind(eventOf: eventOf, kindOf: kindOf, incidentOf: incidentOf)
        // Verified violations against the real (event, rule) pairs.
        var predicted = 0, matched: Set<String> = [], attributable = 0, attributedRight = 0, attributedWrong = 0
        for line in try lines(violations) {
            let f = try JSONFields(line)
            // Findings about declarations (no incident) are outside what the simulator models.
            guard try f.string("incidentStatus") == "verified", let incidentId = try f.optionalString("incidentId")
            else { continue }
            predicted += 1
            let rule = try f.string("rule")
            var votes: [String: Int] = [:]
            for m in membersOf[incidentId] ?? [] where !(eventOf[m] ?? "").isEmpty {
                votes[eventOf[m]!, default: 0] += 1
            }
            guard let event = votes.max(by: { ($0.value, $1.key) < ($1.value, $0.key) })?.key,
                let truthEvent = events[event],
                truthEvent.violations.contains(rule), matched.insert(event + "\u{1F}" + rule).inserted
            else { continue }
            if truthEvent.originObserved {
                attributable += 1
                let party = try f.string("attributedTo")
                if party == truthEvent.party {
                    attributedRight += 1
                } else if party != "unattributed" {
                    attributedWrong += 1
                }
            }
        }
        let trueViolations = events.values.reduce(0) { $0 + $1.violations.count }
        let verifiable = events.values.reduce(0) { $0 + ($1.verifiable ? $1.violations.count : 0) }
        let foundVerifiable = matched.filter { events[String($0.prefix { $0 != "\u{1F}" })]?.verifiable == true }.count
        var score = Score(
            observations: eventOf.count, bcubedPrecision: precision / n, bcubedRecall: recall / n,
            predictedViolations: predicted, correctViolations: matched.count, trueViolations: trueViolations,
            verifiableViolations: verifiable, correctVerifiable: foundVerifiable, attributable: attributable,
            correctlyAttributed: attributedRight, wronglyAttributed: attributedWrong, association: association,
            triggers: try alerts.map { bytes in
                let fired = try lines(bytes).map { try JSONFields($0) }.filter {
                    ["trigger", "tripwire"].contains(try $0.string("kind"))
                }.map { f in
                    // The real events behind the alert: its violations' incidents' observations, by majority.
                    var firing = try TriggerScore.Firing(f, time: "firedAt")
                    for case .string(let v) in try f.array("violationIds") {
                        let incident = "I" + v.dropFirst().prefix { $0 != "-" }
                        var votes: [String: Int] = [:]
                        for m in membersOf[incident] ?? [] where !(eventOf[m] ?? "").isEmpty {
                            votes[eventOf[m]!, default: 0] += 1
                        }
                        if let event = votes.max(by: { ($0.value, $1.key) < ($1.value, $0.key) })?.key {
                            firing.events.insert(event)
                            firing.countedViolations += 1
                        }
                    }
                    return firing
                }
                return TriggerScore(truth: truthAlerts, fired: fired)
            })
        score.ambiguous = ambiguous
        score.ambiguousWithTheirEvent = ambiguousWithTheirEvent
        return score
    }

    /// ``association``: per source kind, how many reports of real events lie in their event's incident.
    static func associationByKind(
        eventOf: [String: String], kindOf: [String: String], incidentOf: [String: String]
    ) -> [String: (joined: Int, reports: Int)] {
        var reportsOf: [String: [String]] = [:]
        for (o, e) in eventOf where !e.isEmpty { reportsOf[e, default: []].append(o) }
        var result: [String: (joined: Int, reports: Int)] = [:]
        for (_, reports) in reportsOf where reports.count >= 2 {
            let sensors = reports.filter { !["osint", "partyClaim"].contains(kindOf[$0] ?? "") }
            var votes: [String: Int] = [:]
            for o in sensors.isEmpty ? reports : sensors { votes[incidentOf[o] ?? "missing:" + o, default: 0] += 1 }
            let home = votes.max { ($0.value, $1.key) < ($1.value, $0.key) }!.key
            for o in reports {
                let kind = kindOf[o] ?? "unknown"
                result[kind, default: (0, 0)].reports += 1
                if incidentOf[o] == home { result[kind, default: (0, 0)].joined += 1 }
            }
        }
        return result
    }

    static func lines(_ bytes: [UInt8]) throws -> [JSONValue] {
        try bytes.split(separator: 0x0A).map { try JSONValue.parse($0) }
    }

    /// A readable report.
    public var text: String {
        func pct(_ x: Double) -> String { String(format: "%.3f", x) }
        return """
            observations scored:     \(observations)
            clustering (B-cubed):    precision \(pct(bcubedPrecision))  recall \(pct(bcubedRecall))  F1 \(pct(bcubedF1))
            verified violations:     precision \(pct(violationPrecision)) (\(correctViolations) of \(predictedViolations))  recall \(pct(violationRecall)) (\(correctViolations) of \(trueViolations)), of the verifiable \(pct(verifiableRecall)) (\(correctVerifiable) of \(verifiableViolations))
            attribution (observed):  \(pct(attributionAccuracy)) (\(correctlyAttributed) of \(attributable))  wrong \(wronglyAttributed)  unattributed \(unattributed)
            association by kind:     \(associationText)
            ambiguous, listed:       \(ambiguous) reports, \(ambiguousWithTheirEvent) of them with their event among the two
            """ + (triggers.map { "\n" + $0.text } ?? "")
    }

    /// `kind recall (joined/reports)` per source kind, by name.
    var associationText: String {
        association.keys.sorted().map { k in
            "\(k) \(String(format: "%.3f", associationRecall(k))) (\(association[k]!.joined)/\(association[k]!.reports))"
        }.joined(separator: "  ")
    }

    /// The figures as one JSON object (`guarantor score --json`), for scripts.
    public var json: JSONValue {
        var triggerFields: [String: JSONValue] = [:]
        if let t = triggers {
            triggerFields = [
                "trueFirings": .number(Double(t.truthFirings)), "alerts": .number(Double(t.alerts)),
                "onTime": .number(Double(t.onTime)), "missed": .number(Double(t.missed)),
                "spurious": .number(Double(t.spurious)), "countedTwice": .number(Double(t.countedTwice)),
            ]
        }
        return .object([
            "observations": .number(Double(observations)),
            "bcubed": .object([
                "precision": .number(bcubedPrecision), "recall": .number(bcubedRecall), "f1": .number(bcubedF1),
            ]),
            "violations": .object([
                "predicted": .number(Double(predictedViolations)), "correct": .number(Double(correctViolations)),
                "true": .number(Double(trueViolations)), "precision": .number(violationPrecision),
                "recall": .number(violationRecall),
                "verifiable": .number(Double(verifiableViolations)),
                "correctVerifiable": .number(Double(correctVerifiable)),
                "verifiableRecall": .number(verifiableRecall),
            ]),
            "attribution": .object([
                "attributable": .number(Double(attributable)), "right": .number(Double(correctlyAttributed)),
                "wrong": .number(Double(wronglyAttributed)), "unattributed": .number(Double(unattributed)),
            ]),
            "association": .object(
                association.mapValues {
                    .object(["joined": .number(Double($0.joined)), "reports": .number(Double($0.reports))])
                }),
            "ambiguous": .object([
                "listed": .number(Double(ambiguous)), "withTheirEvent": .number(Double(ambiguousWithTheirEvent)),
            ]),
            "triggers": .object(triggerFields),
        ])
    }
}

/// Trigger alerts against ground truth: each true firing (the moment the condition truly became true) is matched to
/// an alert of the same trigger, sector, party and site within a day that counted some of the same real events (the
/// one sharing most, then the nearest in time); the rest are missed or spurious.
public struct TriggerScore: Sendable {
    /// One firing: which trigger, where, against whom, when.
    public struct Firing: Sendable {
        var key: String
        var at: Timestamp
        /// The ground-truth events whose violations it counted, and how many of its violations came from one.
        var events: Set<String> = []
        var countedViolations = 0

        init(_ f: JSONFields, time: String) throws {
            let parts = try [f.string("triggerId"), f.optionalString("sector") ?? "", f.optionalString("party") ?? ""]
            // A tripwire counts once per strike: its provisional alert and the confirmation share the site and time.
            key = parts.joined(separator: "|") + "|" + (try f.optionalString("site") ?? "")
            at = try f.timestamp(time)
        }
    }

    /// Within this much of the true moment an alert is on time; fired earlier it is early, later it is late.
    public static let toleranceSeconds = 3_600.0
    /// Alerts further than this from every true firing of their key are spurious (and the firing missed).
    public static let matchWindowSeconds = 86_400.0

    public var truthFirings: Int
    public var alerts: Int
    public var onTime: Int
    public var early: Int
    public var late: Int
    public var missed: Int
    public var spurious: Int
    /// Seconds from each true tripwire moment to its first alert.
    public var tripwireDelays: [Double]
    /// Per trigger id: [true firings, on time, early, late, missed, spurious].
    public var byTrigger: [String: [Int]] = [:]
    /// Violations counted by trigger alerts beyond one per real event: a happening counted twice (0 when every
    /// happening counts once).
    public var countedTwice: Int

    init(truth: [Firing], fired: [Firing]) {
        // Tripwire: the provisional alert and its confirmation are one firing; keep the first per key and day.
        var firings: [Firing] = []
        for f in fired.sorted(by: { ($0.at, $0.key) < ($1.at, $1.key) }) {
            if f.key.hasPrefix("tripwire|"),
                firings.contains(where: {
                    $0.key == f.key && Double(f.at.nanoseconds - $0.at.nanoseconds) / 1e9 < Self.matchWindowSeconds
                })
            {
                continue
            }
            firings.append(f)
        }
        truthFirings = truth.count
        alerts = firings.count
        countedTwice = firings.filter { !$0.key.hasPrefix("tripwire|") }.reduce(0) {
            $0 + $1.countedViolations - $1.events.count
        }
        var used = Set<Int>()
        var onTime = 0, early = 0, late = 0, missed = 0
        var delays: [Double] = []
        var byTrigger: [String: [Int]] = [:]
        func tally(_ key: String, _ column: Int) {
            byTrigger[String(key.prefix { $0 != "|" }), default: [0, 0, 0, 0, 0, 0]][column] += 1
        }
        for t in truth.sorted(by: { ($0.at, $0.key) < ($1.at, $1.key) }) {
            tally(t.key, 0)
            let candidates = firings.indices.filter {
                !used.contains($0) && firings[$0].key == t.key && !firings[$0].events.isDisjoint(with: t.events)
                    && abs(Double(firings[$0].at.nanoseconds - t.at.nanoseconds)) / 1e9 <= Self.matchWindowSeconds
            }
            func rank(_ i: Int) -> (Int, Int64) {
                (-firings[i].events.intersection(t.events).count, abs(firings[i].at.nanoseconds - t.at.nanoseconds))
            }
            guard let best = candidates.min(by: { rank($0) < rank($1) }) else {
                missed += 1
                tally(t.key, 4)
                continue
            }
            used.insert(best)
            let delay = Double(firings[best].at.nanoseconds - t.at.nanoseconds) / 1e9
            if t.key.hasPrefix("tripwire|") { delays.append(delay) }
            if delay < -Self.toleranceSeconds {
                early += 1
                tally(t.key, 2)
            } else if delay > Self.toleranceSeconds {
                late += 1
                tally(t.key, 3)
            } else {
                onTime += 1
                tally(t.key, 1)
            }
        }
        self.onTime = onTime
        self.early = early
        self.late = late
        self.missed = missed
        spurious = firings.count - used.count
        for i in firings.indices where !used.contains(i) { tally(firings[i].key, 5) }
        self.byTrigger = byTrigger
        tripwireDelays = delays
    }

    public var text: String {
        var s =
            "triggers:                \(truthFirings) true firings, \(alerts) alerts: \(onTime) on time (±1 h), \(early) early, \(late) late, \(missed) missed, \(spurious) spurious"
        s += "\ncounted twice:           \(countedTwice) violations of a real event another of the same alert counted"
        for (trigger, n) in byTrigger.sorted(by: { $0.key < $1.key }) {
            s +=
                "\n  \(trigger): \(n[0]) true, \(n[1]) on time, \(n[2]) early, \(n[3]) late, \(n[4]) missed, \(n[5]) spurious"
        }
        if let worst = tripwireDelays.max() {
            s +=
                "\ntripwire:                \(tripwireDelays.count) strikes, alert at most \(String(format: "%.0f", worst)) s after the strike"
        }
        return s
    }
}
