/// What the parties declared (declarations.json, DESIGN §3.1): heavy-weapon inventories by class, the storage sites
/// they were withdrawn to, and the routes of withdrawal. Sightings and inspections are reconciled against them.
public struct Declarations: Sendable, Equatable {
    /// One party's declaration.
    public struct Declaration: Sendable, Equatable {
        public var party: String
        public var declaredAt: Timestamp
        /// Declared holdings by weapon class, in all.
        public var inventory: [WeaponClass: Int]
        public var storageSites: [StorageSite]
        public var withdrawalRoutes: [WithdrawalRoute]
    }

    /// A declared storage site: a circle, and what it holds.
    public struct StorageSite: Sendable, Equatable {
        public var id: String
        public var location: GeoPoint
        public var radiusMeters: Double
        public var holdings: [WeaponClass: Int]
    }

    /// A declared route of withdrawal: heavy weapons seen within `corridorMeters` of it are on their way.
    public struct WithdrawalRoute: Sendable, Equatable {
        public var id: String
        public var points: [GeoPoint]
        public var corridorMeters: Double
    }

    /// By party id; a party without an entry declared nothing.
    public var byParty: [String: Declaration]

    /// No party has declared anything.
    public static let none = Declarations(byParty: [:])

    public init(byParty: [String: Declaration]) { self.byParty = byParty }

    /// Reads and validates declarations.json; `parties` are the agreement's party ids.
    public init(json: JSONValue, parties: [String]) throws {
        let f = try JSONFields(json)
        try f.rejectUnknown(["declarations"])
        byParty = [:]
        var siteIds: Set<String> = []
        for (i, value) in try f.array("declarations").enumerated() {
            let d = try JSONFields(value, path: "declarations[\(i)]")
            try d.rejectUnknown(["party", "declaredAt", "inventory", "storageSites", "withdrawalRoutes"])
            let party = try d.string("party")
            guard parties.contains(party) else {
                throw FieldError(
                    path: d.path("party"),
                    reason: "unknown party \"\(party)\" (parties: \(parties.joined(separator: ", ")))")
            }
            guard byParty[party] == nil else {
                throw FieldError(path: d.path("party"), reason: "\(party) has a declaration already")
            }
            let inventory = try Self.counts(d.object("inventory"))
            let sites = try d.array("storageSites").enumerated().map { j, value in
                let s = try JSONFields(value, path: d.path("storageSites[\(j)]"))
                try s.rejectUnknown(["id", "location", "radiusMeters", "holdings"])
                let id = try s.uniqueId(in: &siteIds, of: "site")
                let radius = try s.number("radiusMeters", in: 10...50_000)
                return StorageSite(
                    id: id, location: try s.point("location").0, radiusMeters: radius,
                    holdings: try Self.counts(s.object("holdings")))
            }
            for weapon in WeaponClass.allCases {
                let stored = sites.reduce(0) { $0 + ($1.holdings[weapon] ?? 0) }
                if stored > inventory[weapon] ?? 0 {
                    throw FieldError(
                        path: d.path("storageSites"),
                        reason:
                            "the sites hold \(stored) \(weapon.rawValue), more than the \(inventory[weapon] ?? 0) in the inventory"
                    )
                }
            }
            let routes = try d.array("withdrawalRoutes").enumerated().map { j, value in
                let r = try JSONFields(value, path: d.path("withdrawalRoutes[\(j)]"))
                try r.rejectUnknown(["id", "coordinates", "corridorMeters"])
                let corridor = try r.number("corridorMeters")
                guard (10...10_000).contains(corridor) else {
                    throw FieldError(path: r.path("corridorMeters"), reason: "must be in 10…10000")
                }
                let points = try GeoJSON.positions(r.array("coordinates"), path: r.path("coordinates"))
                guard points.count >= 2 else {
                    throw FieldError(path: r.path("coordinates"), reason: "a route needs at least two positions")
                }
                return WithdrawalRoute(id: try r.string("id"), points: points, corridorMeters: corridor)
            }
            byParty[party] = Declaration(
                party: party, declaredAt: try d.timestamp("declaredAt"), inventory: inventory, storageSites: sites,
                withdrawalRoutes: routes)
        }
    }

    private static func counts(_ f: JSONFields) throws -> [WeaponClass: Int] {
        try f.rejectUnknown(WeaponClass.allCases.map(\.rawValue))
        var counts: [WeaponClass: Int] = [:]
        for weapon in WeaponClass.allCases where f.members[weapon.rawValue] != nil {
            counts[weapon] = try f.integer(weapon.rawValue, in: 0...1_000_000)
        }
        return counts
    }

    /// The storage site of `party` that holds `point` (allowing for `uncertainty`), if any.
    public func site(of party: String, containing point: GeoPoint, uncertainty: Double) -> StorageSite? {
        byParty[party]?.storageSites.first {
            WGS84.distance($0.location, point) <= $0.radiusMeters + uncertainty
        }
    }

    /// Whether `point` lies within the corridor of one of `party`'s withdrawal routes.
    public func onRoute(of party: String, _ point: GeoPoint, uncertainty: Double) -> Bool {
        guard let routes = byParty[party]?.withdrawalRoutes else { return false }
        return routes.contains { route in
            zip(route.points, route.points.dropFirst()).contains { a, b in
                LineSegment(from: a, to: b, startAlong: 0).distance(to: point) <= route.corridorMeters + uncertainty
            }
        }
    }

    /// declarations.json as written by `mission init`: nothing declared yet.
    public static let emptyFile: JSONValue = .object(["declarations": .array([])])
}
