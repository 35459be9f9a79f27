/// The results as the fold of an engine's changes, held in memory: what ``Replay/run(mission:batch:actions:progressEvery:progress:)``
/// returns, and what the tests compare.
public struct ResultFold: Sendable {
    /// Incidents with their findings, by incident id.
    public private(set) var records: [String: IncidentRecord] = [:]
    public private(set) var states: [String: UnitState] = [:]
    /// Each review action's outcome, by action id.
    public private(set) var outcomes: [String: (action: ReviewAction, outcome: String)] = [:]
    public private(set) var guarantee: GuaranteeResults?
    public private(set) var impediments: [ImpedimentCount] = []
    /// Findings that stand from the start (parties that declared nothing).
    public let standingFindings: [Violation]

    public init(standingFindings: [Violation]) { self.standingFindings = standingFindings }

    /// Applies changes in order.
    public mutating func apply(_ changes: EngineChanges) {
        for change in changes.units {
            switch change {
            case .upsert(let record, let state):
                records[record.incident.id] = record
                states[record.incident.id] = state
            case .remove(let id):
                records[id] = nil
                states[id] = nil
            }
        }
        for (action, outcome) in changes.outcomes { outcomes[action.id] = (action, outcome) }
        if let g = changes.guarantee { guarantee = g }
        if let i = changes.impediments { impediments = i }
    }

    /// The verification results: incidents by (start, id), violations by (at, id), actions by (at, id).
    public var verification: VerificationResults {
        var incidents: [Incident] = []
        var violations = standingFindings
        incidents.reserveCapacity(records.count)
        for record in records.values {
            incidents.append(record.incident)
            violations += record.findings
        }
        return VerificationResults(
            incidents: VerificationEngine.sorted(incidents) { ($0.start, $0.id) },
            violations: VerificationEngine.sorted(violations) { ($0.at, $0.id) },
            actions: outcomes.values.sorted { ($0.action.at, $0.action.id) < ($1.action.at, $1.action.id) },
            impediments: impediments)
    }
}
