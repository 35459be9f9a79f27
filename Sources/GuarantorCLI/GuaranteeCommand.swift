import ArgumentParser
import Foundation
import GuarantorCore
import GuarantorStore

/// `guarantor guarantee act …`: members answer obligations, record deliveries; the mission advances the clock.
public struct GuaranteeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "guarantee", abstract: "Answer obligations, record deliveries, advance the clock.",
        subcommands: [GuaranteeActCommand.self])

    public init() {}
}

/// `guarantor guarantee act --mission DIR --store FILE --action fulfil --obligation ID --member FR --user NAME …`
public struct GuaranteeActCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "act",
        abstract:
            "Record acknowledge, fulfil (--reference), decline (--reason) of an obligation, deliver (--pledge --quantity), or clock. Checked against the log first; a refused action is not stored."
    )

    @Option(help: "The mission directory.") var mission: String
    @Option(help: "The store.") var store: String
    @Option(help: "acknowledge, fulfil, decline, deliver or clock.") var action: String
    @Option(help: "The obligation answered.") var obligation: String?
    @Option(help: "fulfil: where the proof of delivery is.") var reference: String?
    @Option(help: "decline: why.") var reason: String?
    @Option(help: "deliver: the logistics pledge.") var pledge: String?
    @Option(help: "deliver: how much, in the pledge's unit.") var quantity: Double?
    @Option(help: "Act as this API key's holder (its role must allow the action).") var key: String?
    @Option(help: "Without --key: MISSION (the mission's staff). With --key: the key's member, if given.")
    var member: String?
    @Option(help: "The user acting (the key's, with --key).") var user: String?
    @Option(help: "Event time (RFC 3339); defaults to the event time of the log's latest record.") var at: String?
    @Option(help: "The action's id (idempotency key); defaults to one derived from its content.") var id: String?

    public init() {}

    public func run() throws {
        let mission = try Files.loadMission(self.mission)
        guard mission.coalition != nil else {
            throw CLIError("mission \(self.mission) has no coalition.json and triggers.json: there is no guarantee")
        }
        var (fields, role) = try Files.actionFields(
            action: action, key: key, member: member, user: user, at: at, mission: mission, store: store)
        if let obligation { fields["obligation"] = .string(obligation) }
        if let reference { fields["reference"] = .string(reference) }
        if let reason { fields["reason"] = .string(reason) }
        if let pledge { fields["pledge"] = .string(pledge) }
        if let quantity { fields["quantity"] = .number(quantity) }
        let decoded = try Files.decodeAction(fields, id: id) { try GuaranteeAction(json: $0) }
        try Files.checkRight(.guarantee(decoded), role: role)
        let (_, changes, result) = try Files.record(
            .guarantee(decoded), missionDirectory: self.mission, mission: mission, store: store)
        print("\(decoded.kind.rawValue): applied as action \(decoded.id)")
        if let id = decoded.obligation, let o = changes.guarantee?.obligations.first(where: { $0.id == id }) {
            print("  obligation \(o.id) is \(o.status.rawValue)\(o.late ? " (late)" : "")")
        }
        print("event log: \(Int(result.eventCount).grouped) events, head \(EventChain.hex(result.headHash))")
    }
}
