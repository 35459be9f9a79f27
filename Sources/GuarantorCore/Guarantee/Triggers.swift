/// What a level of the escalation ladder obliges members to do.
public enum ResponseKind: String, CaseIterable, Sendable {
    case consultations, jointStatement, sanctionsPackage, intelligenceSurge, logisticsSurge, reinforcement,
        militarySupport
}

/// One response of a level: what, under which pillar, by whom, and how long they have.
public struct Response: Sendable, Equatable {
    public var id: String
    public var kind: ResponseKind
    /// Members with a pledge under this pillar that applies at the level are obliged.
    public var pillar: Pillar
    /// When given, exactly these members are obliged instead.
    public var members: [String]
    public var deadlineHours: Double
}

/// A rung of the escalation ladder.
public struct Level: Sendable, Equatable {
    public var level: Int
    public var name: String
    public var responses: [Response]
}

/// A trigger rule over violations (triggers.json): data, not code.
///
/// It counts the violations that match every filter given (an empty filter matches all) within a sliding window of
/// event time, per sector (or over the whole line) and, with `perParty`, per attributed party; when the count reaches
/// `count`, the scope's level rises to `raisesTo`.
public struct Trigger: Sendable, Equatable {
    public enum Scope: String, Sendable { case sector, line }
    public var id: String
    public var description: String
    public var statuses: [IncidentStatus]
    public var severities: [Severity]
    public var rules: [String]
    public var parties: [String]
    public var sectors: [String]
    public var zones: [String]
    public var count: Int
    public var windowHours: Double
    public var scope: Scope
    public var perParty: Bool
    public var raisesTo: Int

    /// Whether a violation counts towards this trigger.
    public func matches(_ v: Violation) -> Bool {
        (statuses.isEmpty || statuses.contains(v.incidentStatus))
            && (severities.isEmpty || severities.contains(v.severity)) && (rules.isEmpty || rules.contains(v.rule))
            && (parties.isEmpty || parties.contains(v.attributedTo))
            && (sectors.isEmpty || v.sector.map(sectors.contains) == true)
            && (zones.isEmpty || v.zone.map(zones.contains) == true)
            && (!perParty || v.attributedTo != "unattributed")
    }
}

/// triggers.json (DESIGN §3.1): the trigger rules, the tripwire, the escalation ladder, the quiet period that lowers
/// a level again, and the logistics continuity thresholds.
public struct TriggerBook: Sendable, Equatable {
    public var levels: [Level]
    public var triggers: [Trigger]
    /// Fire on, or incursion into, a protected site raises the sector to this level at once.
    public var tripwireLevel: Int
    public var tripwireKinds: [ObservationKind]
    /// A scope with no trigger for this long drops one level.
    public var quietPeriodHours: Double
    /// Logistics: a period delivering less than (1 − this) of the pledge, or no delivery for this many days, alerts.
    public var shortfallFraction: Double
    public var maximumGapDays: Double

    public var highestLevel: Int { levels.last?.level ?? 0 }

