import Testing

@testable import GuarantorCore

/// People's actions fed to the engine: analysts on incidents, the board and the parties on findings.
@Suite struct ReviewActionTests {
    typealias V = VerificationTests
    static let analyst = Actor(member: "US", user: "us-analyst-1")
    static let start = Timestamp(rfc3339: "2026-03-01T00:00:00Z")!

    static func action(
        _ id: String, _ kind: ReviewAction.Kind, _ target: String, minute: Double = 600, by actor: Actor = analyst,
        merge: [String] = [], split: [String] = []
    ) -> ReviewAction {
        ReviewAction(
            kind, by: actor, reason: "reviewed footage",
            at: Timestamp(nanoseconds: Self.start.nanoseconds + Int64(minute * 60e9)),
            target: target, id: id, mergedIncidents: merge, splitObservations: split)
    }

    /// One acoustic report on Russia's side (reported: no violation is verified yet) and one far away.
    static let observations = [
        V.observation("a", "us-acoustic", minute: 0, at: V.ruSide),
        V.observation("far", "us-radar", minute: 100, at: V.uaSide),
    ]

    static func incidentId(_ first: String) -> String { VerificationEngine.incidentId(firstObservation: first) }

    @Test func anAnalystVerifiesAndTheStatusSticks() {
        let id = Self.incidentId("a")
        let r = V.run(Self.observations, actions: [Self.action("x1", .verify, id)])
        let incident = r.incidents.first { $0.id == id }!
        #expect(incident.status == .verified && incident.lastReview?.id == "x1")
        #expect(r.violations.first { $0.incidentId == id }?.incidentStatus == .verified)
        #expect(r.actions.map(\.outcome) == ["applied"])
        // A transition the state machine refuses is reported and changes nothing.
        let twice = V.run(Self.observations, actions: [Self.action("x1", .verify, id), Self.action("x2", .verify, id)])
        #expect(twice.actions[1].outcome.hasPrefix("refused: cannot verify an incident that is verified"))
    }

    @Test func whoeverSubmittedAnObservationCannotVerifyItsIncident() {
        var observations = Self.observations
        observations[0].submittedBy = "us-analyst-1"
        let r = V.run(observations, actions: [Self.action("x1", .verify, Self.incidentId("a"))])
        #expect(r.actions[0].outcome.contains("cannot verify"))
        #expect(r.incidents.first { $0.id == Self.incidentId("a") }?.status == .reported)
    }

    @Test func aRejectedIncidentMakesNoViolation() {
        let id = Self.incidentId("a")
        let before = V.run(Self.observations)
        #expect(before.violations.contains { $0.incidentId == id })
        let r = V.run(Self.observations, actions: [Self.action("x1", .reject, id)])
        #expect(!r.violations.contains { $0.incidentId == id })
        #expect(r.incidents.first { $0.id == id }?.status == .rejected)
    }

