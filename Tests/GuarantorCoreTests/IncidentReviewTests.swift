import Testing

@testable import GuarantorCore

@Suite struct IncidentReviewTests {
    static let analyst = Actor(member: "FR", user: "fr-analyst-1")
    static let at = Timestamp(rfc3339: "2026-03-01T12:00:00Z")!

    /// Every (action, status) pair: the allowed ones and their result; every other one must be refused.
    static let allowed: [ReviewAction.Kind: [IncidentStatus: IncidentStatus]] = [
        .verify: [.reported: .verified, .corroborated: .verified, .disputed: .verified],
        .reject: [.reported: .rejected, .corroborated: .rejected, .verified: .rejected, .disputed: .rejected],
        .dispute: [.reported: .disputed, .corroborated: .disputed, .verified: .disputed],
        .reopen: [.rejected: .reported],
    ]

    @Test(arguments: ReviewAction.Kind.allCases, IncidentStatus.allCases)
    func everyTransitionIsAllowedOrRefused(action: ReviewAction.Kind, status: IncidentStatus) throws {
        let a = ReviewAction(action, by: Self.analyst, reason: "imagery of 3 March", at: Self.at)
        if let expected = Self.allowed[action]?[status] {
            #expect(try IncidentReview.apply(a, to: status, submitters: []) == expected)
        } else {
            #expect(throws: ReviewError.self) { try IncidentReview.apply(a, to: status, submitters: []) }
            #expect((try? IncidentReview.apply(a, to: status, submitters: [])) == nil)
        }
    }

    @Test func whoeverSubmittedCannotVerifyButMayDisputeOrReject() throws {
        let submitters: Set<String> = ["fr-analyst-1", "us-sensor-7"]
        let verify = ReviewAction(.verify, by: Self.analyst, reason: "I saw it", at: Self.at)
        #expect { try IncidentReview.apply(verify, to: .reported, submitters: submitters) } throws: {
            ($0 as? ReviewError)?.code == .separationOfDuties
        }
        let other = ReviewAction(.verify, by: Actor(member: "UK", user: "uk-analyst-2"), reason: "checked", at: Self.at)
        #expect(try IncidentReview.apply(other, to: .reported, submitters: submitters) == .verified)
        let dispute = ReviewAction(.dispute, by: Self.analyst, reason: "second look", at: Self.at)
        #expect(try IncidentReview.apply(dispute, to: .verified, submitters: submitters) == .disputed)
    }

    @Test func everyActionNeedsAReason() {
        for kind in ReviewAction.Kind.allCases {
            let a = ReviewAction(kind, by: Self.analyst, reason: "  ", at: Self.at)
            #expect { try IncidentReview.apply(a, to: .rejected, submitters: []) } throws: {
                ($0 as? ReviewError)?.code == .reasonRequired
            }
        }
    }
}

extension IncidentReviewTests {
    @Test func reviewQueuesHoldEachStatusOldestFirst() {
        let r = VerificationTests.run([
            VerificationTests.observation("late-claim", "ua-claims", minute: 120, at: VerificationTests.uaSide),
            VerificationTests.observation("a", "us-acoustic", minute: 0, at: VerificationTests.ruSide),
            VerificationTests.observation("b", "us-radar", minute: 1, at: VerificationTests.ruSide),
            VerificationTests.observation(
                "early-claim", "ru-claims", minute: 5, at: VerificationTests.uaSide, uncertainty: 50_000),
        ])
        let queues = IncidentReview.queues(r.incidents)
        #expect(queues[.verified]?.count == 1)
        let reported = queues[.reported] ?? []
        #expect(reported.count == 2)
        let starts = reported.compactMap { id in r.incidents.first { $0.id == id }?.start }
        #expect(starts == starts.sorted())
    }
}
