/// A party to the ceasefire; its reference point fixes which side of the line is its own.
public struct Party: Sendable, Equatable {
    public var id: String
    public var name: String
    public var referencePoint: GeoPoint

    public init(id: String, name: String, referencePoint: GeoPoint) {
        self.id = id
        self.name = name
        self.referencePoint = referencePoint
    }
}

/// The board of coalition members that endorses findings: a finding is endorsed once `quorum` different member
/// states of `members` have endorsed it.
public struct Board: Sendable, Equatable {
    public var members: [String]
    public var quorum: Int

    public init(members: [String], quorum: Int) {
        self.members = members
        self.quorum = quorum
    }

    /// The board of `mission init`: five guarantor states, three of which must endorse.
    public static let standard = Board(members: ["US", "UK", "FR", "DE", "PL"], quorum: 3)

    /// Reads agreement.json `board`; a party to the ceasefire cannot sit on it.
    init(json: JSONValue, path: String, parties: [String]) throws {
        let f = try JSONFields(json, path: path)
        try f.rejectUnknown(["members", "quorum"])
        members = try f.array("members").enumerated().map { i, value in
            guard case .string(let s) = value, !s.isEmpty else {
                throw FieldError(path: f.path("members[\(i)]"), reason: "expected a member id")
            }
            guard !parties.contains(s) else {
                throw FieldError(path: f.path("members[\(i)]"), reason: "\(s) is a party and cannot endorse findings")
            }
            return s
        }
        guard !members.isEmpty, Set(members).count == members.count else {
            throw FieldError(path: f.path("members"), reason: "name at least one member, each once")
        }
        quorum = try f.integer("quorum", in: 1...members.count)
    }

    var json: JSONValue {
        .object(["members": .array(members.map { .string($0) }), "quorum": .number(Double(quorum))])
    }
}

/// Activities a zone can prohibit besides weapon classes.
public enum Activity: String, CaseIterable, Sendable {
    case militaryPresence, fire, droneFlight
}

/// A band of the given half-width on both sides of the line, and what it prohibits.
public struct Zone: Sendable, Equatable {
    public var id: String
    /// Distance from the line, metres, on each side.
    public var halfWidthMeters: Double
    public var prohibitedActivities: [Activity]
    public var prohibitedWeaponClasses: [WeaponClass]
}

/// How sectors are defined in agreement.json.
public enum SectorDefinition: Sendable, Equatable {
    /// Stretches along the line of this length.
    case alongLine(stretchMeters: Double)
    /// Named polygons in a GeoJSON file (a path relative to the mission directory).
    case areas(path: String)
}

/// Where the line comes from in agreement.json.
public enum LineDefinition: Sendable, Equatable {
    case inline(JSONValue)
    case file(path: String)
}

/// The ceasefire terms (agreement.json, DESIGN §3.1).
public struct Agreement: Sendable {
    public var id: String
    public var title: String
    public var effectiveAt: Timestamp
    /// Exactly two parties.
    public var parties: [Party]
    public var line: LineDefinition
    public var sectors: SectorDefinition
    /// Zones, narrowest first.
    public var zones: [Zone]
    /// The rules that turn incidents into violations.
    public var rules: [AdjudicationRule]
    /// How observations are correlated and incidents promoted.
    public var verification: VerificationPolicy
    /// Who endorses findings.
    public var board: Board

    /// The default zones of `mission init`, after Minsk II (DESIGN §3.2).
    public static let defaultZones: [Zone] = [
        Zone(
            id: "buffer", halfWidthMeters: 2_000, prohibitedActivities: [.militaryPresence, .fire, .droneFlight],
            prohibitedWeaponClasses: []),
        Zone(
            id: "withdrawal15", halfWidthMeters: 15_000, prohibitedActivities: [],
            prohibitedWeaponClasses: [.tank, .artilleryUnder100mm, .mortarUpTo120mm]),
        Zone(
            id: "withdrawal25", halfWidthMeters: 25_000, prohibitedActivities: [],
            prohibitedWeaponClasses: [.artillery100mmPlus]),
        Zone(id: "withdrawal35", halfWidthMeters: 35_000, prohibitedActivities: [], prohibitedWeaponClasses: [.mlrs]),
        Zone(
            id: "withdrawal70", halfWidthMeters: 70_000, prohibitedActivities: [],
            prohibitedWeaponClasses: [.heavyMlrs, .tacticalMissile]),
    ]

