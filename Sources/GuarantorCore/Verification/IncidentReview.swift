import Foundation

/// Who acts: a user of a member state (or of the mission).
public struct Actor: Sendable, Hashable {
    public var member: String
    public var user: String

    public init(member: String, user: String) {
        self.member = member
        self.user = user
    }
}

/// An analyst's decision on an incident (DESIGN §3.5). Every decision carries a reason and is an event of its own.
public struct ReviewAction: Sendable, Equatable {
    public enum Kind: String, CaseIterable, Sendable {
        /// Confirm the incident (from reported, corroborated or disputed).
        case verify
        /// Discard it as not having happened or not being what was reported (from any status but rejected).
        case reject
        /// Mark it contested pending more evidence (from reported, corroborated or verified).
        case dispute
        /// Take a rejection back for review (rejected → reported).
        case reopen
    }

    public var kind: Kind
    public var actor: Actor
    public var reason: String
    public var at: Timestamp

    public init(_ kind: Kind, by actor: Actor, reason: String, at: Timestamp) {
        self.kind = kind
        self.actor = actor
        self.reason = reason
        self.at = at
    }
}

/// Why a review action is refused; nothing changes.
public struct ReviewError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable { case reasonRequired, transitionNotAllowed, separationOfDuties }
    public var code: Code
    public var message: String
    public var description: String { message }
}

/// The explicit state machine of an incident's status under analysts' actions.
public enum IncidentReview {
    /// The status after `action` from `status`, or `nil` when the state machine does not allow it.
    public static func next(from status: IncidentStatus, _ action: ReviewAction.Kind) -> IncidentStatus? {
        switch (action, status) {
        case (.verify, .reported), (.verify, .corroborated), (.verify, .disputed): .verified
        case (.reject, .reported), (.reject, .corroborated), (.reject, .verified), (.reject, .disputed): .rejected
        case (.dispute, .reported), (.dispute, .corroborated), (.dispute, .verified): .disputed
        case (.reopen, .rejected): .reported
        default: nil
        }
    }

    /// Applies an action to an incident whose observations were submitted by `submitters` (user ids).
    /// - Throws: ``ReviewError`` when the reason is empty, the transition is not allowed, or the actor submitted an
    ///   observation of the incident and tries to verify it.
    public static func apply(_ action: ReviewAction, to status: IncidentStatus, submitters: Set<String>) throws
        -> IncidentStatus
    {
        guard !action.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ReviewError(code: .reasonRequired, message: "a \(action.kind.rawValue) needs a reason")
        }
        guard let next = next(from: status, action.kind) else {
            throw ReviewError(
                code: .transitionNotAllowed,
                message: "cannot \(action.kind.rawValue) an incident that is \(status.rawValue)")
        }
        if action.kind == .verify && submitters.contains(action.actor.user) {
            throw ReviewError(
                code: .separationOfDuties,
                message: "\(action.actor.user) submitted an observation of this incident and cannot verify it")
        }
        return next
    }

    /// Review queues: incident ids per status, oldest first.
    public static func queues(_ incidents: [Incident]) -> [IncidentStatus: [String]] {
        var queues: [IncidentStatus: [String]] = [:]
        for incident in incidents.sorted(by: { ($0.start, $0.id) < ($1.start, $1.id) }) {
            queues[incident.status, default: []].append(incident.id)
        }
        return queues
    }
}
