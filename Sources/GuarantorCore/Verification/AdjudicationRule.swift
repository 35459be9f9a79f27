/// How grave a violation is.
public enum Severity: String, CaseIterable, Sendable, Comparable {
    case minor, serious, grave

    public static func < (l: Severity, r: Severity) -> Bool {
        allCases.firstIndex(of: l)! < allCases.firstIndex(of: r)!
    }
}

/// A rule of the agreement that makes an incident a violation (agreement.json `rules`): data, not code.
///
/// An incident matches when it happened at or after the agreement's effective time, its kind is one of `kinds`,
/// its weapon class is one of `weaponClasses` (when given), and it lies in the rule's zone (when given): a named
/// zone, or `"ofWeaponClass"`, the narrowest zone that prohibits the incident's weapon class.
public struct AdjudicationRule: Sendable, Equatable {
    public enum ZoneCondition: Sendable, Equatable {
        case named(String)
        case ofWeaponClass
    }

    public var id: String
    public var description: String
    public var severity: Severity
    public var kinds: [ObservationKind]
    public var weaponClasses: [WeaponClass]
    public var zone: ZoneCondition?

    public init(
        id: String, description: String, severity: Severity, kinds: [ObservationKind],
        weaponClasses: [WeaponClass] = [], zone: ZoneCondition? = nil
    ) {
        self.id = id
        self.description = description
        self.severity = severity
        self.kinds = kinds
        self.weaponClasses = weaponClasses
        self.zone = zone
    }

    /// The rules of `mission init`, after the Minsk-II package.
    public static let defaults: [AdjudicationRule] = [
        AdjudicationRule(
            id: "mlrsFire", description: "Fire by multiple-launch rocket systems after the ceasefire took effect",
            severity: .grave, kinds: [.mlrsFire]),
        AdjudicationRule(
            id: "artilleryFire", description: "Artillery or mortar fire after the ceasefire took effect",
            severity: .serious, kinds: [.artilleryFire, .mortarFire]),
        AdjudicationRule(
            id: "lightFire", description: "Small-arms fire or explosions after the ceasefire took effect",
            severity: .minor, kinds: [.smallArmsFire, .explosion]),
        AdjudicationRule(
            id: "heavyWeaponInWithdrawalZone",
            description: "A heavy weapon inside the withdrawal zone of its class, on either side",
            severity: .serious, kinds: [.heavyWeaponSighting, .armourMovement], zone: .ofWeaponClass),
        AdjudicationRule(
            id: "militaryPresenceInBuffer", description: "Troops or heavy weapons inside the buffer zone",
            severity: .serious, kinds: [.troopMovement, .heavyWeaponSighting, .armourMovement], zone: .named("buffer")),
        AdjudicationRule(
            id: "incursion", description: "An incursion across the line", severity: .grave, kinds: [.incursion]),
        AdjudicationRule(
            id: "impedingTheMission", description: "Monitors denied access or restricted in their movement",
            severity: .minor, kinds: [.accessDenial, .restrictionOfMovement]),
        AdjudicationRule(
            id: "droneInBuffer", description: "A drone flight inside the buffer zone", severity: .minor,
            kinds: [.droneFlight], zone: .named("buffer")),
    ]

    /// Reads one rule; `zones` are the agreement's zone ids.
    public init(json: JSONValue, path: String, zones: [String]) throws {
        let f = try JSONFields(json, path: path)
        try f.rejectUnknown(["id", "description", "severity", "kinds", "weaponClasses", "zone"])
        id = try f.string("id")
        guard !id.isEmpty else { throw FieldError(path: f.path("id"), reason: "must not be empty") }
        description = try f.optionalString("description") ?? ""
        severity = try f.enumeration("severity", as: Severity.self)
        kinds = try f.enumerationList("kinds", as: ObservationKind.self)
        guard !kinds.isEmpty else { throw FieldError(path: f.path("kinds"), reason: "name at least one kind") }
        weaponClasses = try f.enumerationList("weaponClasses", as: WeaponClass.self)
        switch try f.optionalString("zone") {
        case nil: zone = nil
        case "ofWeaponClass": zone = .ofWeaponClass
        case let name?:
            guard zones.contains(name) else {
                throw FieldError(
                    path: f.path("zone"), reason: "unknown zone \"\(name)\" (zones: \(zones.joined(separator: ", ")))")
            }
            zone = .named(name)
        }
    }

    /// The rule as written into agreement.json.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "id": .string(id), "description": .string(description), "severity": .string(severity.rawValue),
            "kinds": .array(kinds.map { .string($0.rawValue) }),
        ]
        if !weaponClasses.isEmpty { members["weaponClasses"] = .array(weaponClasses.map { .string($0.rawValue) }) }
        switch zone {
        case .named(let name): members["zone"] = .string(name)
        case .ofWeaponClass: members["zone"] = .string("ofWeaponClass")
        case nil: break
        }
        return .object(members)
    }
}
