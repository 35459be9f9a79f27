import Foundation

/// A legitimate removal without rewriting: fields of an earlier observation (its free text, its evidence references —
/// where a personal name would be) hidden from every output from now on. It is a new event of the log, signed with
/// the mission's key; the observation's event keeps its leaf, so every proof still holds, and the engines never read
/// these fields, so results do not change.
public struct Redaction: Sendable, Equatable {
    /// Fields that may be redacted.
    public static let redactableFields = ["evidence", "text"]

    public var id: String
    /// When it was decided (wall time; redactions are not engine inputs).
    public var at: Timestamp
    public var member: String
    public var user: String
    /// The sequence number of the observation's event.
    public var event: Int64
    public var fields: [String]
    public var reason: String
    /// The mission's Ed25519 signature over ``signedText``.
    public var signature: [UInt8]

    public init(
        id: String, at: Timestamp, member: String, user: String, event: Int64, fields: [String], reason: String,
        signature: [UInt8] = []
    ) {
        self.id = id
        self.at = at
        self.member = member
        self.user = user
        self.event = event
        self.fields = fields.sorted()
        self.reason = reason
        self.signature = signature
    }

    /// Reads a redaction event's payload.
    public init(json: JSONValue) throws {
        let f = try JSONFields(json)
        try f.rejectUnknown(["id", "at", "member", "user", "event", "fields", "reason", "signature"])
        id = try f.string("id")
        guard let at = Timestamp(rfc3339: try f.string("at")) else {
            throw FieldError(path: "at", reason: "must be RFC 3339")
        }
        self.at = at
        member = try f.string("member")
        user = try f.string("user")
        event = Int64(try f.integer("event", in: 1...Int.max))
        fields = try f.array("fields").enumerated().map { i, value in
            guard case .string(let name) = value, Self.redactableFields.contains(name) else {
                throw FieldError(path: "fields[\(i)]", reason: "must be one of \(Self.redactableFields)")
            }
            return name
        }.sorted()
        reason = try f.string("reason")
        guard let signature = Data(base64Encoded: try f.string("signature")) else {
            throw FieldError(path: "signature", reason: "not base64")
        }
        self.signature = Array(signature)
    }

    /// What the mission signs: the redaction without its signature, as canonical JSON text.
    public var signedText: String { String(decoding: json(withSignature: false), as: UTF8.self) }

    /// The payload stored in the log.
    public var canonicalJSON: [UInt8] { json(withSignature: true) }

    private func json(withSignature: Bool) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("at"); w.timestamp(at)
        w.key("member"); w.string(member)
        w.key("user"); w.string(user)
        w.key("event"); w.int(Int(event))
        w.key("fields"); w.beginArray(); for field in fields { w.string(field) }; w.endArray()
        w.key("reason"); w.string(reason)
        if withSignature { w.key("signature"); w.string(Data(signature).base64EncodedString()) }
        w.endObject()
        return w.bytes
    }
}
