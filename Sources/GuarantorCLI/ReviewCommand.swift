import ArgumentParser
import Foundation
import GuarantorCore
import GuarantorServer
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
    @Option(help: "Act as this API key's holder (its role must allow the action).") var key: String?
    @Option(help: "Without --key: MISSION (the mission's staff). With --key: the key's member, if given.")
    var member: String?
    @Option(help: "The user acting (the key's, with --key).") var user: String?
    @Option(help: "Why; required.") var reason: String
    @Option(help: "Event time of the decision (RFC 3339); defaults to the event time of the log's latest record.")
    var at: String?
    @Option(help: "The action's id (idempotency key); defaults to one derived from its content.") var id: String?

    public init() {}

    public func run() throws {
        let mission = try Files.loadMission(self.mission)
        let (action, role) = try makeAction(mission)
        try Files.checkRight(.review(action), role: role)
        let (_, changes, result) = try Files.record(
            .review(action), missionDirectory: self.mission, mission: mission, store: store)
        print("\(action.kind.rawValue) \(action.target): applied as action \(action.id)")
        var records: [IncidentRecord] = []
        for case .upsert(let record, _) in changes.units { records.append(record) }
        if let incident = records.map(\.incident).last(where: { $0.lastReview?.id == action.id }) {
            print(
                "  incident \(incident.id) is \(incident.status.rawValue), \(incident.observationIds.count) observations"
            )
        }
        if let violation = records.flatMap(\.findings).last(where: { $0.id == action.target }) {
            print(
                "  violation \(violation.id): endorsed by \(violation.endorsedBy.joined(separator: ", ")) "
                    + "(\(violation.endorsed ? "endorsed" : "quorum \(mission.agreement.board.quorum) not reached")), "
                    + "\(violation.contests.count) contests")
        }
        print("event log: \(Int(result.eventCount).grouped) events, head \(EventChain.hex(result.headHash))")
    }

    /// The action as a record, validated as an actions file line would be.
    func makeAction(_ mission: Mission) throws -> (ReviewAction, Role?) {
        var (members, role) = try Files.actionFields(
            action: action, key: key, member: member, user: user, at: at, mission: mission, store: store)
        members["reason"] = .string(reason)
        if let incident { members["incident"] = .string(incident) }
        if let violation { members["violation"] = .string(violation) }
        if !merge.isEmpty { members["mergeIncidents"] = .array(merge.map { .string($0) }) }
        if !split.isEmpty { members["splitObservations"] = .array(split.map { .string($0) }) }
        return (try Files.decodeAction(members, id: id) { try ReviewAction(json: $0) }, role)
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
        var engine = try Files.openEngine(missionDirectory: self.mission, mission: mission, store: store)
        // Counts from the engine; each queue's oldest through the sealed rows' (status, start, id) index.
        let counts = engine.counts.byStatus
        var queues: [String: [StandingIncidents.Standing]] = [:]
        var standing = engine.standing
        for status in IncidentStatus.allCases where wanted == nil || wanted == status {
            var filter = EventStore.SealedFilter()
            filter.status = status.rawValue
            var queue: [StandingIncidents.Standing] = []
            if limit > 0 {
                try standing.forEach(filter: filter, batch: limit) { incident in
                    queue.append(incident)
                    return queue.count < limit
                }
            }
            queues[status.rawValue] = queue
        }
        Files.snapshotIfLong(&engine)
        for status in IncidentStatus.allCases where wanted == nil || wanted == status {
            print("\(status.rawValue): \((counts[status.rawValue] ?? 0).grouped)")
            for incident in queues[status.rawValue] ?? [] {
                let i: Incident
                switch incident {
                case .live(let record): i = record.incident
                case .sealed(let row):
                    i = try Self.incident(row, mission: mission)
                }
                let sector = i.classification.sector >= 0 ? mission.sectors.names[Int(i.classification.sector)] : "-"
                print(
                    "  \(i.id)  \(i.start.rfc3339)  \(i.kind.rawValue)  \(sector)  \(i.observationIds.count) obs, "
                        + "\(i.independentSources) independent")
            }
        }
    }

    /// What the queue shows of a sealed incident, read from its line.
    static func incident(_ row: EventStore.SealedIncident, mission: Mission) throws -> Incident {
        let f = try JSONFields(JSONValue.parse(row.line))
        let location = try f.object("location")
        let point = GeoPoint(lon: try location.number("lon"), lat: try location.number("lat"))
        return Incident(
            id: row.id, observationIds: row.members, kind: try f.enumeration("kind", as: ObservationKind.self),
            weaponClass: nil,
            location: Location(point: point, uncertaintyMeters: try location.number("uncertaintyMeters")),
            start: Timestamp(nanoseconds: row.start), end: Timestamp(nanoseconds: row.end), count: 1, sources: [],
            independentSources: try f.integer("independentSources", in: 0...Int.max), independentReliableSources: 0,
            credibility: 5, status: try f.enumeration("status", as: IncidentStatus.self),
            classification: mission.classify(point), late: row.late)
    }
}
