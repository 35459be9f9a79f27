import Foundation
import GuarantorCore

/// The database under the event log, below the store's rules: SQLite through GRDB (``SQLiteLog``, one file) or
/// PostgreSQL through libpq (``PostgresLog``, shared by several nodes). ``EventStore`` keeps the rules — the hash
/// chain, idempotency, all-or-nothing batches, receipts — once, over either.
protocol LogDatabase: Sendable {
    /// Runs `body` on one consistent view of the log.
    func read<T>(_ body: (any LogReading) throws -> T) throws -> T
    /// Runs `body` in one transaction during which no other writer, on this machine or another, appends: what
    /// `body` reads of the head stays the head until it commits. Nothing of it stays when it throws.
    func write<T>(_ body: (any LogWriting) throws -> T) throws -> T
}

/// A new event, its hash computed by the store.
struct NewEvent {
    var sequence: Int64
    var kind: String
    var observationId: String? = nil
    var actionId: String? = nil
    var payload: [UInt8]
    var previousHash: [UInt8]
    var hash: [UInt8]
}

/// A stored checkpoint as its row holds it.
struct CheckpointRow {
    var size: Int
    var body: String
    var signature: [UInt8]
    /// One `name sha256` per line.
    var resultFiles: String
}

/// What a read can ask of the log's database.
protocol LogReading {
    func meta(_ key: String) throws -> String?
    /// The number of events and the last one's hash (``EventChain/genesis`` when empty).
    func head() throws -> (Int64, [UInt8])
    func event(sequence: Int64) throws -> EventStore.Event?
    /// Every event with `after < sequence ≤ upTo`, in order; the payload is valid only inside `body`.
    func forEachEvent(
        after: Int64, upTo: Int64, _ body: (Int64, String, UnsafeRawBufferPointer) throws -> Void) throws
    /// Every event, with its hashes, in order.
    func events() throws -> [EventStore.Event]
    /// The stored observations among `ids`: their sequence and payload.
    func observations(ids: [String]) throws -> [String: (sequence: Int64, payload: [UInt8])]
    func actionPayload(id: String) throws -> [UInt8]?
    /// The payloads of one of the rare kinds (actions, redactions, reports) up to `upTo`, in order.
    func payloads(kind: EventKind, upTo: Int64) throws -> [(sequence: Int64, payload: [UInt8])]
    /// The payload of the latest event of these kinds.
    func latestPayload(kinds: [EventKind]) throws -> [UInt8]?
    /// Whether an event after `sequence` is of a kind not in `except`.
    func hasEvents(after sequence: Int64, except: [EventKind]) throws -> Bool
    /// All checkpoints, the one of `size`, or the latest, by size.
    func checkpoints(size: Int?, latestOnly: Bool) throws -> [CheckpointRow]
    func cosignatures() throws -> [(size: Int, member: String, signature: [UInt8])]
    /// Every key, oldest first.
    func keys() throws -> [EventStore.StoredKey]
    /// The holder of the standing key of this hash.
    func keyHolder(hash: [UInt8]) throws -> EventStore.KeyHolder?
    /// The holder of the standing key of this id.
    func standingKey(id: String) throws -> EventStore.KeyHolder?
}

/// What a write transaction can do besides reading.
protocol LogWriting: LogReading {
    func setMeta(_ key: String, _ value: String) throws
    /// Appends events whose ids are known to be new.
    func insert(_ events: [NewEvent]) throws
    /// Stores a checkpoint unless one of its size is stored.
    func insertCheckpoint(_ row: CheckpointRow) throws
    /// Stores a cosignature unless the member's for that size is stored.
    func insertCosignature(size: Int, member: String, signature: [UInt8]) throws
    func insertKey(hash: [UInt8], holder: EventStore.KeyHolder, createdAt: String) throws
    func markKeyRevoked(id: String, at time: String) throws
}
