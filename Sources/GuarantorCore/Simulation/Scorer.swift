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
    /// Matched violations whose event's origin (or side, for sightings) was observed, and those attributed rightly.
    public var attributable: Int
    public var correctlyAttributed: Int
    public var attributionAccuracy: Double {
        attributable == 0 ? 1 : Double(correctlyAttributed) / Double(attributable)
    }

    /// Scores `incidents.ndjson` and `violations.ndjson` against `truth.ndjson`.
    public static func compute(truth: [UInt8], incidents: [UInt8], violations: [UInt8]) throws -> Score {
        var eventOf: [String: String] = [:]  // observation id → event id ("" for a false report)
        var events: [String: (party: String, violations: [String], originObserved: Bool)] = [:]
        for line in try lines(truth) {
            let f = try JSONFields(line)
            switch try f.string("type") {
            case "event":
                let rules = try f.array("violations").compactMap { if case .string(let s) = $0 { s } else { nil } }
                events[try f.string("id")] = (
                    try f.string("party"), rules, f.members["originObserved"] == .bool(true)
                )
            case "observation": eventOf[try f.string("observationId")] = try f.optionalString("eventId") ?? ""
            default: continue
            }
        }
        var incidentOf: [String: String] = [:]
        var membersOf: [String: [String]] = [:]
        for line in try lines(incidents) {
            let f = try JSONFields(line)
            let id = try f.string("id")
            let members = try f.array("observationIds").compactMap { if case .string(let s) = $0 { s } else { nil } }
            membersOf[id] = members
            for m in members { incidentOf[m] = id }
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
        for o in eventOf.keys {
            let l = label(o), c = incidentOf[o] ?? "missing:" + o
            let both = Double(pairCount[c + "\u{1F}" + l]!)
            precision += both / Double(incidentSize[c]!)
            recall += both / Double(truthSize[l]!)
        }
        let n = Double(max(eventOf.count, 1))
        // Verified violations against the real (event, rule) pairs.
        var predicted = 0, matched: Set<String> = [], attributable = 0, attributedRight = 0
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
                if try f.string("attributedTo") == truthEvent.party { attributedRight += 1 }
            }
        }
        let trueViolations = events.values.reduce(0) { $0 + $1.violations.count }
        return Score(
            observations: eventOf.count, bcubedPrecision: precision / n, bcubedRecall: recall / n,
            predictedViolations: predicted, correctViolations: matched.count, trueViolations: trueViolations,
            attributable: attributable, correctlyAttributed: attributedRight)
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
            verified violations:     precision \(pct(violationPrecision)) (\(correctViolations) of \(predictedViolations))  recall \(pct(violationRecall)) (\(correctViolations) of \(trueViolations))
            attribution (observed):  \(pct(attributionAccuracy)) (\(correctlyAttributed) of \(attributable))
            """
    }
}
