import ArgumentParser
import Foundation
import GuarantorCore
import GuarantorStore

/// `guarantor review …`: analysts act on incidents, the board endorses findings, parties contest them.
public struct ReviewCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "review", abstract: "Act on incidents and findings, and see the review queues.",
        subcommands: [ReviewActCommand.self, ReviewQueueCommand.self])

    public init() {}
}

/// `guarantor review act --mission DIR --store FILE --action verify --incident ID --member US --user NAME --reason …`
public struct ReviewActCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "act",
        abstract:
            "Record an action (verify, reject, dispute, reopen, merge, split on an incident; endorse, contest on a violation). It is checked against the log first; a refused action is not stored."
    )

    @Option(help: "The mission directory.") var mission: String
    @Option(help: "The store.") var store: String
    @Option(help: "verify, reject, dispute, reopen, merge, split, endorse or contest.") var action: String
    @Option(help: "The incident acted on.") var incident: String?
    @Option(help: "The violation endorsed or contested.") var violation: String?
    @Option(help: "merge: an incident to join into --incident (repeat).") var merge: [String] = []
    @Option(help: "split: an observation to take out of --incident (repeat).") var split: [String] = []
    @Option(help: "The actor's member state (or mission).") var member: String
    @Option(help: "The actor's user id.") var user: String
    @Option(help: "Why; required.") var reason: String
    @Option(help: "Event time of the decision (RFC 3339); defaults to now.") var at: String?
    @Option(help: "The action's id (idempotency key); defaults to one derived from its content.") var id: String?

    public init() {}

    public func run() throws {
        let mission = try Files.loadMission(self.mission)
        let action = try makeAction()
        let (output, result) = try Files.record(.review(action), mission: mission, store: store)
        print("\(action.kind.rawValue) \(action.target): applied as action \(action.id)")
        if let incident = output.verification.incidents.first(where: { $0.lastReview?.id == action.id }) {
            print(
                "  incident \(incident.id) is \(incident.status.rawValue), \(incident.observationIds.count) observations"
            )
        }
        if let violation = output.verification.violations.first(where: { $0.id == action.target }) {
            print(
                "  violation \(violation.id): endorsed by \(violation.endorsedBy.joined(separator: ", ")) "
                    + "(\(violation.endorsed ? "endorsed" : "quorum \(mission.agreement.board.quorum) not reached")), "
                    + "\(violation.contests.count) contests")
        }
        print("event log: \(Int(result.eventCount).grouped) events, head \(EventChain.hex(result.headHash))")
    }

    /// The action as a record, validated as an actions file line would be.
    func makeAction() throws -> ReviewAction {
        var members = Files.actionFields(action: action, member: member, user: user, at: at)
        members["reason"] = .string(reason)
        if let incident { members["incident"] = .string(incident) }
        if let violation { members["violation"] = .string(violation) }
        if !merge.isEmpty { members["mergeIncidents"] = .array(merge.map { .string($0) }) }
        if !split.isEmpty { members["splitObservations"] = .array(split.map { .string($0) }) }
        return try Files.decodeAction(members, id: id) { try ReviewAction(json: $0) }
    }
}

/// `guarantor review queue --mission DIR --store FILE [--status reported]`
public struct ReviewQueueCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "The review queues: incidents per status, oldest first.")

    @Option(help: "The mission directory.") var mission: String
    @Option(help: "The store.") var store: String
    @Option(help: "Only this status (reported, corroborated, verified, disputed, rejected).") var status: String?
    @Option(help: "At most this many incidents per queue.") var limit: Int = 20

    public init() {}

    public func run() throws {
        let mission = try Files.loadMission(self.mission)
        let wanted = try status.map {
            guard let s = IncidentStatus(rawValue: $0) else {
                throw CLIError(
                    "unknown status \($0) (\(IncidentStatus.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return s
        }
        let (batch, logged) = try Files.inputs(mission: mission, observations: nil, actions: nil, store: store)
        var engine = VerificationEngine(mission: mission)
        for o in batch.observations { engine.add(o) }
        for case .review(let a) in logged { engine.add(a) }
        let incidents = engine.results().incidents
        let byId = Dictionary(uniqueKeysWithValues: incidents.map { ($0.id, $0) })
        let queues = IncidentReview.queues(incidents)
        for status in IncidentStatus.allCases where wanted == nil || wanted == status {
            let queue = queues[status] ?? []
            print("\(status.rawValue): \(queue.count.grouped)")
            for id in queue.prefix(limit) {
                let i = byId[id]!
                let sector = i.classification.sector >= 0 ? mission.sectors.names[Int(i.classification.sector)] : "-"
                print(
                    "  \(id)  \(i.start.rfc3339)  \(i.kind.rawValue)  \(sector)  \(i.observationIds.count) obs, "
                        + "\(i.independentSources) independent")
            }
        }
    }
}
