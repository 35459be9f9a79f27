import Foundation
import GuarantorTesting
import Testing

@testable import GuarantorCore

@Suite struct VerificationTests {
    static let sources = SourceRegistry([
        Source(id: "us-acoustic", kind: .acoustic, organisation: "US", reliability: .b),
        Source(id: "us-radar", kind: .radar, organisation: "US", reliability: .b),
        Source(id: "us-acoustic-2", kind: .acoustic, organisation: "US", reliability: .b),
        Source(id: "uk-satellite", kind: .satellite, organisation: "UK", reliability: .a),
        Source(id: "osint", kind: .osint, organisation: "MISSION", reliability: .d),
        Source(id: "ua-claims", kind: .partyClaim, organisation: "UA", reliability: .e),
        Source(id: "ru-claims", kind: .partyClaim, organisation: "RU", reliability: .e),
    ])

    static let mission: Mission = {
        let agreement = try! Agreement(json: MissionTests.agreementJSON())
        guard case .inline(let line) = agreement.line else { fatalError() }
        return try! Mission(
            agreement: agreement, lineParts: GeoJSON.lineParts(line), areas: nil, sources: sources,
            declarations: emptyDeclarations)
    }()

    /// Both parties declared, with nothing to reconcile: these tests are about incidents, not declarations.
    static let emptyDeclarations = try! Declarations(
        json: JSONValue.parse(
            #"{"declarations": [{"party": "UA", "declaredAt": "2026-01-01T00:00:00Z", "inventory": {}, "storageSites": [], "withdrawalRoutes": []}, {"party": "RU", "declaredAt": "2026-01-01T00:00:00Z", "inventory": {}, "storageSites": [], "withdrawalRoutes": []}]}"#
        ), parties: ["UA", "RU"])

    /// Kramatorsk, ~14 km on Ukraine's side of the test line; Horlivka-ish, on Russia's side.
    static let uaSide = GeoPoint(lon: 37.58, lat: 48.73)
    static let ruSide = GeoPoint(lon: 38.05, lat: 48.55)

    static func observation(
        _ id: String, _ source: String, minute: Double, at point: GeoPoint, kind: ObservationKind = .artilleryFire,
        uncertainty: Double = 200, origin: GeoPoint? = nil, bearing: Double? = nil, weapon: WeaponClass? = nil
    ) -> Observation {
        Observation(
            id: id, source: source,
            observedAt: Timestamp(
                nanoseconds: Timestamp(rfc3339: "2026-03-01T00:00:00Z")!.nanoseconds + Int64(minute * 60e9)),
            kind: kind, location: Location(point: point, uncertaintyMeters: uncertainty),
            origin: origin.map { Location(point: $0, uncertaintyMeters: 300) }, bearingDegrees: bearing,
            weaponClass: weapon)
    }

    static func run(_ observations: [Observation], actions: [ReviewAction] = [], mission: Mission = mission)
        -> VerificationResults
    {
        var engine = VerificationEngine(mission: mission)
        for o in observations { engine.add(o) }
        for a in actions { engine.add(a) }
        return engine.results()
    }

    @Test func independentReliableSourcesVerifyAndClaimsNeverDo() {
        // Two claims and an open source: reported, however many.
        var r = Self.run([
            Self.observation("c1", "ua-claims", minute: 0, at: Self.uaSide),
            Self.observation("c2", "ua-claims", minute: 1, at: Self.uaSide),
            Self.observation("o1", "osint", minute: 2, at: Self.uaSide),
        ])
        #expect(r.incidents.count == 1 && r.incidents[0].status == .reported && r.incidents[0].independentSources == 1)
        // One reliable sensor and a claim: still one independent source.
        r = Self.run([
            Self.observation("a", "us-acoustic", minute: 0, at: Self.uaSide),
            Self.observation("c", "ua-claims", minute: 1, at: Self.uaSide),
        ])
        #expect(r.incidents.map(\.status) == [.reported])
        // Two sensors of the same organisation and kind are not independent.
        r = Self.run([
            Self.observation("a", "us-acoustic", minute: 0, at: Self.uaSide),
            Self.observation("b", "us-acoustic-2", minute: 1, at: Self.uaSide),
        ])
        #expect(r.incidents.map(\.status) == [.reported])
        // Same organisation, different kinds: independent and reliable → verified, credibility 1.
        r = Self.run([
            Self.observation("a", "us-acoustic", minute: 0, at: Self.uaSide),
            Self.observation("b", "us-radar", minute: 1, at: Self.uaSide),
        ])
        #expect(r.incidents.map(\.status) == [.verified] && r.incidents[0].credibility == 1)
        // A reliable source and an open source: corroborated, not verified.
        r = Self.run([
            Self.observation("a", "us-acoustic", minute: 0, at: Self.uaSide),
            Self.observation("o", "osint", minute: 3, at: Self.uaSide, uncertainty: 3_000),
        ])
        #expect(r.incidents.map(\.status) == [.corroborated])
        // Satellite imagery (grade A) verifies alone.
        r = Self.run([
            Self.observation("s", "uk-satellite", minute: 0, at: Self.ruSide, kind: .heavyWeaponSighting, weapon: .mlrs)
        ])
        #expect(r.incidents.map(\.status) == [.verified])
    }

