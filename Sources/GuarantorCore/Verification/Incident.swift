/// Where an incident stands in review (DESIGN §3.5): reported → corroborated → verified, or disputed or rejected.
public enum IncidentStatus: String, CaseIterable, Sendable {
    case reported, corroborated, verified, disputed, rejected
}

/// Observations of one happening, correlated, graded and located.
public struct Incident: Sendable, Equatable {
    /// `I` and 16 hexadecimal digits derived from the id of its earliest observation: the same on every replay.
    public var id: String
    /// Member observations, by (observedAt, id).
    public var observationIds: [String]
    public var kind: ObservationKind
    public var weaponClass: WeaponClass?
    /// Fused location (inverse-variance weighted) and its uncertainty.
    public var location: Location
    public var start: Timestamp
    public var end: Timestamp
    /// Estimated number of rounds, vehicles or aircraft: the largest count any observation gave (at least 1).
    public var count: Int
    /// Source ids, sorted.
    public var sources: [String]
    /// Independent sources (distinct organisation–kind pairs) excluding party claims, and those of reliable grade.
    public var independentSources: Int
    public var independentReliableSources: Int
    /// Admiralty credibility 1–6, derived from the corroboration (1 = confirmed by independent sources).
    public var credibility: Int
    public var status: IncidentStatus
    /// Where the fused location lies.
    public var classification: Classification
    /// Set when its observations arrived later than the allowed lateness and were not correlated.
    public var late: Bool
    /// For a late incident: when it was received (``Violation/receivedLate(_:)``).
    public var receivedLateAt: Timestamp? = nil
    /// For a late incident: the incident already sealed that it describes, if it matches one. The sealed incident
    /// is not rewritten; this one's findings count toward a trigger only where that incident's did not.
    public var joinsIncidentId: String? = nil
    /// Set for a report two incidents explain about equally, kept as an incident of its own for analysts to place:
    /// the observation ids of the precise reports, one in each of those incidents, nearest to it.
    public var ambiguousBetween: [String]? = nil
    /// The last analyst's action that changed the incident (status, merge or split), if any.
    public var lastReview: ReviewAction? = nil
    /// Event time of the first report from a non-claim source of reliable grade (what a tripwire acts on at once).
    public var credibleAt: Timestamp? = nil
    /// Event time at which it became verified: the report that completed the corroboration, or the analyst's
    /// decision; `nil` unless verified.
    public var verifiedAt: Timestamp? = nil

    public init(
        id: String, observationIds: [String], kind: ObservationKind, weaponClass: WeaponClass?, location: Location,
        start: Timestamp, end: Timestamp, count: Int, sources: [String], independentSources: Int,
        independentReliableSources: Int, credibility: Int, status: IncidentStatus, classification: Classification,
        late: Bool, lastReview: ReviewAction? = nil, credibleAt: Timestamp? = nil, verifiedAt: Timestamp? = nil
    ) {
        self.id = id
        self.observationIds = observationIds
        self.kind = kind
        self.weaponClass = weaponClass
        self.location = location
        self.start = start
        self.end = end
        self.count = count
        self.sources = sources
        self.independentSources = independentSources
        self.independentReliableSources = independentReliableSources
        self.credibility = credibility
        self.status = status
        self.classification = classification
        self.late = late
        self.lastReview = lastReview
        self.credibleAt = credibleAt
        self.verifiedAt = verifiedAt
    }
}

/// A finding: an incident that breaks a rule of the agreement.
public struct Violation: Sendable, Equatable {
    public var id: String
    /// The incident's id; empty for a finding about a party's declarations rather than a happening.
    public var incidentId: String
    public var rule: String
    public var severity: Severity
    /// A party id, or `unattributed`.
    public var attributedTo: String
    /// How the attribution was made: origin, bearings, side, declarations, or none.
    public var attributionBasis: String
    /// The probability that the happening's origin lies on the side of the party the evidence points to (the
    /// attributed party, or for `unattributed` the likelier one); 1 for declarations, `nil` without evidence.
    public var attributionProbability: Double? = nil
    /// The zone the rule concerns, or else the narrowest zone the incident lies in; `nil` outside every zone.
    public var zone: String?
    public var distanceToLineMeters: Double
    public var at: Timestamp
    /// The probability that the incident lies in the rule's zone given its location uncertainty (1 without a zone).
    public var probability: Double
    public var incidentStatus: IncidentStatus
    /// The incident's sector, if it lies in one.
    public var sector: String? = nil
    /// When the incident became verified (``Incident/verifiedAt``).
    public var verifiedAt: Timestamp? = nil
    /// Board members that endorsed the finding, in order; it is endorsed once the board's quorum is reached.
    public var endorsedBy: [String] = []
    public var endorsed = false
    /// Parties' contests, in order: recorded, never deleting the finding.
    public var contests: [ReviewAction] = []
    /// What was found, in words, when the rule alone does not say it (e.g. "declared 40, counted 31").
    public var detail: String? = nil
    /// A finding of a report that came later than the allowed lateness: when it was received (its `receivedAt`, or
    /// when it was filed, or observed). Triggers count it from then on, never before; `nil` for timely findings.
    public var receivedLateAt: Timestamp? = nil
    /// A finding of a late incident that joins one already sealed (``Incident/joinsIncidentId``): that incident.
    public var joinsIncidentId: String? = nil

    /// The incident a finding counts as toward triggers: the sealed incident a late report joins, or its own.
    public var countsAsIncident: String { joinsIncidentId ?? incidentId }

    /// When a late report was received, for a finding of one (the latest of its observations' receipts).
    public static func receivedLate(_ observations: [Observation]) -> Timestamp? {
        observations.map { $0.receivedAt ?? $0.reportedAt ?? $0.observedAt }.max()
    }

    public init(
        id: String, incidentId: String, rule: String, severity: Severity, attributedTo: String,
        attributionBasis: String, zone: String?, distanceToLineMeters: Double, at: Timestamp, probability: Double,
        incidentStatus: IncidentStatus, sector: String? = nil, verifiedAt: Timestamp? = nil, endorsedBy: [String] = [],
        endorsed: Bool = false, contests: [ReviewAction] = [], detail: String? = nil,
        attributionProbability: Double? = nil
    ) {
        self.attributionProbability = attributionProbability
        self.id = id
        self.incidentId = incidentId
        self.rule = rule
        self.severity = severity
        self.attributedTo = attributedTo
        self.attributionBasis = attributionBasis
        self.zone = zone
        self.distanceToLineMeters = distanceToLineMeters
        self.at = at
        self.probability = probability
        self.incidentStatus = incidentStatus
        self.sector = sector
        self.verifiedAt = verifiedAt
        self.endorsedBy = endorsedBy
        self.endorsed = endorsed
        self.contests = contests
        self.detail = detail
    }
}

/// What the engine concludes from everything fed to it so far.
public struct VerificationResults: Sendable {
    /// By (start, id).
    public var incidents: [Incident]
    /// By (at, id).
    public var violations: [Violation]
    /// Every action, in (at, id) order, with `applied` or `refused: why`.
    public var actions: [(action: ReviewAction, outcome: String)]
    /// Impediments to the mission (access denials, restrictions of movement, sensor gaps) that were not rejected,
    /// counted per kind, party and sector, in that order.
    public var impediments: [ImpedimentCount]
}

/// How often the mission was impeded in one way, by one party (or `unattributed`), in one sector.
public struct ImpedimentCount: Sendable, Equatable {
    public var kind: ObservationKind
    public var party: String
    /// A sector name, or `nil` outside every sector.
    public var sector: String?
    public var incidents: Int
    public var observations: Int
}
