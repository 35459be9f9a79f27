import Foundation
import GuarantorStore
import GuarantorTesting
import Testing

@testable import GuarantorCore

/// Verification on reports as they come: vague in time without saying so, origins to be fused and weighed, and the
/// simulator's noise profiles and score lines that measure it (issue 13).
@Suite struct NoiseRobustnessTests {
    typealias V = VerificationTests

    /// The test mission with other verification settings or sources.
    static func mission(policy edit: (inout [String: JSONValue]) -> Void = { _ in }, sources: [Source]? = nil) throws
        -> Mission
    {
        let json = MissionTests.agreementJSON {
            var verification = $0["verification"]?.object ?? [:]
            edit(&verification)
            $0["verification"] = .object(verification)
        }
        let agreement = try Agreement(json: json)
        guard case .inline(let line) = agreement.line else { fatalError() }
        return try Mission(
            agreement: agreement, lineParts: GeoJSON.lineParts(line), areas: nil,
            sources: sources.map(SourceRegistry.init) ?? V.sources, declarations: V.emptyDeclarations)
    }

    @Test func anOpenSourceMinutesOffJoinsTheIncidentOfItsEvent() throws {
        // Two sensors at minute 0; an open source 20 minutes later, 3 km off, stating no time uncertainty.
        let reports = [
            V.observation("a", "us-acoustic", minute: 0, at: V.ruSide),
            V.observation("b", "us-radar", minute: 0.5, at: V.ruSide),
            V.observation(
                "o", "osint", minute: 20, at: GeoPoint(lon: V.ruSide.lon + 0.03, lat: V.ruSide.lat),
                uncertainty: 4_000),
        ]
        // Its kind's default (open sources: 20 minutes) lets it join.
        #expect(V.run(reports).incidents.map(\.observationIds) == [["a", "b", "o"]])
        // Without it, the same report stands alone.
        let strict = try Self.mission { $0["timeUncertaintySeconds"] = .object(["osint": .number(0)]) }
        #expect(V.run(reports, mission: strict).incidents.count == 2)
        // A source's own figure overrides its kind's.
        var sources = V.sources.sources
        sources[sources.firstIndex { $0.id == "osint" }!].timeUncertaintySeconds = 0
        #expect(V.run(reports, mission: try Self.mission(sources: sources)).incidents.count == 2)
        // What it states itself counts when it is more.
        var stated = reports
        stated[2].timeUncertaintySeconds = 1_200
        #expect(V.run(stated, mission: try Self.mission(sources: sources)).incidents.count == 1)
    }

    @Test func aVagueReportJoinsTheIncidentOfItsOwnKindBeforeANearerOneOfAnother() {
        // Artillery fire at minute 0, mortar fire at minute 8 (two incidents); a claim of mortar fire at minute 3 is
        // nearer in time to the artillery, yet the mortar fire explains it better.
        let r = V.run([
            V.observation("art", "us-acoustic", minute: 0, at: V.uaSide, kind: .artilleryFire),
            V.observation("mor", "us-radar", minute: 8, at: V.uaSide, kind: .mortarFire),
            V.observation("claim", "ua-claims", minute: 3, at: V.uaSide, kind: .mortarFire, uncertainty: 4_000),
        ])
        #expect(r.incidents.map(\.observationIds).sorted { $0[0] < $1[0] } == [["art"], ["claim", "mor"]])
        // Of one kind, the nearer one wins (1 minute from one, 7 from the other: clearly nearer).
        let same = V.run([
            V.observation("art", "us-acoustic", minute: 0, at: V.uaSide, kind: .mortarFire),
            V.observation("mor", "us-radar", minute: 8, at: V.uaSide, kind: .mortarFire),
            V.observation("claim", "ua-claims", minute: 1, at: V.uaSide, kind: .mortarFire, uncertainty: 4_000),
        ])
        #expect(same.incidents.map(\.observationIds).sorted { $0[0] < $1[0] } == [["art", "claim"], ["mor"]])
    }

    /// Two barrages of one kind at minutes 0 and 8, and an open-source report at minute 4 that is 20 minutes off as
    /// often as not: it fits both equally well.
    static let twoBarragesAndAReportBetween = [
        V.observation("first", "us-acoustic", minute: 0, at: V.uaSide, kind: .mortarFire),
        V.observation("second", "us-radar", minute: 8, at: V.uaSide, kind: .mortarFire),
        V.observation("between", "osint", minute: 4, at: V.uaSide, kind: .mortarFire, uncertainty: 4_000),
    ]

