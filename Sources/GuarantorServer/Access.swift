import Foundation
import GuarantorCore
import GuarantorStore

/// The roles of API users (DESIGN §3.4), each with exactly the rights its users need.
public enum Role: String, CaseIterable, Sendable {
    case monitor, sensor, analyst, liaison, auditor, admin

    /// What the role may do.
    public var rights: Set<Right> {
        switch self {
        case .monitor: [.submitObservations, .readRecords]
        case .sensor: [.submitObservations]
        case .analyst: [.readRecords, .review]
        case .liaison: [.readRecords, .answerObligations, .endorseOrContest]
        case .auditor: [.readRecords, .readOperations, .auditLog, .cosign]
        case .admin: [.readRecords, .readOperations, .advanceClock, .auditLog, .makeCheckpoint]
        }
    }
}

/// A right one or more roles carry.
public enum Right: String, CaseIterable, Sendable {
    /// File observations, one or in bulk.
    case submitObservations
    /// Read incidents, violations, alerts, obligations, statements, the coalition and the agreement (filtered).
    case readRecords
    /// Analysts' actions on incidents: verify, reject, dispute, reopen, merge, split.
    case review
    /// A member's answers to its obligations and its deliveries.
    case answerObligations
    /// Board endorsements and parties' contests of findings.
    case endorseOrContest
    /// Metrics and exports of the whole record.
    case readOperations
    /// Explicit clock events.
    case advanceClock
    /// Checkpoints, inclusion and consistency proofs, log entries (filtered like everything else).
    case auditLog
    /// A witness's cosignature of a checkpoint, for the key's member.
    case cosign
    /// A checkpoint made now, on demand.
    case makeCheckpoint

    /// The right an action needs.
    public static func needed(for action: MissionAction) -> Right {
        switch action {
        case .review(let a): a.kind.concernsViolation ? .endorseOrContest : .review
        case .guarantee(let a): a.kind == .clock ? .advanceClock : .answerObligations
        }
    }
}

/// API keys: random, shown once, stored only as SHA-256 hashes.
public enum APIKeys {
    /// Creates a key for a member's user with a role, stores its hash, and returns the key (to be shown once).
    public static func create(member: String, user: String, role: Role, in store: EventStore) throws -> (
        key: String, holder: EventStore.KeyHolder
    ) {
        guard member != Releasability.publicReader else {
            throw FieldError(
                path: "member", reason: "\(member) is the public view's reader, not a member: it has no keys")
        }
        var random = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        let id = "k" + EventChain.hex(Array(secret.prefix(4)))
        let key = "gk_\(id)_" + EventChain.hex(Array(secret.dropFirst(4)))
        let holder = EventStore.KeyHolder(id: id, member: member, role: role.rawValue, user: user)
        try store.addKey(
            hash: hash(key), holder: holder,
            createdAt: WallClock.now().rfc3339)
        return (key, holder)
    }

    /// The holder of `key`, if the store knows it.
    public static func holder(of key: String, in store: EventStore) throws -> EventStore.KeyHolder? {
        try store.keyHolder(hash: hash(key))
    }

    static func hash(_ key: String) -> [UInt8] {
        let hex = EventChain.digestPrefix(Array(key.utf8), bytes: 32)
        return Array(hex.utf8)
    }
}

extension GuarantorAPI {
    /// `GET /me`: who the key belongs to and what its role may do (the dashboard shows the actions it allows).
    static func me(_ holder: EventStore.KeyHolder) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("member"); w.string(holder.member)
        w.key("user"); w.string(holder.user)
        w.key("role"); w.string(holder.role)
        w.key("rights")
        w.beginArray()
        for right in Right.allCases where Role(rawValue: holder.role)?.rights.contains(right) == true {
            w.string(right.rawValue)
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }
}

extension EventStore.KeyHolder {
    /// Whoever calls a public route without a key (``APIRoute/isPublic``).
    public static let publicReader = EventStore.KeyHolder(
        id: "public", member: Releasability.publicReader, role: "public", user: "public")
}

/// Requests per key per second, with a burst: a token bucket each.
final class RateLimiter: Sendable {
    private let buckets = Mutex([String: (tokens: Double, at: Double)]())
    let perSecond: Double
    let burst: Double

    init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// Takes a token for the key; returns the seconds to wait when there is none.
    func take(_ key: String, now: Double = ProcessInfo.processInfo.systemUptime) -> Double? {
        buckets.withLock { b in
            var bucket = b[key] ?? (burst, now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * perSecond)
            bucket.at = now
            guard bucket.tokens >= 1 else {
                b[key] = bucket
                return (1 - bucket.tokens) / perSecond
            }
            bucket.tokens -= 1
            b[key] = bucket
            return nil
        }
    }
}
