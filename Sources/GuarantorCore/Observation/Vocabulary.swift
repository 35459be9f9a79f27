/// What an observation reports (DESIGN §3.2), plus the mission's own impediments: access denied to monitors,
/// restrictions of their movement, and gaps in sensor coverage (jamming, outages), so that silence is never
/// mistaken for compliance.
public enum ObservationKind: String, CaseIterable, Sendable, Codable {
    case explosion, artilleryFire, mortarFire, mlrsFire, smallArmsFire, heavyWeaponSighting, armourMovement,
        troopMovement, droneFlight, incursion, casualty, infrastructureDamage
    case accessDenial, restrictionOfMovement, sensorGap
    /// Inspectors' count of one weapon class at a declared storage site (`weaponClass`, `count`, which may be 0).
    case siteInspection

    /// Kinds that can describe the same happening; only observations of one group are correlated together.
    public var group: KindGroup {
        switch self {
        case .explosion, .artilleryFire, .mortarFire, .mlrsFire, .smallArmsFire: .fire
        case .heavyWeaponSighting, .armourMovement: .heavyWeapons
        case .troopMovement: .troops
        case .droneFlight: .drone
        case .incursion: .incursion
        case .casualty, .infrastructureDamage: .effects
        case .accessDenial, .restrictionOfMovement, .sensorGap: .impediment
        case .siteInspection: .inspection
        }
    }
}

/// Families of observation kinds that are correlated together.
public enum KindGroup: String, CaseIterable, Sendable {
    case fire, heavyWeapons, troops, drone, incursion, effects, impediment, inspection
}

/// Weapon classes, matching the withdrawal zones of the agreement.
public enum WeaponClass: String, CaseIterable, Sendable, Codable {
    case smallArms, mortarUpTo120mm, artilleryUnder100mm, tank, artillery100mmPlus, mlrs, heavyMlrs, tacticalMissile,
        uav
}

/// Traffic Light Protocol 2.0 markings, from least to most restricted.
public enum TLP: String, CaseIterable, Sendable, Codable, Comparable {
    case clear = "CLEAR", green = "GREEN", amber = "AMBER", amberStrict = "AMBER+STRICT", red = "RED"

    public static func < (l: TLP, r: TLP) -> Bool {
        allCases.firstIndex(of: l)! < allCases.firstIndex(of: r)!
    }
}

/// The kinds of source (DESIGN §3.1).
public enum SourceKind: String, CaseIterable, Sendable, Codable {
    case patrol, staticCamera, uav, acoustic, radar, satellite, osint, partyClaim
}

/// Admiralty source reliability, A (completely reliable) to F (cannot be judged).
public enum Reliability: String, CaseIterable, Sendable, Codable {
    case a = "A", b = "B", c = "C", d = "D", e = "E", f = "F"
}