    @Test func correlationIsIndependentOfArrivalOrderWithinTheLateness() {
        var observations: [Observation] = []
        var rng = SplitMix64(seed: 4)
        let sources = ["us-acoustic", "us-radar", "osint", "ua-claims", "ru-claims", "uk-satellite"]
        for i in 0..<400 {
            let base = [Self.uaSide, Self.ruSide][i % 2]
            let point = GeoPoint(
                lon: base.lon + Double.random(in: -0.3...0.3, using: &rng),
                lat: base.lat + Double.random(in: -0.2...0.2, using: &rng))
            let kind: ObservationKind = [.artilleryFire, .explosion, .heavyWeaponSighting, .droneFlight][
                Int.random(in: 0..<4, using: &rng)]
            observations.append(
                Self.observation(
                    "o\(i)", sources[Int.random(in: 0..<sources.count, using: &rng)],
                    minute: Double.random(in: 0..<240, using: &rng),
                    at: point, kind: kind, uncertainty: [50, 300, 2_000, 4_000][Int.random(in: 0..<4, using: &rng)],
                    weapon: kind == .heavyWeaponSighting ? .tank : nil))
        }
        let reference = Self.run(observations)
        #expect(reference.incidents.count < 400 && reference.incidents.count > 20)
        for seed in 0..<5 {
            // Any order whose observations arrive at most 4 hours behind the latest: within the default 6 hours.
            var generator = SplitMix64(seed: UInt64(seed))
            let shuffled = observations.shuffled(using: &generator)
            let again = Self.run(shuffled)
            #expect(again.incidents == reference.incidents)
            #expect(again.violations == reference.violations)
        }
    }

    /// A report filed 7 hours after what it saw (a patrol back from the field) is kept, marked late, and still
    /// adjudicated: its finding says it is late and by how much, and counts from when it was filed.
    @Test func lateObservationsAreKeptMarkedAndAdjudicated() {
        var old = Self.observation("old", "us-radar", minute: 0, at: Self.uaSide)
        old.reportedAt = old.observedAt.adding(7 * 3_600 * 1_000_000_000)
        let r = Self.run([Self.observation("now", "us-acoustic", minute: 600, at: Self.uaSide), old])
        #expect(r.incidents.count == 2)
        let incident = r.incidents.first { $0.observationIds == ["old"] }
        #expect(incident?.late == true)
        let finding = r.violations.first { $0.incidentId == incident?.id }
        #expect(finding != nil, "a late report is adjudicated")
        #expect(finding?.receivedLateAt == old.reportedAt)
        var w = JSONWriter()
        if let finding { Replay.violationLine(finding, into: &w) }
        let line = String(decoding: w.bytes, as: UTF8.self)
        #expect(line.contains(#""late":true"#) && line.contains(#""delaySeconds":25200"#), "\(line)")
    }

    /// A patrol's report of a tank, filed 7 hours late, joins the incident the satellite reported on time — still
    /// open, or sealed — and says so; a late report near nothing joins nothing. The batch reference agrees.
    @Test func aLateReportJoinsTheIncidentItDescribes() throws {
        let far = GeoPoint(lon: 36.9, lat: 49.2)
        for hoursAhead in [7.0, 20.0] {
            let satellite = Self.observation(
                "sat", "uk-satellite", minute: 0, at: Self.uaSide, kind: .armourMovement, uncertainty: 20,
                weapon: .tank)
            let now = Self.observation("now", "us-acoustic", minute: hoursAhead * 60, at: Self.ruSide)
            var patrol = Self.observation(
                "patrol", "us-radar", minute: 3, at: Self.uaSide, kind: .armourMovement, uncertainty: 300,
                weapon: .tank)
            patrol.reportedAt = patrol.observedAt.adding(Int64(hoursAhead * 3_600e9))
            var alone = Self.observation("alone", "us-radar", minute: 3, at: far, kind: .armourMovement, weapon: .tank)
            alone.reportedAt = patrol.reportedAt
            let observations = [satellite, now, patrol, alone]
            let r = Self.run(observations)
            let sat = try #require(r.incidents.first { $0.observationIds == ["sat"] })
            let joined = try #require(r.incidents.first { $0.observationIds == ["patrol"] })
            #expect(joined.late && joined.joinsIncidentId == sat.id, "\(hoursAhead) h")
            #expect(joined.receivedLateAt == patrol.reportedAt)
            let findings = r.violations.filter { $0.incidentId == joined.id }
            #expect(!findings.isEmpty && findings.allSatisfy { $0.joinsIncidentId == sat.id })
            let lonely = try #require(r.incidents.first { $0.observationIds == ["alone"] })
            #expect(lonely.late && lonely.joinsIncidentId == nil)
            var w = JSONWriter()
            Replay.violationLine(findings[0], into: &w)
            #expect(String(decoding: w.bytes, as: UTF8.self).contains(#""joinsIncidentId":"\#(sat.id)""#))
            var reference = ReferenceVerification(mission: Self.mission)
            for o in observations { reference.add(o) }
            #expect(reference.results().incidents == r.incidents)
            #expect(reference.results().violations == r.violations)
        }
    }

