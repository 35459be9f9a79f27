import Foundation

/// A member's answer to an obligation, a delivery against a logistics pledge, or an explicit clock event: the
/// guarantee engine's inputs from people (actions files and the event log, beside ``ReviewAction``).
public struct GuaranteeAction: Sendable, Equatable {
    public enum Kind: String, CaseIterable, Sendable {
        /// The obliged member has seen the obligation.
        case acknowledge
        /// The obliged member delivered; `reference` says where the proof is.
        case fulfil
        /// The obliged member will not deliver; `reason` says why.
        case decline
        /// A delivery of `quantity` against a logistics `pledge`.
        case deliver
        /// Event time advances to `at` (deadlines and quiet periods up to it take effect).
        case clock
    }

    public var id: String
    public var kind: Kind
    public var at: Timestamp
    /// When the store received it (set by the store; never before `at`).
    public var receivedAt: Timestamp?
    public var actor: Actor
    /// acknowledge, fulfil, decline: the obligation answered.
    public var obligation: String?
    public var reference: String?
    public var reason: String?
    /// deliver: the pledge and the quantity (in the pledge's unit).
    public var pledge: String?
    public var quantity: Double?

    /// A delivery against a logistics pledge.
    public init(id: String, delivery pledge: String, quantity: Double, at: Timestamp, by actor: Actor) {
        self.id = id
        kind = .deliver
        self.at = at
        self.actor = actor
        self.pledge = pledge
        self.quantity = quantity
    }

    /// A clock event: event time advances to `at`.
    public init(clock at: Timestamp, id: String, by actor: Actor) {
        self.id = id
        kind = .clock
        self.at = at
        self.actor = actor
    }

    static let fields = [
        "id", "at", "receivedAt", "action", "member", "user", "obligation", "reference", "reason", "pledge", "quantity",
        "outcome",
    ]

    /// Reads one action; `action` must be one of ``Kind``.
    public init(json value: JSONValue) throws {
        let f = try JSONFields(value)
        try f.rejectUnknown(Self.fields)
        let kind: Kind
        (id, at, receivedAt, kind, actor) = try ActionHeader.read(f, as: Kind.self)
        self.kind = kind
        func text(_ key: String, required: Bool) throws -> String? {
            let value = try f.optionalString(key)
            if required && (value ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                throw FieldError(path: key, reason: "is required for \(kind.rawValue)")
            }
            if let value, value.count > Observation.maximumTextLength {
                throw FieldError(path: key, reason: "longer than \(Observation.maximumTextLength) characters")
            }
            return value
        }
        let answersObligation = [.acknowledge, .fulfil, .decline].contains(kind)
        obligation = try text("obligation", required: answersObligation)
        reference = try text("reference", required: kind == .fulfil)
        reason = try text("reason", required: kind == .decline)
        pledge = try text("pledge", required: kind == .deliver)
        quantity = try f.optionalNumber("quantity")
        if kind == .deliver {
            guard let q = quantity, q > 0 else {
                throw FieldError(path: "quantity", reason: "a delivery needs a positive quantity")
            }
        }
        for (key, allowed) in [
            ("obligation", answersObligation), ("pledge", kind == .deliver), ("quantity", kind == .deliver),
        ] where !allowed && f.members[key] != nil {
            throw FieldError(path: key, reason: "not part of a \(kind.rawValue)")
        }
    }

    /// The action in canonical JSON (fixed member order).
    public var canonicalJSON: [UInt8] {
        var w = JSONWriter()
        write(into: &w)
        return w.bytes
    }

    /// Writes the action as a JSON object, with its outcome when given.
    public func write(into w: inout JSONWriter, outcome: String? = nil) {
        ActionHeader.write(id: id, at: at, receivedAt: receivedAt, action: kind.rawValue, actor: actor, into: &w)
        if let obligation { w.key("obligation"); w.string(obligation) }
        if let reference { w.key("reference"); w.string(reference) }
        if let reason { w.key("reason"); w.string(reason) }
        if let pledge { w.key("pledge"); w.string(pledge) }
        if let quantity { w.key("quantity"); w.number(quantity) }
        if let outcome { w.key("outcome"); w.string(outcome) }
        w.endObject()
    }
}

/// Any action a person records: on incidents and findings, or on the guarantee.
public enum MissionAction: Sendable, Equatable {
    case review(ReviewAction)
    case guarantee(GuaranteeAction)

    public var id: String {
        switch self {
        case .review(let a): a.id
        case .guarantee(let a): a.id
        }
    }

    public var at: Timestamp {
        switch self {
        case .review(let a): a.at
        case .guarantee(let a): a.at
        }
    }

    /// When the store received it.
    public var receivedAt: Timestamp? {
        switch self {
        case .review(let a): a.receivedAt
        case .guarantee(let a): a.receivedAt
        }
    }

    /// The same action, received at `time` (`nil`: with no receipt time).
    public func received(at time: Timestamp?) -> MissionAction {
        switch self {
        case .review(var a):
            a.receivedAt = time
            return .review(a)
        case .guarantee(var a):
            a.receivedAt = time
            return .guarantee(a)
        }
    }

    /// The actor.
    public var actor: Actor {
        switch self {
        case .review(let a): a.actor
        case .guarantee(let a): a.actor
        }
    }

    /// The action in canonical JSON: what the event log stores and hashes.
    public var canonicalJSON: [UInt8] {
        switch self {
        case .review(let a): a.canonicalJSON
        case .guarantee(let a): a.canonicalJSON
        }
    }

    /// Reads one action, by its `action` member.
    public init(json value: JSONValue) throws {
        let f = try JSONFields(value)
        let name = try f.string("action")
        if ReviewAction.Kind(rawValue: name) != nil {
            self = .review(try ReviewAction(json: value))
        } else if GuaranteeAction.Kind(rawValue: name) != nil {
            self = .guarantee(try GuaranteeAction(json: value))
        } else {
            let all = ReviewAction.Kind.allCases.map(\.rawValue) + GuaranteeAction.Kind.allCases.map(\.rawValue)
            throw FieldError(path: "action", reason: "unknown action \"\(name)\" (\(all.joined(separator: ", ")))")
        }
    }

    /// Parses an NDJSON file of actions, validated whole.
    public static func parseFile(_ bytes: [UInt8]) -> Result<[MissionAction], NDJSON.Rejection> {
        NDJSON.parse(bytes, what: "actions", id: \.id, decode: MissionAction.init(json:)).map(\.records)
    }
}