    @Test func mergeAndSplitMoveObservationsBetweenIncidents() {
        let a = Self.incidentId("a"), far = Self.incidentId("far")
        let merged = V.run(Self.observations, actions: [Self.action("m", .merge, a, merge: [far])])
        #expect(merged.incidents.map(\.observationIds) == [["a", "far"]])
        let split = V.run(
            Self.observations,
            actions: [
                Self.action("m", .merge, a, merge: [far]), Self.action("s", .split, a, minute: 700, split: ["far"]),
            ])
        #expect(split.incidents.map(\.observationIds) == [["a"], ["far"]])
        #expect(split.actions.map(\.outcome) == ["applied", "applied"])
        // Splitting everything, or an observation that is not there, is refused.
        let bad = V.run(
            Self.observations,
            actions: [Self.action("s1", .split, a, split: ["a"]), Self.action("s2", .split, a, split: ["far"])])
        #expect(bad.actions.allSatisfy { $0.outcome.hasPrefix("refused") })
        #expect(
            V.run(Self.observations, actions: [Self.action("m", .merge, "Inope", merge: [a])]).actions[0].outcome
                == "refused: no incident Inope")
    }

    @Test func anActionFindsItsIncidentAfterAnEarlierObservationArrives() {
        // The analyst verified incident I(a); an earlier report of the same barrage arrives later and the incident
        // is renamed after it, yet the decision still applies.
        let observations = Self.observations + [V.observation("early", "osint", minute: -1, at: V.ruSide)]
        let r = V.run(observations, actions: [Self.action("x1", .verify, Self.incidentId("a"))])
        let incident = r.incidents.first { $0.observationIds.contains("a") }!
        #expect(incident.id == Self.incidentId("early") && incident.status == .verified)
    }

    @Test func theBoardEndorsesVerifiedFindingsByQuorumAndPartiesContest() throws {
        let id = Self.incidentId("a")
        let verify = Self.action("x0", .verify, id, minute: 500)
        let violation = V.run(Self.observations, actions: [verify]).violations.first { $0.incidentId == id }!.id
        func member(_ m: String) -> Actor { Actor(member: m, user: m.lowercased() + "-board") }
        let r = V.run(
            Self.observations,
            actions: [
                verify, Self.action("e1", .endorse, violation, by: member("FR")),
                Self.action("e2", .endorse, violation, by: member("FR")),
                Self.action("e3", .endorse, violation, by: member("UA")),
                Self.action("e4", .endorse, violation, by: member("UK")),
                Self.action("c1", .contest, violation, by: member("RU")),
                Self.action("c2", .contest, violation, by: member("DE")),
                Self.action("e5", .endorse, violation, minute: 601, by: member("US")),
            ])
        let v = r.violations.first { $0.id == violation }!
        #expect(v.endorsedBy == ["FR", "UK", "US"] && v.endorsed)
        #expect(v.contests.map(\.actor.member) == ["RU"])
        let outcomes = Dictionary(uniqueKeysWithValues: r.actions.map { ($0.action.id, $0.outcome) })
        #expect(outcomes["e2"] == "refused: FR has already endorsed \(violation)")
        #expect(outcomes["e3"]!.hasPrefix("refused: UA is a party to the ceasefire"))
        #expect(outcomes["c2"]!.hasPrefix("refused: only a party"))
        // Two endorsements do not reach the quorum of three; an unverified finding cannot be endorsed.
        let short = V.run(
            Self.observations, actions: [verify, Self.action("e1", .endorse, violation, by: member("FR"))])
        #expect(short.violations.first { $0.id == violation }!.endorsed == false)
        let unverified = V.run(Self.observations, actions: [Self.action("e1", .endorse, violation, by: member("FR"))])
        #expect(unverified.actions[0].outcome.hasPrefix("refused: the board endorses only verified findings"))
    }

    @Test func actionsApplyInEventTimeWhateverTheirArrivalOrder() {
        let id = Self.incidentId("a")
        let actions = [
            Self.action("x1", .dispute, id, minute: 600), Self.action("x2", .verify, id, minute: 610),
            Self.action("x3", .reject, id, minute: 620), Self.action("x4", .reopen, id, minute: 630),
        ]
        let forward = V.run(Self.observations, actions: actions)
        let backward = V.run(Self.observations, actions: actions.reversed())
        #expect(forward.incidents == backward.incidents)
        #expect(forward.incidents.first { $0.id == id }?.status == .reported)
    }

    @Test(arguments: [
        (
            #"{"id":"a","at":"2026-03-01T00:00:00Z","action":"verify","member":"US","user":"u","reason":" ","incident":"I1"}"#,
            "reason"
        ),
        (
            #"{"id":"a","at":"2026-03-01T00:00:00Z","action":"merge","member":"US","user":"u","reason":"r","incident":"I1"}"#,
            "mergeIncidents"
        ),
        (
            #"{"id":"a","at":"2026-03-01T00:00:00Z","action":"endorse","member":"US","user":"u","reason":"r","incident":"I1"}"#,
            "incident"
        ),
        (
            #"{"id":"a","at":"2026-03-01T00:00:00Z","action":"verify","member":"US","user":"u","reason":"r","incident":"I1","splitObservations":["o"]}"#,
            "splitObservations"
        ),
        (
            #"{"id":"a","at":"2026-03-01T00:00:00Z","action":"approve","member":"US","user":"u","reason":"r","incident":"I1"}"#,
            "action"
        ),
        (
            #"{"id":"a","at":"2026-03-01T00:00:00Z","action":"merge","member":"US","user":"u","reason":"r","incident":"I1","mergeIncidents":["I1"]}"#,
            "mergeIncidents"
        ),
    ])
    func badActionsNameTheField(line: String, field: String) throws {
        let result = ReviewAction.parseFile(Array(line.utf8))
        guard case .failure(let rejection) = result else {
            Issue.record("accepted \(line)")
            return
        }
        #expect(rejection.errors.map(\.field) == [field])
        #expect(rejection.errors[0].line == 1)
    }

    @Test func anActionRoundTripsThroughItsCanonicalForm() throws {
        let a = Self.action("m", .merge, "I1", merge: ["I2", "I3"])
        let back = try ReviewAction(json: JSONValue.parse(a.canonicalJSON))
        #expect(back == a)
    }
}