    /// Reads and validates agreement.json.
    /// - Throws: ``FieldError`` naming the JSON path and the reason.
    public init(json: JSONValue) throws {
        let f = try JSONFields(json)
        try f.rejectUnknown([
            "id", "title", "effectiveAt", "parties", "line", "sectors", "zones", "rules", "verification", "board",
        ])
        id = try f.string("id")
        title = try f.string("title")
        effectiveAt = try f.timestamp("effectiveAt")
        let partyValues = try f.array("parties")
        guard partyValues.count == 2 else {
            throw FieldError(path: "parties", reason: "expected exactly two parties, found \(partyValues.count)")
        }
        parties = try partyValues.enumerated().map { i, value in
            let p = try JSONFields(value, path: "parties[\(i)]")
            try p.rejectUnknown(["id", "name", "referencePoint"])
            let id = try p.string("id")
            guard !id.isEmpty else { throw FieldError(path: p.path("id"), reason: "must not be empty") }
            return Party(id: id, name: try p.string("name"), referencePoint: try p.point("referencePoint").0)
        }
        if parties[0].id == parties[1].id {
            throw FieldError(path: "parties[1].id", reason: "duplicate party id \"\(parties[1].id)\"")
        }
        let lineFields = try f.object("line")
        if let path = try lineFields.optionalString("path") {
            try lineFields.rejectUnknown(["path"])
            line = .file(path: path)
        } else {
            _ = try GeoJSON.lineParts(.object(lineFields.members), path: "line")
            line = .inline(.object(lineFields.members))
        }
        let sectorFields = try f.object("sectors")
        try sectorFields.rejectUnknown(["alongLineMeters", "path"])
        if let path = try sectorFields.optionalString("path") {
            sectors = .areas(path: path)
        } else {
            let stretch = try sectorFields.number("alongLineMeters")
            guard stretch >= 1000 else {
                throw FieldError(path: "sectors.alongLineMeters", reason: "must be at least 1000")
            }
            sectors = .alongLine(stretchMeters: stretch)
        }
        var seen: Set<String> = []
        zones = try f.array("zones").enumerated().map { i, value in
            let z = try JSONFields(value, path: "zones[\(i)]")
            try z.rejectUnknown(["id", "halfWidthMeters", "prohibits"])
            let id = try z.uniqueId(in: &seen, of: "zone")
            let width = try z.number("halfWidthMeters")
            guard width > 0, width <= 500_000 else {
                throw FieldError(path: z.path("halfWidthMeters"), reason: "must be in 0…500000 (0 excluded)")
            }
            let prohibits = try z.object("prohibits")
            try prohibits.rejectUnknown(["activities", "weaponClasses"])
            return Zone(
                id: id, halfWidthMeters: width,
                prohibitedActivities: try prohibits.enumerationList("activities", as: Activity.self),
                prohibitedWeaponClasses: try prohibits.enumerationList("weaponClasses", as: WeaponClass.self))
        }
        if zones.count > 64 { throw FieldError(path: "zones", reason: "at most 64 zones") }
        zones.sort { ($0.halfWidthMeters, $0.id) < ($1.halfWidthMeters, $1.id) }
        let zoneIds = zones.map(\.id)
        if f.members["rules"] == nil {
            rules = AdjudicationRule.defaults.filter {
                if case .named(let zone) = $0.zone { return zoneIds.contains(zone) }
                return true
            }
        } else {
            var ruleIds: Set<String> = []
            rules = try f.array("rules").enumerated().map { i, value in
                let rule = try AdjudicationRule(json: value, path: "rules[\(i)]", zones: zoneIds)
                guard ruleIds.insert(rule.id).inserted else {
                    throw FieldError(path: "rules[\(i)].id", reason: "duplicate rule id \"\(rule.id)\"")
                }
                return rule
            }
        }
        verification =
            try f.members["verification"].map { try VerificationPolicy(json: $0, path: "verification") } ?? .standard
        let partyIds = parties.map(\.id)
        board = try f.members["board"].map { try Board(json: $0, path: "board", parties: partyIds) } ?? .standard
    }

    public init(
        id: String, title: String, effectiveAt: Timestamp, parties: [Party], line: LineDefinition,
        sectors: SectorDefinition, zones: [Zone] = Agreement.defaultZones,
        rules: [AdjudicationRule] = AdjudicationRule.defaults, verification: VerificationPolicy = .standard,
        board: Board = .standard
    ) {
        self.board = board
        self.id = id
        self.title = title
        self.effectiveAt = effectiveAt
        self.parties = parties
        self.line = line
        self.sectors = sectors
        self.zones = zones
        self.rules = rules
        self.verification = verification
    }

    /// agreement.json as written by `mission init`: readable, stable member order.
    public var json: JSONValue {
        func point(_ p: GeoPoint) -> JSONValue { .object(["lon": .number(p.lon), "lat": .number(p.lat)]) }
        let lineValue: JSONValue =
            switch line {
            case .inline(let value): value
            case .file(let path): .object(["path": .string(path)])
            }
        let sectorValue: JSONValue =
            switch sectors {
            case .alongLine(let stretch): .object(["alongLineMeters": .number(stretch)])
            case .areas(let path): .object(["path": .string(path)])
            }
        return .object([
            "id": .string(id), "title": .string(title), "effectiveAt": .string(effectiveAt.rfc3339),
            "parties": .array(
                parties.map {
                    .object([
                        "id": .string($0.id), "name": .string($0.name), "referencePoint": point($0.referencePoint),
                    ])
                }),
            "line": lineValue, "sectors": sectorValue,
            "zones": .array(
                zones.map { z in
                    .object([
                        "id": .string(z.id), "halfWidthMeters": .number(z.halfWidthMeters),
                        "prohibits": .object([
                            "activities": .array(z.prohibitedActivities.map { .string($0.rawValue) }),
                            "weaponClasses": .array(z.prohibitedWeaponClasses.map { .string($0.rawValue) }),
                        ]),
                    ])
                }),
            "rules": .array(rules.map(\.json)),
            "verification": verification.json,
            "board": board.json,
        ])
    }
}