    @Test func adjudicationUsesTheZoneOfTheWeaponClassWithItsProbability() {
        // Tanks (withdrawal15) at ~14 km: inside, but a 3 km uncertainty straddles the zone edge.
        let certain = Self.run([
            Self.observation(
                "t", "uk-satellite", minute: 0, at: Self.uaSide, kind: .armourMovement, uncertainty: 20, weapon: .tank)
        ])
        let v = certain.violations.first { $0.rule == "heavyWeaponInWithdrawalZone" }
        #expect(
            v?.zone == "withdrawal15" && v?.probability == 1 && v?.attributedTo == "UA" && v?.attributionBasis == "side"
        )
        let vague = Self.run([
            Self.observation(
                "t", "uk-satellite", minute: 0, at: Self.uaSide, kind: .armourMovement, uncertainty: 3_000,
                weapon: .tank)
        ])
        let p = vague.violations.first { $0.rule == "heavyWeaponInWithdrawalZone" }?.probability ?? 0
        #expect(p > 0.5 && p < 0.975)
        // MLRS (withdrawal35) at 14 km is a violation too; nothing is a violation before the effective time.
        #expect(
            Self.run([
                Self.observation(
                    "m", "uk-satellite", minute: 0, at: Self.uaSide, kind: .heavyWeaponSighting, weapon: .mlrs)
            ])
            .violations.map(\.zone) == ["withdrawal35"])
        var early = Self.observation(
            "e", "uk-satellite", minute: 0, at: Self.uaSide, kind: .heavyWeaponSighting, weapon: .mlrs)
        early.observedAt = Timestamp(rfc3339: "2025-12-31T00:00:00Z")!
        #expect(Self.run([early]).violations.isEmpty)
    }

    @Test func attributionNeedsEvidenceAndNeverGuesses() {
        // Stated origin on Russia's side.
        let byOrigin = Self.run([Self.observation("a", "us-acoustic", minute: 0, at: Self.uaSide, origin: Self.ruSide)])
        #expect(
            byOrigin.violations.first?.attributedTo == "RU" && byOrigin.violations.first?.attributionBasis == "origin")
        // Two bearings from places 2 km apart, 1–2 km on Ukraine's side, crossing about 6 km inside Russia's side.
        let p1 = GeoPoint(lon: 37.70, lat: 48.50), p2 = GeoPoint(lon: 37.70, lat: 48.52)
        let crossing = Self.run([
            Self.observation("b1", "us-acoustic", minute: 0, at: p1, uncertainty: 1_500, bearing: 84),
            Self.observation("b2", "us-radar", minute: 1, at: p2, uncertainty: 1_500, bearing: 100),
        ])
        #expect(crossing.incidents.count == 1)
        #expect(
            crossing.violations.first?.attributedTo == "RU" && crossing.violations.first?.attributionBasis == "bearings"
        )
        // One bearing, or none: unattributed.
        #expect(
            Self.run([Self.observation("b", "us-acoustic", minute: 0, at: p1, bearing: 80)]).violations.first?
                .attributedTo == "unattributed")
        #expect(
            Self.run([Self.observation("n", "us-acoustic", minute: 0, at: Self.uaSide)]).violations.first?.attributedTo
                == "unattributed")
    }

    @Test func rulesAreDataAndBadRulesAreRefused() throws {
        let custom = MissionTests.agreementJSON {
            $0["rules"] = .array([
                .object([
                    "id": .string("anyFire"), "severity": .string("grave"), "kinds": .array([.string("explosion")]),
                ])
            ])
        }
        let agreement = try Agreement(json: custom)
        #expect(agreement.rules.map(\.id) == ["anyFire"])
        let unknownZone = MissionTests.agreementJSON {
            $0["rules"] = .array([
                .object([
                    "id": .string("x"), "severity": .string("minor"), "kinds": .array([.string("explosion")]),
                    "zone": .string("moat"),
                ])
            ])
        }
        #expect { try Agreement(json: unknownZone) } throws: { ($0 as? FieldError)?.path == "rules[0].zone" }
        let badKind = MissionTests.agreementJSON {
            $0["rules"] = .array([
                .object(["id": .string("x"), "severity": .string("minor"), "kinds": .array([.string("laser")])])
            ])
        }
        #expect { try Agreement(json: badKind) } throws: { ($0 as? FieldError)?.path == "rules[0].kinds[0]" }
    }
}