    @Test func aReportTwoIncidentsExplainAboutEquallyJoinsNeitherAndIsListed() throws {
        let reports = Self.twoBarragesAndAReportBetween
        for order in [reports, reports.reversed(), [reports[2], reports[0], reports[1]]] {
            let r = V.run(Array(order))
            #expect(r.incidents.map(\.observationIds).sorted { $0[0] < $1[0] } == [["between"], ["first"], ["second"]])
            let alone = try #require(r.incidents.first { $0.observationIds == ["between"] })
            // The anchors of both, the nearer first (here equally near: the earlier).
            #expect(alone.ambiguousBetween == ["first", "second"])
            #expect(r.incidents.filter { $0.ambiguousBetween != nil }.count == 1)
            var w = JSONWriter()
            V.mission.incidentLine(alone, into: &w)
            #expect(String(decoding: w.bytes, as: UTF8.self).contains(#""ambiguousBetween":["first","second"]"#))
        }
        // A little nearer one of them (3 minutes against 5) is still about equal; clearly nearer (1 against 7) is not.
        var nearer = reports
        nearer[2].observedAt = nearer[2].observedAt.adding(-60_000_000_000)
        #expect(V.run(nearer).incidents.contains { $0.ambiguousBetween == ["first", "second"] })
        nearer[2].observedAt = nearer[2].observedAt.adding(-120_000_000_000)
        let clear = V.run(nearer)
        #expect(clear.incidents.allSatisfy { $0.ambiguousBetween == nil })
        #expect(clear.incidents.map(\.observationIds).sorted { $0[0] < $1[0] } == [["first", "between"], ["second"]])
        // Once the two incidents are one (a report of the same barrage links them), nothing is ambiguous.
        let linking = V.observation("linking", "uk-acoustic", minute: 4, at: V.uaSide, kind: .mortarFire)
        let joined = V.run(reports + [linking])
        #expect(joined.incidents.map(\.observationIds) == [["first", "between", "linking", "second"]])
        // An analyst places it: merged into the incident it belongs to, it is no longer listed.
        let first = IncidentKey.incidentId(IncidentKey.of(observationId: "first"))
        let between = IncidentKey.incidentId(IncidentKey.of(observationId: "between"))
        let placed = V.run(
            reports,
            actions: [
                ReviewAction(
                    .merge, by: Actor(member: "US", user: "us-analyst"), reason: "same barrage",
                    at: reports[1].observedAt.adding(600_000_000_000), target: first, id: "m1",
                    mergedIncidents: [between])
            ])
        #expect(placed.actions.map(\.outcome) == ["applied"])
        #expect(placed.incidents.map(\.observationIds).sorted { $0[0] < $1[0] } == [["first", "between"], ["second"]])
        #expect(placed.incidents.allSatisfy { $0.ambiguousBetween == nil })
    }

    @Test func anAmbiguousReportSurvivesASnapshotAndItsRivalsSealing() throws {
        // Barrages at minutes 0 and 20, the report at 10.5 (a little nearer the later one, whose incident it stays
        // with). A report far away, a horizon later, seals the earlier barrage's incident while the later one's is
        // still open; a snapshot then forgets the sealed anchor, but not how near it was.
        let horizon = Double(Correlator(policy: V.mission.agreement.verification).horizon) / 60e9
        let reports = [
            V.observation("first", "us-acoustic", minute: 0, at: V.uaSide, kind: .mortarFire),
            V.observation("second", "us-radar", minute: 20, at: V.uaSide, kind: .mortarFire),
            V.observation("between", "osint", minute: 10.5, at: V.uaSide, kind: .mortarFire, uncertainty: 4_000),
            V.observation("far", "uk-acoustic", minute: horizon + 10, at: V.ruSide, kind: .explosion),
        ]
        var reference = ReferenceVerification(mission: V.mission)
        for o in reports { reference.add(o) }
        let expected = reference.results().incidents
        #expect(expected.first { $0.observationIds == ["between"] }?.ambiguousBetween == ["second", "first"])
        var engine = MissionEngine(mission: V.mission)
        var fold = ResultFold(standingFindings: engine.standingFindings)
        for o in reports { engine.add(o) }
        #expect(engine.correlator.sealedRivals.count == 1)
        let snapshot = engine.snapshot()
        fold.apply(engine.takeChanges())
        engine = try MissionEngine(mission: V.mission, snapshot: snapshot)
        #expect(engine.correlator.sealedRivals.count == 1)
        engine.finish()
        fold.apply(engine.takeChanges())
        #expect(fold.verification.incidents == expected)
    }

