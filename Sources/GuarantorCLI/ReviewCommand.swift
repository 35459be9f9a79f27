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
        let (batch, logged) = try Files.inputs(mission: mission, observations: nil, actions: nil, store: store)
        var engine = VerificationEngine(mission: mission)
        for o in batch.observations { engine.add(o) }
        for case .review(let a) in logged { engine.add(a) }
        engine.add(action)
        let results = engine.results()
        let outcome = results.actions.first { $0.action.id == action.id }!.outcome
        guard outcome == "applied" else {
            throw CLIError("\(action.kind.rawValue) \(action.target) \(outcome); nothing was stored")
        }
        let result: EventStore.IngestResult
        do {
            result = try Files.openStore(store, mission: mission).record(.review(action))
        } catch let error as StoreError {
            throw CLIError("\(error) — nothing was stored")
        }
        print("\(action.kind.rawValue) \(action.target): applied as action \(action.id)")
        if let incident = results.incidents.first(where: { $0.lastReview?.id == action.id }) {
            print(
                "  incident \(incident.id) is \(incident.status.rawValue), \(incident.observationIds.count) observations"
            )
        }
        if let violation = results.violations.first(where: { $0.id == action.target }) {
            print(
                "  violation \(violation.id): endorsed by \(violation.endorsedBy.joined(separator: ", ")) "
                    + "(\(violation.endorsed ? "endorsed" : "quorum \(mission.agreement.board.quorum) not reached")), "
                    + "\(violation.contests.count) contests")
        }
        print("event log: \(Int(result.eventCount).grouped) events, head \(EventChain.hex(result.headHash))")
    }

    /// The action as a record, validated as an actions file line would be.
    func makeAction() throws -> ReviewAction {
        let time = at ?? Timestamp(nanoseconds: Int64(Date().timeIntervalSince1970 * 1e9)).rfc3339
        var members: [String: JSONValue] = [
            "id": .string(""), "at": .string(time), "action": .string(action), "member": .string(member),
            "user": .string(user), "reason": .string(reason),
        ]
        if let incident { members["incident"] = .string(incident) }
        if let violation { members["violation"] = .string(violation) }
        if !merge.isEmpty { members["mergeIncidents"] = .array(merge.map { .string($0) }) }
        if !split.isEmpty { members["splitObservations"] = .array(split.map { .string($0) }) }
        members["id"] = .string(
            id ?? "A" + EventChain.digestPrefix(Array(JSONValue.object(members).prettyPrinted.utf8)))
        do {
            return try ReviewAction(json: .object(members))
        } catch let error as FieldError {
            throw CLIError("action refused: \(error)")
        }
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
