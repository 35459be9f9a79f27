import Foundation
import Testing

@testable import GuarantorCore

/// The guarantee engine: triggers, tripwire, ladder, obligations, overdue, quiet periods, sanctions, logistics.
@Suite struct GuaranteeTests {
    static let start = Timestamp(rfc3339: "2026-03-01T00:00:00Z")!
    static func hours(_ h: Double) -> Timestamp { start.adding(Timestamp.seconds(h * 3_600)) }

    static let coalitionJSON = """
        {"members": [{"id": "US", "name": "United States", "role": "lead"}, {"id": "UK", "name": "United Kingdom", "role": "guarantor"},
                     {"id": "FR", "name": "France", "role": "guarantor"}, {"id": "UA", "name": "Ukraine", "role": "beneficiary"}],
         "pledges": [{"id": "us-intel", "member": "US", "pillar": "intelligenceSharing"},
                     {"id": "uk-diplomacy", "member": "UK", "pillar": "diplomaticMeasures"},
                     {"id": "fr-diplomacy", "member": "FR", "pillar": "diplomaticMeasures"},
                     {"id": "fr-sanctions", "member": "FR", "pillar": "sanctions"},
                     {"id": "uk-force", "member": "UK", "pillar": "militarySupport", "fromLevel": 4},
                     {"id": "fr-fuel", "member": "FR", "pillar": "logistics", "item": "fuel", "quantity": 100, "unit": "t", "periodDays": 10}],
         "deterrenceForce": {"ceiling": 30000, "contributions": [{"member": "UK", "personnel": 10000}, {"member": "FR", "personnel": 8000}],
                             "deployments": [{"id": "uk-1", "member": "UK", "site": "base", "personnel": 2000, "from": "2026-02-01T00:00:00Z"}]},
         "protectedSites": [{"id": "base", "kind": "deploymentSite", "name": "Base", "location": {"lon": 35.05, "lat": 48.46}, "radiusMeters": 3000, "operator": "UK"},
                            {"id": "hub", "kind": "maintenanceHub", "name": "Hub", "location": {"lon": 36.0, "lat": 48.0}, "radiusMeters": 2000, "operator": "UA"}],
         "sanctionsPackages": [{"id": "energy", "level": 3, "sectors": ["energy"]}]}
        """

    static let triggersJSON = """
        {"levels": [{"level": 1, "name": "Consultations", "responses": [{"id": "consult", "kind": "consultations", "pillar": "diplomaticMeasures", "deadlineHours": 48}]},
                    {"level": 2, "name": "Statement", "responses": [{"id": "statement", "kind": "jointStatement", "pillar": "diplomaticMeasures", "deadlineHours": 24},
                                                                   {"id": "intel", "kind": "intelligenceSurge", "pillar": "intelligenceSharing", "deadlineHours": 12}]},
                    {"level": 3, "name": "Sanctions", "responses": [{"id": "sanctions", "kind": "sanctionsPackage", "pillar": "sanctions", "deadlineHours": 72}]},
                    {"level": 4, "name": "Reinforcement", "responses": [{"id": "reinforce", "kind": "reinforcement", "pillar": "militarySupport", "deadlineHours": 24}]}],
         "triggers": [{"id": "cluster", "severities": ["serious", "grave"], "count": 5, "windowHours": 24, "perParty": true, "raisesTo": 2},
                      {"id": "offensive", "severities": ["serious", "grave"], "count": 10, "windowHours": 72, "scope": "line", "perParty": true, "raisesTo": 3}],
         "tripwire": {"raisesTo": 4, "kinds": ["artilleryFire", "explosion", "incursion"]},
         "quietPeriodHours": 72, "continuity": {"shortfallFraction": 0.2, "maximumGapDays": 6}}
        """

    static let sectors = ["North", "South"]

    static func book(_ text: String = triggersJSON) throws -> TriggerBook {
        try TriggerBook(
            json: JSONValue.parse(text), rules: ["artilleryFire", "mlrsFire"], sectors: sectors,
            zones: ["buffer"], parties: ["UA", "RU"], members: ["US", "UK", "FR", "UA"])
    }

    static let engine = GuaranteeEngine(
        coalition: try! Coalition(json: JSONValue.parse(coalitionJSON)), book: try! book(),
        effectiveAt: Timestamp(rfc3339: "2026-02-01T00:00:00Z")!, sectorNames: sectors)

