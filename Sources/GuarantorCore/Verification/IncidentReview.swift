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

/// The members every action has — `id`, `at`, `action`, `member`, `user` — read and written in one place.
enum ActionHeader {
    /// Reads and checks the common members of an action object.
    static func read<Kind: RawRepresentable & CaseIterable>(_ f: JSONFields, as: Kind.Type) throws -> (
        id: String, at: Timestamp, receivedAt: Timestamp?, kind: Kind, actor: Actor
    ) where Kind.RawValue == String {
        let id = try f.string("id")
        if id.isEmpty || id.count > Observation.maximumIdLength {
            throw FieldError(path: "id", reason: "must be 1…\(Observation.maximumIdLength) characters")
        }
        let at = try f.timestamp("at")
        let receivedAt = try f.optionalTimestamp("receivedAt")
        if let receivedAt, at > receivedAt {
            throw FieldError(path: "at", reason: "\(at) is after the action's receipt \(receivedAt)")
        }
        let kind = try f.enumeration("action", as: Kind.self)
        let actor = Actor(member: try f.string("member"), user: try f.string("user"))
        guard !actor.member.isEmpty else { throw FieldError(path: "member", reason: "must not be empty") }
        guard !actor.user.isEmpty else { throw FieldError(path: "user", reason: "must not be empty") }
        return (id, at, receivedAt, kind, actor)
    }

    /// Opens an action object and writes its common members.
    static func write(
        id: String, at: Timestamp, receivedAt: Timestamp?, action: String, actor: Actor, into w: inout JSONWriter
    ) {
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("at"); w.timestamp(at)
        if let receivedAt { w.key("receivedAt"); w.timestamp(receivedAt) }
        w.key("action"); w.string(action)
        w.key("member"); w.string(actor.member)
        w.key("user"); w.string(actor.user)
    }
}

