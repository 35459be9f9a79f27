import Testing

@testable import GuarantorCore

/// declarations.json: reading it, and reconciling sightings and inspections against it.
@Suite struct DeclarationsTests {
    typealias V = VerificationTests

    /// Ukraine declares 100 guns of 100 mm and above, 40 of them at a depot ~60 km behind the test line, and a route
    /// west from it; Russia declares nothing.
    static let declarationsJSON = """
        {"declarations": [{"party": "UA", "declaredAt": "2026-01-05T00:00:00Z",
          "inventory": {"artillery100mmPlus": 100, "mlrs": 10},
          "storageSites": [{"id": "ua-depot-1", "location": {"lon": 37.0, "lat": 48.7}, "radiusMeters": 2000,
                            "holdings": {"artillery100mmPlus": 40}}],
          "withdrawalRoutes": [{"id": "ua-route-1", "coordinates": [[37.0, 48.7], [36.6, 48.7]], "corridorMeters": 1000}]}]}
        """

    static let mission: Mission = {
        let declarations = try! Declarations(json: JSONValue.parse(declarationsJSON), parties: ["UA", "RU"])
        let base = V.mission
        guard case .inline(let line) = base.agreement.line else { fatalError() }
        return try! Mission(
            agreement: base.agreement, lineParts: GeoJSON.lineParts(line), areas: nil, sources: V.sources,
            declarations: declarations)
    }()

    static func sighting(
        _ id: String, at point: GeoPoint, kind: ObservationKind = .heavyWeaponSighting, count: Int? = nil
    )
        -> Observation
    {
        var o = V.observation(
            id, "uk-satellite", minute: 0, at: point, kind: kind, uncertainty: 100, weapon: .artillery100mmPlus)
        o.count = count
        return o
    }

    static func findings(_ observations: [Observation]) -> [String] {
        V.run(observations, mission: mission).violations.map { "\($0.rule) \($0.attributedTo)" }
    }

    @Test func aPartyThatDeclaredNothingIsAFinding() {
        let r = V.run([], mission: Self.mission)
        #expect(r.violations.map(\.id) == ["V-noDeclaration-RU"])
        #expect(r.violations[0].at == V.mission.agreement.effectiveAt && r.violations[0].incidentId.isEmpty)
        // With no declarations at all, both parties are reported.
        guard case .inline(let line) = V.mission.agreement.line else { return }
        let undeclared = try! Mission(
            agreement: V.mission.agreement, lineParts: GeoJSON.lineParts(line), areas: nil, sources: V.sources)
        #expect(V.run([], mission: undeclared).violations.map(\.id) == ["V-noDeclaration-RU", "V-noDeclaration-UA"])
    }

