/// The pillars of the guarantee under which members pledge (DESIGN §2.4).
public enum Pillar: String, CaseIterable, Sendable {
    case militarySupport, intelligenceSharing, logistics, diplomaticMeasures, sanctions, ceasefireMonitoring,
        infrastructure
}

/// A member state of the coalition (Ukraine included).
public struct Member: Sendable, Equatable {
    public var id: String
    public var name: String
    /// What the member is in the coalition, e.g. `lead`, `guarantor`, `contributor`, `beneficiary`.
    public var role: String
}

/// What a military-support pledge offers.
public enum MilitarySupportKind: String, CaseIterable, Sendable {
    /// Personnel who can reinforce the deterrence force.
    case troops
    /// Weapons and materiel.
    case equipment
    /// Air defence, training, planning and other assistance without troops on the ground.
    case operationalAssistance
}

/// What a member has bound itself to deliver under one pillar.
public struct Pledge: Sendable, Equatable {
    public var id: String
    public var member: String
    public var pillar: Pillar
    public var description: String
    /// `nil` for a standing pledge; otherwise it applies from this escalation level on.
    public var fromLevel: Int?
    /// Logistics: the item (weapons, fuel, ammunition, medicalAid, transport), how much and per how many days.
    public var item: String?
    public var quantity: Double?
    public var unit: String?
    public var periodDays: Double?
    /// Military support: what is offered, and how much (personnel for troops) if stated.
    public var supportKind: MilitarySupportKind?

    /// Whether the pledge applies at an escalation level.
    public func applies(atLevel level: Int) -> Bool { fromLevel.map { level >= $0 } ?? true }
}

/// A place the tripwire protects: a deterrence-force deployment site or a protected maintenance or manufacturing hub.
public struct ProtectedSite: Sendable, Equatable {
    public enum Kind: String, CaseIterable, Sendable { case deploymentSite, maintenanceHub, manufacturingHub }
    public var id: String
    public var kind: Kind
    public var name: String
    public var location: GeoPoint
    public var radiusMeters: Double
    /// The member operating it.
    public var operatorMember: String
    public var status: String
}

/// Personnel a member deploys to a protected site from a time on (until a time, if given).
public struct Deployment: Sendable, Equatable {
    public var id: String
    public var member: String
    public var site: String
    public var personnel: Int
    public var from: Timestamp
    public var until: Timestamp?

    public func isActive(at t: Timestamp) -> Bool { from <= t && until.map { t < $0 } ?? true }
}

/// A package of sanctions that the escalation ladder activates at a level.
public struct SanctionsPackage: Sendable, Equatable {
    public var id: String
    public var level: Int
    public var sectors: [String]
    public var entities: [String]
    public var individuals: [String]
    /// The members bound to impose it (empty: every member with a sanctions pledge).
    public var signatories: [String] = []
}

/// coalition.json (DESIGN §3.1): members, pledges, the deterrence force and the sites it protects, sanctions.
public struct Coalition: Sendable, Equatable {
    public var members: [Member]
    public var pledges: [Pledge]
    /// The deterrence force's ceiling (30,000 by default) and each nation's pledged personnel.
    public var ceiling: Int
    public var contributions: [String: Int]
    public var deployments: [Deployment]
    public var sites: [ProtectedSite]
    public var sanctionsPackages: [SanctionsPackage]

    public static let logisticsItems = ["weapons", "fuel", "ammunition", "medicalAid", "transport"]
    public static let defaultCeiling = 30_000

    public func member(_ id: String) -> Member? { members.first { $0.id == id } }

    /// Personnel deployed at a time, per member.
    public func deployed(at t: Timestamp) -> [String: Int] {
        deployments.filter { $0.isActive(at: t) }.reduce(into: [:]) { $0[$1.member, default: 0] += $1.personnel }
    }

    /// The members a response obliges at a level: the ones it names, or those whose pledges can deliver it — a
    /// reinforcement, the members contributing personnel to the deterrence force or pledging troops; a sanctions
    /// package, the signatories of the packages of that level (or, if none names any, the sanctions pledgers); any
    /// other response, the members with a pledge under its pillar. A pledge must apply at the level. In order, once
    /// each; empty when no member pledged it.
    public func obliged(by response: Response, atLevel level: Int) -> [String] {
        if !response.members.isEmpty { return response.members }
        let applying = pledges.filter { $0.pillar == response.pillar && $0.applies(atLevel: level) }
        var obliged: [String]
        switch response.kind {
        case .reinforcement:
            obliged = pledges.filter {
                $0.pillar == .militarySupport && $0.supportKind == .troops && $0.applies(atLevel: level)
            }.map(\.member)
            obliged += members.map(\.id).filter { (contributions[$0] ?? 0) > 0 }
        case .sanctionsPackage:
            let signatories = sanctionsPackages.filter { $0.level == level }.flatMap(\.signatories)
            obliged = signatories.isEmpty ? applying.map(\.member) : signatories
        default:
            obliged = applying.map(\.member)
        }
        var seen: Set<String> = []
        return obliged.filter { seen.insert($0).inserted }
    }

