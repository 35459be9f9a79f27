/// How far a published incident may still change.
public enum UnitState: String, Sendable {
    /// Its group is open: a timely observation may still join it.
    case open
    /// Final: no observation can join it, and no action has named it (a later action may still name it).
    case sealed
    /// No observation can join it, but people's actions name it (or a replay knows they will): it changes only
    /// through actions.
    case held
}

/// What changed in the results since the last ``MissionEngine/takeChanges()``: the fold of every change, in order,
/// is the results.
public struct EngineChanges: Sendable {
    public enum Change: Sendable {
        /// An incident with its findings, new or changed (keyed by the incident's id).
        case upsert(IncidentRecord, UnitState)
        /// An incident that no longer stands (merged, renamed because an earlier report joined, split apart).
        case remove(String)
    }

    public var units: [Change] = []
    /// People's actions on incidents and findings whose outcome is new or changed.
    public var outcomes: [(action: ReviewAction, outcome: String)] = []
    /// The guarantee as it now stands, when it may have changed.
    public var guarantee: GuaranteeResults?
    /// The impediment counts as they now stand, when they changed (by kind, party and sector).
    public var impediments: [ImpedimentCount]?

    public init() {}

    public var isEmpty: Bool { units.isEmpty && outcomes.isEmpty && guarantee == nil && impediments == nil }
}