/// A decision by people, recorded as an event of its own with a reason (DESIGN §3.5): an analyst's decision on an
/// incident, a board member's endorsement of a finding, or a party's contest of one.
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
        /// Join other incidents into this one: they describe the same happening.
        case merge
        /// Take some observations out of the incident into an incident of their own.
        case split
        /// A board member's endorsement of a finding (a violation).
        case endorse
        /// A party's contest of a finding: recorded, never deleting it.
        case contest

        /// Actions on a violation rather than an incident.
        public var concernsViolation: Bool { self == .endorse || self == .contest }
        /// Actions that change an incident's status through the state machine.
        public var changesStatus: Bool { [.verify, .reject, .dispute, .reopen].contains(self) }
    }

    /// The sender's id; the idempotency key.
    public var id: String
    public var kind: Kind
    public var actor: Actor
    public var reason: String
    /// Event time of the decision; actions apply in (at, id) order.
    public var at: Timestamp
    /// When the store received it (set by the store; never before `at`).
    public var receivedAt: Timestamp?
    /// The incident (every action but endorse and contest) or the violation (endorse, contest) acted on.
    public var target: String
    /// merge: the incidents joined into `target`.
    public var mergedIncidents: [String]
    /// split: the observations taken out of `target`.
    public var splitObservations: [String]

    public init(
        _ kind: Kind, by actor: Actor, reason: String, at: Timestamp, target: String = "", id: String = "",
        mergedIncidents: [String] = [], splitObservations: [String] = []
    ) {
        self.id = id
        self.kind = kind
        self.actor = actor
        self.reason = reason
        self.at = at
        self.target = target
        self.mergedIncidents = mergedIncidents
        self.splitObservations = splitObservations
    }

    static let fields = [
        "id", "at", "receivedAt", "action", "member", "user", "reason", "incident", "violation", "mergeIncidents",
        "splitObservations",
        // Written by replay beside each action; read and ignored, so that a replay's actions.ndjson can be fed back.
        "outcome",
    ]

    /// Reads one action (one line of an actions file, or the payload of an `action` event).
    public init(json value: JSONValue) throws {
        let f = try JSONFields(value)
        try f.rejectUnknown(Self.fields)
        let kind: Kind
        (id, at, receivedAt, kind, actor) = try ActionHeader.read(f, as: Kind.self)
        self.kind = kind
        reason = try f.string("reason")
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw FieldError(path: "reason", reason: "every action needs a reason")
        }
        guard reason.count <= Observation.maximumTextLength else {
            throw FieldError(path: "reason", reason: "longer than \(Observation.maximumTextLength) characters")
        }
        let targetKey = kind.concernsViolation ? "violation" : "incident"
        let otherKey = kind.concernsViolation ? "incident" : "violation"
        if f.members[otherKey] != nil {
            throw FieldError(path: otherKey, reason: "a \(kind.rawValue) names a \(targetKey), not a \(otherKey)")
        }
        target = try f.string(targetKey)
        func strings(_ key: String, for only: Kind) throws -> [String] {
            guard f.members[key] != nil else {
                if kind == only { throw FieldError(path: key, reason: "is required for \(only.rawValue)") }
                return []
            }
            guard kind == only else { throw FieldError(path: key, reason: "only for \(only.rawValue)") }
            let list = try f.array(key).enumerated().map { i, item in
                guard case .string(let s) = item, !s.isEmpty else {
                    throw FieldError(path: "\(key)[\(i)]", reason: "expected a non-empty string")
                }
                return s
            }
            guard !list.isEmpty else { throw FieldError(path: key, reason: "name at least one") }
            guard Set(list).count == list.count else { throw FieldError(path: key, reason: "names one twice") }
            return list
        }
        let merged = try strings("mergeIncidents", for: .merge)
        mergedIncidents = merged
        if merged.contains(target) {
            throw FieldError(path: "mergeIncidents", reason: "cannot merge \(target) into itself")
        }
        splitObservations = try strings("splitObservations", for: .split)
    }

    /// The action in canonical JSON (fixed member order): what the event log stores and hashes.
    public var canonicalJSON: [UInt8] {
        var w = JSONWriter()
        write(into: &w)
        return w.bytes
    }

    /// Writes the action as a JSON object.
    public func write(into w: inout JSONWriter, outcome: String? = nil) {
        ActionHeader.write(id: id, at: at, receivedAt: receivedAt, action: kind.rawValue, actor: actor, into: &w)
        w.key(kind.concernsViolation ? "violation" : "incident"); w.string(target)
        func list(_ key: StaticString, _ values: [String]) {
            guard !values.isEmpty else { return }
            w.key(key)
            w.beginArray()
            for v in values { w.string(v) }
            w.endArray()
        }
        list("mergeIncidents", mergedIncidents)
        list("splitObservations", splitObservations)
        w.key("reason"); w.string(reason)
        if let outcome { w.key("outcome"); w.string(outcome) }
        w.endObject()
    }

    /// Parses an NDJSON file of actions, validated whole.
    public static func parseFile(_ bytes: [UInt8]) -> Result<[ReviewAction], NDJSON.Rejection> {
        NDJSON.parse(bytes, what: "actions", id: \.id, decode: ReviewAction.init(json:)).map(\.records)
    }
}

/// Why a review action is refused; nothing changes.
public struct ReviewError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case reasonRequired, transitionNotAllowed, separationOfDuties, unknownTarget, notPermitted
    }
    public var code: Code
    public var message: String
    public var description: String { message }

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// Who may take which decision, checked by the engine itself, so that the API, the command line and a replay of an
/// edited actions file refuse the same things: a party to the ceasefire only contests findings (it never verifies,
/// rejects, disputes, reopens, merges, splits or endorses — it would decide on its own violations), and only a party
/// contests. That a submitter never verifies its own report's incident is checked with the incident
/// (``IncidentReview/apply(_:to:submitters:)``); that a member answers only its own obligations, by the guarantee.
public enum DecisionRights {
    /// Why `action` may not be taken by its actor, or `nil`.
    public static func refusal(_ action: ReviewAction, parties: [String]) -> ReviewError? {
        let member = action.actor.member
        let isParty = parties.contains(member)
        if action.kind == .contest {
            return isParty
                ? nil
                : ReviewError(.notPermitted, "only a party (\(parties.joined(separator: ", "))) contests a finding")
        }
        guard isParty else { return nil }
        return ReviewError(
            .notPermitted,
            "\(member) is a party to the ceasefire: it may contest findings, never \(action.kind.rawValue)")
    }
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
            throw ReviewError(.reasonRequired, "a \(action.kind.rawValue) needs a reason")
        }
        guard let next = next(from: status, action.kind) else {
            throw ReviewError(
                .transitionNotAllowed,
                "cannot \(action.kind.rawValue) an incident that is \(status.rawValue)")
        }
        if action.kind == .verify && submitters.contains(action.actor.user) {
            throw ReviewError(
                .separationOfDuties,
                "\(action.actor.user) submitted an observation of this incident and cannot verify it")
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