    static func violation(_ n: Int, hour: Double, sector: String = "North", party: String = "RU", verified: Bool = true)
        -> Violation
    {
        Violation(
            id: "V\(n)-artilleryFire", incidentId: "I\(n)", rule: "artilleryFire", severity: .serious,
            attributedTo: party, attributionBasis: "origin", zone: nil, distanceToLineMeters: 5_000, at: hours(hour),
            probability: 1, incidentStatus: verified ? .verified : .reported, sector: sector,
            verifiedAt: verified ? hours(hour + 0.1) : nil)
    }

    static func run(
        _ violations: [Violation], incidents: [Incident] = [], actions: [GuaranteeAction] = [], clock: Double = 24
    ) -> GuaranteeResults {
        engine.run(incidents: incidents, violations: violations, actions: actions, clock: hours(clock))
    }

    static func action(_ json: String) -> GuaranteeAction { try! GuaranteeAction(json: JSONValue.parse(json)) }

    @Test func fiveSeriousViolationsByOnePartyInOneSectorRaiseTheLevelAndObligeMembers() throws {
        let five = (1...5).map { Self.violation($0, hour: Double($0)) }
        let r = Self.run(five)
        let alert = try #require(r.alerts.first { $0.kind == .trigger })
        #expect(alert.triggerId == "cluster" && alert.level == 2 && alert.sector == "North" && alert.party == "RU")
        #expect(alert.firedAt == Self.hours(5.1) && alert.violationIds.count == 5)
        // Levels 1 and 2 were both reached: consultations and a statement by the diplomatic pledgers, a surge by US.
        #expect(
            r.obligations.map { "\($0.responseId) \($0.member)" }.sorted() == [
                "consult FR", "consult UK", "intel US", "statement FR", "statement UK",
            ])
        #expect(r.obligations.first { $0.responseId == "intel" }?.deadline == Self.hours(5.1 + 12))
        let statement = try #require(r.statements.first)
        #expect(statement.markdown.contains("verified 5 violations of the ceasefire in North: 5 serious"))
        #expect(statement.markdown.contains("Attributed: RU 5"))
        #expect(r.levels["North"] == 2)
    }

    static func triggered(_ r: GuaranteeResults) -> [Alert] { r.alerts.filter { $0.kind == .trigger } }

    @Test func fewerOrSpreadOutOrUnverifiedViolationsDoNotFire() {
        #expect(Self.triggered(Self.run((1...4).map { Self.violation($0, hour: Double($0)) })).isEmpty)
        #expect(Self.triggered(Self.run((1...5).map { Self.violation($0, hour: Double($0) * 7) }, clock: 40)).isEmpty)
        #expect(Self.triggered(Self.run((1...5).map { Self.violation($0, hour: Double($0), verified: false) })).isEmpty)
        // Split between parties or sectors, they count apart.
        let mixed = (1...5).map { Self.violation($0, hour: Double($0), party: $0 % 2 == 0 ? "UA" : "RU") }
        #expect(Self.triggered(Self.run(mixed)).isEmpty)
        let sectors = (1...5).map { Self.violation($0, hour: Double($0), sector: $0 == 3 ? "South" : "North") }
        #expect(Self.triggered(Self.run(sectors)).isEmpty)
    }

    /// One happening counts once: the findings of one incident (a tank in the buffer zone is both a heavy weapon in a
    /// withdrawal zone and military presence in the buffer) count once per trigger, the gravest known listed.
    @Test func theFindingsOfOneIncidentCountOnce() throws {
        func sibling(_ n: Int, hour: Double) -> Violation {
            var v = Self.violation(n, hour: hour)
            v.id = "V\(n)-mlrsFire"
            v.rule = "mlrsFire"
            v.severity = .grave
            return v
        }
        let three = (1...3).flatMap { [Self.violation($0, hour: Double($0)), sibling($0, hour: Double($0))] }
        #expect(Self.triggered(Self.run(three)).isEmpty, "six findings of three incidents are three, not six")
        let five = (1...5).flatMap { [Self.violation($0, hour: Double($0)), sibling($0, hour: Double($0))] }
        let alerts = Self.triggered(Self.run(five))
        let alert = try #require(alerts.first)
        #expect(alerts.count == 1)
        // One finding per incident: the gravest known when the alert fired (the fifth incident's grave sibling came
        // after the alert was raised, and alerts already out are never rewritten).
        #expect(alert.violationIds == (1...4).map { "V\($0)-mlrsFire" } + ["V5-artilleryFire"])
        #expect(alert.detail.hasPrefix("5 incidents"))
    }

    /// A late report's finding counts from when it was received: the alert it completes fires then, not back in time.
    @Test func aLateFindingCountsFromItsReceipt() throws {
        var late = Self.violation(9, hour: 0.5)
        late.receivedLateAt = Self.hours(10)
        let r = Self.run((1...4).map { Self.violation($0, hour: Double($0)) } + [late])
        let alert = try #require(Self.triggered(r).first)
        #expect(alert.firedAt == Self.hours(10) && alert.violationIds.contains("V9-artilleryFire"))
        #expect(
            Self.triggered(Self.run((1...4).map { Self.violation($0, hour: Double($0)) } + [late], clock: 9)).isEmpty)
    }

    /// A late report that joins an incident counts as that incident: four incidents and a late report of the fourth
    /// are four, not five.
    @Test func aLateReportOfACountedIncidentIsNotCountedAgain() throws {
        var late = Self.violation(9, hour: 4.2)
        late.receivedLateAt = Self.hours(10)
        late.joinsIncidentId = "I4"
        let four = (1...4).map { Self.violation($0, hour: Double($0)) }
        #expect(Self.triggered(Self.run(four + [late])).isEmpty)
        late.joinsIncidentId = nil
        #expect(Self.triggered(Self.run(four + [late])).count == 1, "a late report of a fifth incident counts")
    }

    /// A response obliges the members whose pledges can deliver it: a reinforcement, those contributing troops, not
    /// one pledging air defence; a response no member pledged is an alert to the board.
    @Test func obligationsFollowPledges() throws {
        let coalition = try Coalition(
            json: JSONValue.parse(
                """
                {"members": [{"id": "US", "name": "United States", "role": "lead"},
                             {"id": "UK", "name": "United Kingdom", "role": "guarantor"},
                             {"id": "PL", "name": "Poland", "role": "guarantor"}],
                 "pledges": [{"id": "us-air", "member": "US", "pillar": "militarySupport", "kind": "operationalAssistance"},
                             {"id": "pl-troops", "member": "PL", "pillar": "militarySupport", "kind": "troops", "quantity": 2000}],
                 "deterrenceForce": {"contributions": [{"member": "UK", "personnel": 5000}]}}
                """))
        let reinforcement = Response(
            id: "r", kind: .reinforcement, pillar: .militarySupport, members: [], deadlineHours: 24)
        #expect(coalition.obliged(by: reinforcement, atLevel: 4) == ["PL", "UK"])
        let support = Response(
            id: "m", kind: .militarySupport, pillar: .militarySupport, members: [], deadlineHours: 24)
        #expect(coalition.obliged(by: support, atLevel: 4) == ["US", "PL"])
        let sanctions = Response(id: "s", kind: .sanctionsPackage, pillar: .sanctions, members: [], deadlineHours: 72)
        #expect(coalition.obliged(by: sanctions, atLevel: 3).isEmpty)
        // Through the engine: the level that calls for sanctions nobody pledged raises an `unpledged` alert.
        let engine = GuaranteeEngine(
            coalition: coalition, book: try Self.book(), effectiveAt: Timestamp(rfc3339: "2026-02-01T00:00:00Z")!,
            sectorNames: Self.sectors)
        let ten = (1...10).map { Self.violation($0, hour: Double($0)) }
        let r = engine.run(incidents: [], violations: ten, actions: [], clock: Self.hours(24))
        let unpledged = r.alerts.filter { $0.kind == .unpledged }
        #expect(
            unpledged.contains { $0.detail.hasPrefix("no member pledged sanctionsPackage (sanctions) for level 3") })
        #expect(!r.obligations.contains { $0.kind == .sanctionsPackage })
        #expect(throws: FieldError.self) {
            try Coalition(
                json: JSONValue.parse(
                    #"{"members": [{"id": "US", "name": "U", "role": "lead"}], "pledges": [{"id": "p", "member": "US", "pillar": "sanctions", "kind": "troops"}]}"#
                ))
        }
    }

    @Test func theTripwireFiresProvisionallyOnACredibleReportAndIsConfirmedOnVerification() throws {
        var incident = try #require(
            VerificationTests.run([
                VerificationTests.observation("a", "us-acoustic", minute: 0, at: GeoPoint(lon: 36.001, lat: 48.0))
            ]).incidents.first)
        incident.credibleAt = Self.hours(1)
        incident.verifiedAt = Self.hours(2)
        incident.status = .verified
        let r = Self.run([], incidents: [incident])
        let tripwire = r.alerts.filter { $0.kind == .tripwire }
        #expect(tripwire.map(\.provisional) == [true, false])
        #expect(tripwire.map(\.firedAt) == [Self.hours(1), Self.hours(2)] && tripwire.allSatisfy { $0.site == "hub" })
        #expect(tripwire[0].level == 4)
        // Level 4 obliges the members whose military pledge applies from level 4; sanctions activate at 3.
        #expect(r.obligations.contains { $0.responseId == "reinforce" && $0.member == "UK" })
        #expect(r.sanctions.map(\.package) == ["energy"] && r.sanctions[0].activated)
        // Fire outside every protected site is no tripwire.
        incident.location.point = GeoPoint(lon: 36.1, lat: 48.0)
        #expect(Self.run([], incidents: [incident]).alerts.filter { $0.kind == .tripwire }.isEmpty)
    }

    @Test func membersAnswerTheirObligationsAndUnansweredOnesFallOverdue() throws {
        let five = (1...5).map { Self.violation($0, hour: Double($0)) }
        let alertId = Self.triggered(Self.run(five))[0].id
        let r = Self.run(
            five,
            actions: [
                Self.action(
                    #"{"id":"g1","at":"2026-03-01T06:00:00Z","action":"acknowledge","member":"US","user":"us-1","obligation":"\#(alertId)/intel/US"}"#
                ),
                Self.action(
                    #"{"id":"g2","at":"2026-03-01T07:00:00Z","action":"fulfil","member":"UK","user":"uk-1","obligation":"\#(alertId)/statement/UK","reference":"FCDO statement 14/2026"}"#
                ),
                Self.action(
                    #"{"id":"g3","at":"2026-03-01T07:00:00Z","action":"fulfil","member":"FR","user":"fr-1","obligation":"\#(alertId)/statement/UK","reference":"x"}"#
                ),
                Self.action(
                    #"{"id":"g4","at":"2026-03-01T08:00:00Z","action":"decline","member":"FR","user":"fr-1","obligation":"\#(alertId)/statement/FR","reason":"awaiting our own inquiry"}"#
                ),
                Self.action(
                    #"{"id":"g5","at":"2026-03-01T08:00:00Z","action":"fulfil","member":"UK","user":"uk-1","obligation":"Anothere/x/UK","reference":"x"}"#
                ),
            ], clock: 60)
        let status = Dictionary(
            uniqueKeysWithValues: r.obligations.map { ("\($0.responseId) \($0.member)", $0.status) })
        #expect(status["statement UK"] == .fulfilled && status["statement FR"] == .declined)
        #expect(status["intel US"] == .overdue, "acknowledged but not delivered within 12 h")
        #expect(status["consult UK"] == .overdue && status["consult FR"] == .overdue)
        let outcomes = Dictionary(uniqueKeysWithValues: r.actions.map { ($0.action.id, $0.outcome) })
        #expect(outcomes["g3"]!.contains("obliges UK, not FR"))
        #expect(outcomes["g5"]!.hasPrefix("refused: no obligation"))
        let overdue = r.alerts.filter { $0.kind == .overdue }
        #expect(Set(overdue.map(\.member)) == ["US", "UK", "FR"])
        #expect(r.statements[0].signedBy == ["UK"] && r.statements[0].declinedBy == ["FR"])
    }

    @Test func aQuietPeriodLowersTheLevelAndLiftsSanctions() {
        let ten = (1...10).map { Self.violation($0, hour: Double($0)) }  // line-wide offensive: level 3
        let r = Self.run(ten, clock: 24 * 8)
        #expect(r.alerts.contains { $0.triggerId == "offensive" && $0.level == 3 && $0.sector == nil })
        let lowered = r.alerts.filter { $0.kind == .deescalation && $0.sector == nil }
        #expect(lowered.map(\.level) == [2, 1])
        #expect(r.sanctions.map(\.activated) == [true, false])
        #expect(r.levels["line"] == 1)
    }

    @Test func logisticsShortfallsAndGapsRaiseContinuityAlerts() {
        // Periods of 10 days from 1 February; FR delivers 90 t in the first, 10 t in the second, then nothing.
        let deliveries = [
            Self.action(
                #"{"id":"d1","at":"2026-02-03T00:00:00Z","action":"deliver","member":"FR","user":"fr-log","pledge":"fr-fuel","quantity":90}"#
            ),
            Self.action(
                #"{"id":"d2","at":"2026-02-12T00:00:00Z","action":"deliver","member":"FR","user":"fr-log","pledge":"fr-fuel","quantity":10}"#
            ),
            Self.action(
                #"{"id":"d3","at":"2026-02-12T00:00:00Z","action":"deliver","member":"UK","user":"uk-log","pledge":"fr-fuel","quantity":10}"#
            ),
        ]
        let r = Self.run([], actions: deliveries, clock: 0)
        let continuity = r.alerts.filter { $0.kind == .continuity }
        #expect(
            continuity.map(\.detail).contains(
                "FR delivered 10 of 100 t of fuel from 2026-02-11T00:00:00Z to 2026-02-21T00:00:00Z"))
        #expect(continuity.map(\.detail).contains("FR has delivered no fuel since 2026-02-12T00:00:00Z (6 days)"))
        #expect(
            !continuity.map(\.detail).contains { $0.contains("from 2026-02-01T00:00:00Z to 2026-02-11") },
            "90 of 100 is within 20 %")
        #expect(r.actions.first { $0.action.id == "d3" }!.outcome.contains("FR's pledge, not UK's"))
        #expect(r.delivered["fr-fuel"] == 100)
    }

    @Test func theSameInputsInAnyOrderGiveTheSameResults() {
        let violations = (1...12).map { Self.violation($0, hour: Double($0) * 1.5, party: $0 % 3 == 0 ? "UA" : "RU") }
        let a = Self.run(violations, clock: 200)
        let b = Self.run(violations.reversed(), clock: 200)
        #expect(a.alerts == b.alerts && a.obligations == b.obligations && a.statements == b.statements)
    }

    @Test(arguments: [
        (#""rules": ["nope"]"#, "triggers[0].rules[0]", "unknown rule \"nope\""),
        (#""sectors": ["Atlantis"]"#, "triggers[0].sectors[0]", "unknown sector \"Atlantis\""),
        (#""parties": ["XX"]"#, "triggers[0].parties[0]", "unknown party \"XX\""),
    ])
    func triggersNamingUnknownThingsAreRefused(filter: String, path: String, reason: String) {
        let text = Self.triggersJSON.replacingOccurrences(
            of: #"{"id": "cluster", "#, with: #"{"id": "cluster", \#(filter), "#)
        #expect { try Self.book(text) } throws: {
            let e = $0 as? FieldError
            return e?.path == path && e?.reason.hasPrefix(reason) == true
        }
    }

    @Test func badTriggerBooksAndCoalitionsAreRefusedWithThePath() {
        func bookError(_ from: String, _ to: String) -> FieldError? {
            do {
                _ = try Self.book(Self.triggersJSON.replacingOccurrences(of: from, with: to))
                return nil
            } catch { return error as? FieldError }
        }
        #expect(
            bookError(#""deadlineHours": 48"#, #""deadlineHours": -1"#)?.path == "levels[0].responses[0].deadlineHours")
        #expect(bookError(#""raisesTo": 2"#, #""raisesTo": 9"#)?.path == "triggers[0].raisesTo")
        #expect(
            bookError(
                #""pillar": "sanctions", "deadlineHours": 72"#,
                #""pillar": "sanctions", "members": ["ZZ"], "deadlineHours": 72"#)?
                .path == "levels[2].responses[0].members[0]")
        func coalitionError(_ from: String, _ to: String) -> FieldError? {
            do {
                _ = try Coalition(json: JSONValue.parse(Self.coalitionJSON.replacingOccurrences(of: from, with: to)))
                return nil
            } catch { return error as? FieldError }
        }
        #expect(
            coalitionError(#""pillar": "intelligenceSharing""#, #""pillar": "goodwill""#)?.path == "pledges[0].pillar")
        #expect(coalitionError(#""member": "US", "pillar""#, #""member": "ZZ", "pillar""#)?.path == "pledges[0].member")
        #expect(
            coalitionError(#""lon": 36.0, "lat": 48.0"#, #""lon": 35.06, "lat": 48.46"#)?.reason
                .contains("hub overlaps base") == true)
        #expect(
            coalitionError(#""personnel": 8000"#, #""personnel": 28000"#)?.reason
                == "38000 personnel pledged, beyond the ceiling of 30000")
        #expect(
            coalitionError(#""personnel": 2000"#, #""personnel": 12000"#)?.reason.contains(
                "beyond its contribution of 10000") == true)
    }
}