    @Test func heavyWeaponsBeyondTheirZoneMustBeAtADeclaredSiteOrOnARoute() {
        #expect(
            Self.findings([Self.sighting("away", at: GeoPoint(lon: 36.9, lat: 48.5))]).contains(
                "awayFromDeclaredSite UA"))
        #expect(
            !Self.findings([Self.sighting("depot", at: GeoPoint(lon: 37.01, lat: 48.7))]).contains {
                $0.hasPrefix("awayFromDeclaredSite")
            })
        #expect(
            !Self.findings([Self.sighting("route", at: GeoPoint(lon: 36.8, lat: 48.705))]).contains {
                $0.hasPrefix("awayFromDeclaredSite")
            })
        // Inside its withdrawal zone it is that violation, not a second one.
        let inZone = Self.findings([Self.sighting("zone", at: V.uaSide)])
        #expect(inZone.contains("heavyWeaponInWithdrawalZone UA") && !inZone.contains("awayFromDeclaredSite UA"))
        // Russia declared nothing: its sightings are not reconciled (the missing declaration is the finding).
        let ru = Self.findings([Self.sighting("ru", at: GeoPoint(lon: 38.9, lat: 48.5))])
        #expect(!ru.contains { $0.hasPrefix("awayFromDeclaredSite") })
    }

    @Test func anInspectionCountingFewerThanDeclaredIsAFinding() throws {
        let depot = GeoPoint(lon: 37.0, lat: 48.7)
        let short = V.run([Self.sighting("i1", at: depot, kind: .siteInspection, count: 31)], mission: Self.mission)
        let finding = try #require(short.violations.first { $0.rule == "missingFromDeclaredSite" })
        #expect(
            finding.attributedTo == "UA" && finding.detail == "ua-depot-1: declared 40 artillery100mmPlus, counted 31")
        let full = V.run([Self.sighting("i2", at: depot, kind: .siteInspection, count: 40)], mission: Self.mission)
        #expect(!full.violations.contains { $0.rule == "missingFromDeclaredSite" })
    }

    @Test(arguments: [
        (
            #"{"declarations":[{"party":"XX","declaredAt":"2026-01-01T00:00:00Z","inventory":{},"storageSites":[],"withdrawalRoutes":[]}]}"#,
            "declarations[0].party"
        ),
        (
            #"{"declarations":[{"party":"UA","declaredAt":"2026-01-01T00:00:00Z","inventory":{"cannon":3},"storageSites":[],"withdrawalRoutes":[]}]}"#,
            "declarations[0].inventory.cannon"
        ),
        (
            #"{"declarations":[{"party":"UA","declaredAt":"2026-01-01T00:00:00Z","inventory":{"mlrs":1},"storageSites":[{"id":"s","location":{"lon":37,"lat":48},"radiusMeters":100,"holdings":{"mlrs":2}}],"withdrawalRoutes":[]}]}"#,
            "declarations[0].storageSites"
        ),
        (
            #"{"declarations":[{"party":"UA","declaredAt":"2026-01-01T00:00:00Z","inventory":{},"storageSites":[{"id":"s","location":{"lon":37,"lat":48},"radiusMeters":1,"holdings":{}}],"withdrawalRoutes":[]}]}"#,
            "declarations[0].storageSites[0].radiusMeters"
        ),
        (
            #"{"declarations":[{"party":"UA","declaredAt":"2026-01-01T00:00:00Z","inventory":{},"storageSites":[],"withdrawalRoutes":[{"id":"r","coordinates":[[37,48]],"corridorMeters":500}]}]}"#,
            "declarations[0].withdrawalRoutes[0].coordinates"
        ),
    ])
    func badDeclarationsNameThePath(text: String, path: String) {
        #expect { try Declarations(json: JSONValue.parse(text), parties: ["UA", "RU"]) } throws: {
            ($0 as? FieldError)?.path == path
        }
    }

    @Test func impedimentsAreCountedPerPartyAndSector() throws {
        let r = V.run(
            [
                V.observation("d1", "us-acoustic", minute: 0, at: V.ruSide, kind: .accessDenial),
                V.observation("d2", "us-radar", minute: 300, at: V.ruSide, kind: .accessDenial),
                V.observation("g1", "us-radar", minute: 0, at: V.uaSide, kind: .sensorGap),
            ], mission: Self.mission)
        #expect(
            r.impediments.map { "\($0.kind.rawValue) \($0.party) \($0.incidents)" } == [
                "accessDenial RU 2", "sensorGap unattributed 1",
            ])
        #expect(r.violations.filter { $0.rule == "impedingTheMission" }.map(\.attributedTo) == ["RU", "RU"])
    }

    @Test func anInspectionNeedsAClassAndACount() {
        let line =
            #"{"id":"i","source":"osint","observedAt":"2026-03-01T00:00:00Z","kind":"siteInspection","location":{"lon":37,"lat":48.7,"uncertaintyMeters":10},"weaponClass":"mlrs"}"#
        guard case .failure(let rejection) = ObservationBatch.parse(Array(line.utf8), isKnownSource: { _ in true })
        else {
            Issue.record("accepted an inspection without a count")
            return
        }
        #expect(rejection.errors.map(\.field) == ["count"])
    }
}