    /// The protected site that holds a point, if any.
    public func site(containing point: GeoPoint) -> ProtectedSite? {
        sites.first { WGS84.distance($0.location, point) <= $0.radiusMeters }
    }

    /// Reads and validates coalition.json; `parties` are the agreement's parties, `levels` the ladder's highest level.
    /// - Throws: ``FieldError`` naming the path and the reason; nothing is half-read.
    public init(json: JSONValue, highestLevel: Int = 10) throws {
        let f = try JSONFields(json)
        try f.rejectUnknown(["members", "pledges", "deterrenceForce", "protectedSites", "sanctionsPackages"])
        var memberIds: Set<String> = []
        members = try f.array("members").enumerated().map { i, value in
            let m = try JSONFields(value, path: "members[\(i)]")
            try m.rejectUnknown(["id", "name", "role"])
            let id = try m.uniqueId(in: &memberIds, of: "member")
            return Member(id: id, name: try m.string("name"), role: try m.string("role"))
        }
        guard !members.isEmpty else { throw FieldError(path: "members", reason: "name at least one member") }
        func knownMember(_ fields: JSONFields, _ key: String) throws -> String {
            let id = try fields.string(key)
            guard memberIds.contains(id) else {
                throw FieldError(
                    path: fields.path(key),
                    reason: "unknown member \"\(id)\" (members: \(memberIds.sorted().joined(separator: ", ")))")
            }
            return id
        }
        var pledgeIds: Set<String> = []
        pledges = try f.array("pledges").enumerated().map { i, value in
            let p = try JSONFields(value, path: "pledges[\(i)]")
            try p.rejectUnknown([
                "id", "member", "pillar", "description", "fromLevel", "item", "quantity", "unit", "periodDays", "kind",
            ])
            let id = try p.uniqueId(in: &pledgeIds, of: "pledge")
            let pillar = try p.enumeration("pillar", as: Pillar.self)
            var pledge = Pledge(
                id: id, member: try knownMember(p, "member"), pillar: pillar,
                description: try p.optionalString("description") ?? "",
                fromLevel: try p.optionalInteger("fromLevel", in: 1...highestLevel))
            if pillar == .logistics {
                let item = try p.string("item")
                guard Self.logisticsItems.contains(item) else {
                    throw FieldError(
                        path: p.path("item"),
                        reason: "unknown item \"\(item)\" (\(Self.logisticsItems.joined(separator: ", ")))")
                }
                pledge.item = item
                pledge.quantity = try p.number("quantity")
                guard pledge.quantity! > 0 else {
                    throw FieldError(path: p.path("quantity"), reason: "must be positive")
                }
                pledge.unit = try p.string("unit")
                pledge.periodDays = try p.number("periodDays")
                guard (1...366).contains(pledge.periodDays!) else {
                    throw FieldError(path: p.path("periodDays"), reason: "must be in 1…366")
                }
            } else if pillar == .militarySupport {
                pledge.supportKind = try p.optionalEnumeration("kind", as: MilitarySupportKind.self)
                pledge.quantity = try p.optionalNumber("quantity")
                if let q = pledge.quantity, q <= 0 {
                    throw FieldError(path: p.path("quantity"), reason: "must be positive")
                }
                for key in ["item", "unit", "periodDays"] where p.members[key] != nil {
                    throw FieldError(path: p.path(key), reason: "only logistics pledges have \(key)")
                }
            } else {
                for key in ["item", "quantity", "unit", "periodDays", "kind"] where p.members[key] != nil {
                    throw FieldError(
                        path: p.path(key), reason: "only logistics and military-support pledges have \(key)")
                }
            }
            return pledge
        }
        var siteIds: Set<String> = []
        sites = try (f.members["protectedSites"] == nil ? [] : f.array("protectedSites")).enumerated().map {
            i, value in
            let s = try JSONFields(value, path: "protectedSites[\(i)]")
            try s.rejectUnknown(["id", "kind", "name", "location", "radiusMeters", "operator", "status"])
            let id = try s.uniqueId(in: &siteIds, of: "site")
            let radius = try s.number("radiusMeters", in: 10...50_000)
            return ProtectedSite(
                id: id, kind: try s.enumeration("kind", as: ProtectedSite.Kind.self), name: try s.string("name"),
                location: try s.point("location").0, radiusMeters: radius,
                operatorMember: try knownMember(s, "operator"),
                status: try s.optionalString("status") ?? "active")
        }
        for (i, a) in sites.enumerated() {
            for b in sites[..<i] where WGS84.distance(a.location, b.location) < a.radiusMeters + b.radiusMeters {
                throw FieldError(
                    path: "protectedSites[\(i)]",
                    reason: "\(a.id) overlaps \(b.id): a point in both could not say which site was hit")
            }
        }
        ceiling = Self.defaultCeiling
        contributions = [:]
        deployments = []
        if let force = try f.optionalObject("deterrenceForce") {
            try force.rejectUnknown(["ceiling", "contributions", "deployments"])
            ceiling = try force.optionalInteger("ceiling", in: 1...1_000_000) ?? Self.defaultCeiling
            for (i, value) in (force.members["contributions"] == nil ? [] : try force.array("contributions"))
                .enumerated()
            {
                let c = try JSONFields(value, path: force.path("contributions[\(i)]"))
                try c.rejectUnknown(["member", "personnel"])
                let member = try knownMember(c, "member")
                guard contributions[member] == nil else {
                    throw FieldError(path: c.path("member"), reason: "\(member) contributes once")
                }
                contributions[member] = try c.integer("personnel", in: 0...1_000_000)
            }
            let pledged = contributions.values.reduce(0, +)
            if pledged > ceiling {
                throw FieldError(
                    path: force.path("contributions"),
                    reason: "\(pledged) personnel pledged, beyond the ceiling of \(ceiling)")
            }
            var deploymentIds: Set<String> = []
            deployments = try (force.members["deployments"] == nil ? [] : force.array("deployments")).enumerated()
                .map { i, value in
                    let d = try JSONFields(value, path: force.path("deployments[\(i)]"))
                    try d.rejectUnknown(["id", "member", "site", "personnel", "from", "until"])
                    let id = try d.uniqueId(in: &deploymentIds, of: "deployment")
                    let site = try d.string("site")
                    guard siteIds.contains(site) else {
                        throw FieldError(path: d.path("site"), reason: "unknown protected site \"\(site)\"")
                    }
                    let deployment = Deployment(
                        id: id, member: try knownMember(d, "member"), site: site,
                        personnel: try d.integer("personnel", in: 1...1_000_000), from: try d.timestamp("from"),
                        until: try d.optionalTimestamp("until"))
                    if let until = deployment.until, until <= deployment.from {
                        throw FieldError(path: d.path("until"), reason: "must be after from")
                    }
                    return deployment
                }
            // At every moment a deployment starts, no member exceeds its contribution and the force its ceiling.
            for (i, d) in deployments.enumerated() {
                let active = deployments.filter { $0.isActive(at: d.from) }
                let mine = active.filter { $0.member == d.member }.reduce(0) { $0 + $1.personnel }
                let pledgedByMember = contributions[d.member] ?? 0
                if mine > pledgedByMember {
                    throw FieldError(
                        path: force.path("deployments[\(i)]"),
                        reason:
                            "\(d.member) would have \(mine) personnel deployed from \(d.from), beyond its contribution of \(pledgedByMember)"
                    )
                }
                let total = active.reduce(0) { $0 + $1.personnel }
                if total > ceiling {
                    throw FieldError(
                        path: force.path("deployments[\(i)]"),
                        reason: "\(total) personnel would be deployed from \(d.from), beyond the ceiling of \(ceiling)")
                }
            }
        }
        var packageIds: Set<String> = []
        sanctionsPackages = try (f.members["sanctionsPackages"] == nil ? [] : f.array("sanctionsPackages"))
            .enumerated().map { i, value in
                let s = try JSONFields(value, path: "sanctionsPackages[\(i)]")
                try s.rejectUnknown(["id", "level", "sectors", "entities", "individuals", "signatories"])
                let id = try s.uniqueId(in: &packageIds, of: "package")
                func names(_ key: String) throws -> [String] {
                    guard s.members[key] != nil else { return [] }
                    return try s.array(key).enumerated().map { j, item in
                        guard case .string(let name) = item, !name.isEmpty else {
                            throw FieldError(path: s.path("\(key)[\(j)]"), reason: "expected a name")
                        }
                        return name
                    }
                }
                var package = SanctionsPackage(
                    id: id, level: try s.integer("level", in: 1...highestLevel), sectors: try names("sectors"),
                    entities: try names("entities"), individuals: try names("individuals"))
                if s.members["signatories"] != nil {
                    package.signatories = try s.array("signatories").indices.map { j in
                        guard case .string(let m) = try s.array("signatories")[j], memberIds.contains(m) else {
                            throw FieldError(path: s.path("signatories[\(j)]"), reason: "expected a member id")
                        }
                        return m
                    }
                }
                return package
            }
    }
}