    @Test func newFieldsAreReadCheckedAndWrittenBack() throws {
        let mission = EngineEquivalenceTests.mission
        let policy = mission.agreement.verification
        #expect(policy.timeUncertaintyByKind == [SourceKind.osint: 1_200, .partyClaim: 1_200, .patrol: 120])
        #expect(policy.attributionThreshold == 0.95 && policy.crossLinePrior == 0.8)
        #expect(mission.sources["mission-osint"]?.timeUncertaintySeconds == 1_800)
        #expect(try VerificationPolicy(json: policy.json, path: "verification") == policy)
        #expect(try SourceRegistry(json: mission.sources.json).sources == mission.sources.sources)
        #expect { try Self.mission { $0["timeUncertaintySeconds"] = .object(["sonar": .number(5)]) } } throws: {
            "\($0)".contains("timeUncertaintySeconds.sonar")
        }
        #expect { try Self.mission { $0["timeUncertaintySeconds"] = .object(["osint": .number(-1)]) } } throws: {
            "\($0)".contains("timeUncertaintySeconds.osint")
        }
        #expect { try Self.mission { $0["crossLinePrior"] = .number(0.97) } } throws: {
            "\($0)".contains("crossLinePrior")
        }
        // A threshold at or below the default prior would let where fire lands attribute it alone.
        #expect { try Self.mission { $0["attributionThreshold"] = .number(0.7) } } throws: {
            ($0 as? Mission.Problem)?.error.path == "verification.attributionThreshold"
                || ($0 as? FieldError)?.path == "verification.attributionThreshold"
        }
        let badSource = JSONValue.object([
            "sources": .array([
                .object([
                    "id": .string("s"), "kind": .string("osint"), "organisation": .string("X"),
                    "reliability": .string("D"), "timeUncertaintySeconds": .number(90_000),
                ])
            ])
        ])
        #expect { try SourceRegistry(json: badSource) } throws: {
            ($0 as? FieldError)?.path == "sources[0].timeUncertaintySeconds"
        }
    }

    /// A point on Russia's side of the test line, `meters` from it, at latitude 49.
    static func eastOfLine(_ meters: Double) -> GeoPoint {
        var (lo, hi) = (37.72, 37.80)
        for _ in 0..<60 {
            let mid = (lo + hi) / 2
            let c = V.mission.classify(GeoPoint(lon: mid, lat: 49))
            let signed =
                V.mission.agreement.parties[c.party].id == "RU" ? c.distanceToLineMeters : -c.distanceToLineMeters
            if signed < meters { lo = mid } else { hi = mid }
        }
        return GeoPoint(lon: lo, lat: 49)
    }

    @Test func originsOfSeveralArraysAreFusedAndAttributionStatesItsProbability() throws {
        let impact = GeoPoint(lon: 37.70, lat: 49)  // ~2 km on Ukraine's side
        let origin = Self.eastOfLine(120)  // each estimate ±300 m (95 %)
        func attribution(_ reports: [Observation]) -> Violation? { V.run(reports).violations.first }
        let one = attribution([V.observation("a", "us-acoustic", minute: 0, at: impact, origin: origin)])
        #expect(one?.attributedTo == "unattributed" && one?.attributionBasis == "origin too near the line")
        let p1 = try #require(one?.attributionProbability)
        #expect(p1 > 0.5 && p1 < 0.95)
        // The same array twice is one estimate, not two.
        let twice = attribution([
            V.observation("a", "us-acoustic", minute: 0, at: impact, origin: origin),
            V.observation("a2", "us-acoustic", minute: 0.1, at: impact, origin: origin),
        ])
        #expect(twice?.attributedTo == "unattributed" && twice?.attributionProbability == p1)
        // Two arrays: fused, the estimate is firmer, and the violation is attributed with its probability.
        let two = attribution([
            V.observation("a", "us-acoustic", minute: 0, at: impact, origin: origin),
            V.observation("b", "us-acoustic-2", minute: 0.1, at: impact, origin: origin),
        ])
        #expect(two?.attributedTo == "RU" && two?.attributionBasis == "origin")
        #expect((two?.attributionProbability ?? 0) >= 0.95)
        // Where the fire landed is weighed: landing on Russia's own side, the same estimate is far less sure.
        let own = attribution([
            V.observation("a", "us-acoustic", minute: 0, at: Self.eastOfLine(3_000), origin: origin),
            V.observation("b", "us-acoustic-2", minute: 0.1, at: Self.eastOfLine(3_000), origin: origin),
        ])
        #expect(own?.attributedTo == "unattributed" && (own?.attributionProbability ?? 1) < 0.9)
        // Where it landed alone never attributes.
        let none = attribution([V.observation("n", "us-acoustic", minute: 0, at: impact)])
        #expect(none?.attributedTo == "unattributed" && none?.attributionProbability == nil)
    }

    @Test func noiseProfilesAddWhatTheySay() throws {
        let mission = EngineEquivalenceTests.mission
        func run(_ noise: Simulator.Noise) throws -> (observations: [Observation], truth: [[String: JSONValue]]) {
            let (observations, truth, _) = Simulator.run(mission: mission, seed: 3, hours: 24, noise: noise)
            return (observations, try truth.split(separator: 0x0A).map { try JSONValue.parse($0).object! })
        }
        let standard = try run(.standard), realistic = try run(.realistic), harsh = try run(.harsh)
        func vague(_ o: Observation) -> Bool {
            [.osint, .partyClaim].contains(mission.sources[o.source]?.kind)
        }
        // Standard: every report states its time uncertainty; realistic: vague reports do not, and some patrols
        // file hours late.
        #expect(standard.observations.filter(vague).allSatisfy { $0.timeUncertaintySeconds > 0 })
        #expect(realistic.observations.filter(vague).allSatisfy { $0.timeUncertaintySeconds == 0 })
        let late = realistic.observations.filter {
            mission.sources[$0.source]?.kind == .patrol
                && ($0.reportedAt!.nanoseconds - $0.observedAt.nanoseconds) > 21_600 * 1_000_000_000
        }
        #expect(!late.isEmpty)
        // Harsh: at least a fifth of the reports are of nothing, and truth says which kind of source sent each.
        let reports = harsh.truth.filter { $0["type"] == .string("observation") }
        let fabricated = reports.filter { $0["eventId"] == .null }.count
        #expect(Double(fabricated) >= 0.2 * Double(reports.count))
        #expect(reports.allSatisfy { $0["sourceKind"] != nil })
    }

    @Test func scoreCountsAssociationPerKindAndAttributionByOutcome() throws {
        let truth = """
            {"type":"event","id":"T1","kind":"barrage","party":"RU","violations":["artilleryFire"],"originObserved":true}
            {"type":"event","id":"T2","kind":"barrage","party":"UA","violations":["artilleryFire"],"originObserved":true}
            {"type":"observation","observationId":"a","eventId":"T1","sourceKind":"acoustic"}
            {"type":"observation","observationId":"o","eventId":"T1","sourceKind":"osint"}
            {"type":"observation","observationId":"c","eventId":"T1","sourceKind":"partyClaim"}
            {"type":"observation","observationId":"b","eventId":"T2","sourceKind":"radar"}
            {"type":"observation","observationId":"b2","eventId":"T2","sourceKind":"acoustic"}
            """
        let incidents = """
            {"id":"I1","observationIds":["a","o"]}
            {"id":"I2","observationIds":["c"],"ambiguousBetween":["a","b"]}
            {"id":"I3","observationIds":["b","b2"]}
            """
        let violations = """
            {"id":"V1-artilleryFire","incidentId":"I1","rule":"artilleryFire","incidentStatus":"verified","attributedTo":"UA"}
            {"id":"V3-artilleryFire","incidentId":"I3","rule":"artilleryFire","incidentStatus":"verified","attributedTo":"unattributed"}
            """
        let score = try Score.compute(
            truth: Array(truth.utf8), incidents: Array(incidents.utf8), violations: Array(violations.utf8))
        #expect(score.association["acoustic"]! == (2, 2) && score.association["osint"]! == (1, 1))
        #expect(score.association["partyClaim"]! == (0, 1) && score.associationRecall("partyClaim") == 0)
        #expect(score.attributable == 2 && score.correctlyAttributed == 0)
        #expect(score.wronglyAttributed == 1 && score.unattributed == 1)
        #expect(score.text.contains("wrong 1  unattributed 1"))
        #expect(score.text.contains("association by kind:     acoustic 1.000 (2/2)"))
        #expect(score.json.object?["attribution"]?.object?["wrong"] == .number(1))
        // The claim is listed as ambiguous between its event's incident and another.
        #expect(score.ambiguous == 1 && score.ambiguousWithTheirEvent == 1)
        #expect(score.text.contains("ambiguous, listed:       1 reports, 1 of them with their event among the two"))
        #expect(score.json.object?["ambiguous"]?.object?["listed"] == .number(1))
    }
}