    /// Reads and validates triggers.json against the mission: rule, sector, zone, party and member names must exist.
    public init(
        json: JSONValue, rules: [String], sectors: [String], zones: [String], parties: [String], members: [String]
    ) throws {
        let f = try JSONFields(json)
        try f.rejectUnknown(["levels", "triggers", "tripwire", "quietPeriodHours", "continuity"])
        var responseIds: Set<String> = []
        levels = try f.array("levels").enumerated().map { i, value in
            let l = try JSONFields(value, path: "levels[\(i)]")
            try l.rejectUnknown(["level", "name", "responses"])
            let level = try l.integer("level", in: 1...20)
            guard level == i + 1 else {
                throw FieldError(
                    path: l.path("level"), reason: "levels are numbered 1, 2, 3, … in order; expected \(i + 1)")
            }
            let responses = try l.array("responses").enumerated().map { j, value in
                let r = try JSONFields(value, path: l.path("responses[\(j)]"))
                try r.rejectUnknown(["id", "kind", "pillar", "members", "deadlineHours"])
                let id = try r.uniqueId(in: &responseIds, of: "response")
                let deadline = try r.number("deadlineHours")
                guard deadline > 0, deadline <= 24 * 366 else {
                    throw FieldError(
                        path: r.path("deadlineHours"), reason: "must be in 0…8784 hours after the alert (0 excluded)")
                }
                let obliged = try Self.names(r, "members", known: members, what: "member")
                return Response(
                    id: id, kind: try r.enumeration("kind", as: ResponseKind.self),
                    pillar: try r.enumeration("pillar", as: Pillar.self), members: obliged, deadlineHours: deadline)
            }
            return Level(level: level, name: try l.string("name"), responses: responses)
        }
        guard !levels.isEmpty else { throw FieldError(path: "levels", reason: "the ladder needs at least one level") }
        let highest = levels.count
        func level(_ fields: JSONFields, _ key: String) throws -> Int {
            try fields.integer(key, in: 1...highest)
        }
        var triggerIds: Set<String> = []
        triggers = try f.array("triggers").enumerated().map { i, value in
            let t = try JSONFields(value, path: "triggers[\(i)]")
            try t.rejectUnknown([
                "id", "description", "statuses", "severities", "rules", "parties", "sectors", "zones", "count",
                "windowHours", "scope", "perParty", "raisesTo",
            ])
            let id = try t.uniqueId(in: &triggerIds, of: "trigger")
            let window = try t.number("windowHours")
            guard window > 0, window <= 24 * 366 else {
                throw FieldError(path: t.path("windowHours"), reason: "must be in 0…8784 (0 excluded)")
            }
            let scope: Trigger.Scope
            switch try t.optionalString("scope") ?? "sector" {
            case "sector": scope = .sector
            case "line": scope = .line
            case let other: throw FieldError(path: t.path("scope"), reason: "\"\(other)\" is not sector or line")
            }
            return Trigger(
                id: id, description: try t.optionalString("description") ?? "",
                statuses: t.members["statuses"] == nil
                    ? [.verified] : try t.enumerationList("statuses", as: IncidentStatus.self),
                severities: try t.enumerationList("severities", as: Severity.self),
                rules: try Self.names(t, "rules", known: rules, what: "rule"),
                parties: try Self.names(t, "parties", known: parties, what: "party"),
                sectors: try Self.names(t, "sectors", known: sectors, what: "sector"),
                zones: try Self.names(t, "zones", known: zones, what: "zone"),
                count: try t.integer("count", in: 1...100_000),
                windowHours: window, scope: scope, perParty: try t.optionalBool("perParty") ?? false,
                raisesTo: try level(t, "raisesTo"))
        }
        let tripwire = try f.object("tripwire")
        try tripwire.rejectUnknown(["raisesTo", "kinds"])
        tripwireLevel = try level(tripwire, "raisesTo")
        tripwireKinds = try tripwire.enumerationList("kinds", as: ObservationKind.self)
        quietPeriodHours = try f.number("quietPeriodHours")
        guard quietPeriodHours > 0 else { throw FieldError(path: "quietPeriodHours", reason: "must be positive") }
        let continuity = try f.object("continuity")
        try continuity.rejectUnknown(["shortfallFraction", "maximumGapDays"])
        shortfallFraction = try continuity.number("shortfallFraction")
        guard (0...1).contains(shortfallFraction) else {
            throw FieldError(path: continuity.path("shortfallFraction"), reason: "must be in 0…1")
        }
        maximumGapDays = try continuity.number("maximumGapDays")
        guard maximumGapDays > 0 else {
            throw FieldError(path: continuity.path("maximumGapDays"), reason: "must be positive")
        }
    }

    private static func names(_ f: JSONFields, _ key: String, known: [String], what: String) throws -> [String] {
        guard f.members[key] != nil else { return [] }
        return try f.array(key).enumerated().map { i, item in
            guard case .string(let name) = item else {
                throw FieldError(
                    path: f.path("\(key)[\(i)]"), reason: "expected a \(what) name, found \(item.typeName)")
            }
            guard known.contains(name) else {
                let shown =
                    known.count > 12 ? known.prefix(12).joined(separator: ", ") + ", …" : known.joined(separator: ", ")
                throw FieldError(path: f.path("\(key)[\(i)]"), reason: "unknown \(what) \"\(name)\" (\(shown))")
            }
            return name
        }
    }
}
