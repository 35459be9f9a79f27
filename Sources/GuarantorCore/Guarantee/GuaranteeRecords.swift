/// Something the guarantee engine raises: a trigger or the tripwire firing, a level lowered after a quiet period, an
/// obligation past its deadline, or a break in a logistics flow.
public struct Alert: Sendable, Equatable {
    public enum Kind: String, Sendable { case trigger, tripwire, deescalation, overdue, continuity, unpledged }
    public var id: String
    public var kind: Kind
    /// The trigger's id, or `tripwire`, `quietPeriod`, `overdue`, `continuity`, `unpledged`.
    public var triggerId: String
    /// The scope's level after the alert.
    public var level: Int
    /// Event time at which the condition became true.
    public var firedAt: Timestamp
    /// The sector, or `nil` for the whole line (or a member's alert).
    public var sector: String?
    public var violationIds: [String]
    /// A tripwire alert raised on a credible report before verification.
    public var provisional: Bool
    /// The party the counted violations were attributed to (triggers counted per party).
    public var party: String? = nil
    /// overdue, continuity: the member concerned, and the obligation or pledge.
    public var member: String? = nil
    public var obligationId: String? = nil
    public var pledgeId: String? = nil
    /// tripwire: the protected site.
    public var site: String? = nil
    public var detail: String

    /// The board's alert that a level calls for a response no member pledged to deliver (raised with the alert that
    /// reached the level).
    public static func unpledged(_ response: Response, level: Level, cause alert: Alert) -> Alert {
        Alert(
            id: "A" + EventChain.digestPrefix(Array("unpledged|\(alert.id)|\(response.id)".utf8)), kind: .unpledged,
            triggerId: "unpledged", level: level.level, firedAt: alert.firedAt, sector: alert.sector,
            violationIds: [], provisional: false,
            detail:
                "no member pledged \(response.kind.rawValue) (\(response.pillar.rawValue)) for level \(level.level) "
                + "(\(level.name)), called for by alert \(alert.id)")
    }
}

/// What one alert obliges one member to do, by when, and what became of it.
public struct Obligation: Sendable, Equatable {
    public enum Status: String, Sendable { case open, acknowledged, fulfilled, declined, overdue }
    public var id: String
    public var alertId: String
    public var member: String
    public var responseId: String
    public var kind: ResponseKind
    public var pillar: Pillar
    public var level: Int
    public var sector: String?
    public var createdAt: Timestamp
    public var deadline: Timestamp
    public var status: Status
    /// When the status last changed.
    public var statusAt: Timestamp
    public var acknowledgedAt: Timestamp? = nil
    public var reference: String? = nil
    public var reason: String? = nil
    /// Fulfilled after the deadline.
    public var late = false
}

/// A joint statement drafted from verified facts when a level obliges one; members sign on by fulfilling their
/// obligation, or decline.
public struct Statement: Sendable, Equatable {
    public var id: String
    public var alertId: String
    public var sector: String?
    public var draftedAt: Timestamp
    /// The members asked to sign.
    public var members: [String]
    public var markdown: String
    /// The verified findings the text states (a reader sees the text only if it may read every one).
    public var violationIds: [String] = []
    public var signedBy: [String]
    public var declinedBy: [String]
}

/// A sanctions package activated or lifted, and the alert that caused it.
public struct SanctionsEvent: Sendable, Equatable {
    public var package: String
    public var activated: Bool
    public var at: Timestamp
    public var alertId: String
}

/// What the guarantee engine concludes, as of its clock.
public struct GuaranteeResults: Sendable {
    /// By (firedAt, id).
    public var alerts: [Alert]
    /// By (createdAt, id).
    public var obligations: [Obligation]
    public var statements: [Statement]
    public var sanctions: [SanctionsEvent]
    /// Level per scope (a sector name, or `line`), as of the clock; scopes never raised are absent.
    public var levels: [String: Int]
    /// Every guarantee action with `applied` or `refused: why`, by (at, id).
    public var actions: [(action: GuaranteeAction, outcome: String)]
    /// Deliveries per logistics pledge, in all.
    public var delivered: [String: Double]
    /// The event time everything is reckoned at: the latest observation or clock event.
    public var clock: Timestamp
}
