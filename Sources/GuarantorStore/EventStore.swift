import Crypto
import Foundation
import GRDB
import GuarantorCore

/// The store: an append-only, hash-chained event log, in one SQLite file (WAL mode) or in PostgreSQL shared by
/// several nodes (``LogDatabase``), and beside it the derived results (a SQLite file of each node's own).
///
/// Every accepted observation is one event. Appends happen in one transaction per batch, so a batch is stored whole
/// or not at all, and a committed batch survives a crash or power loss. The database itself refuses any UPDATE or
/// DELETE of events (triggers).
public final class EventStore: Sendable {
    /// Where writes go (and reads, unless there is a replica).
    let log: any LogDatabase
    /// A streaming replica of `log` that reads go to (`guarantor serve --read-store`), if any.
    let replica: PostgresLog?
    /// Derived results (``resultsPath(of:)``): sealed incidents and snapshots.
    let results: DatabasePool
    /// The mission this store belongs to.
    public let missionId: String
    /// Whether the log is in PostgreSQL (`postgres://…`) rather than a SQLite file.
    public let isShared: Bool

    /// Whether `location` names a PostgreSQL database (`postgres://…` or `postgresql://…`) rather than a file.
    public static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// What an ingest did.
    public struct IngestResult: Sendable, Equatable {
        /// Events appended now.
        public var appended: Int
        /// Observations whose id was already stored with the same content (skipped, idempotent).
        public var alreadyPresent: Int
        /// Number of events in the log afterwards, and the hash of the last one.
        public var eventCount: Int64
        public var headHash: [UInt8]
        /// The positions in the batch of the observations appended, in order (the others were stored already).
        public var appendedIndices: [Int] = []
    }

    /// One stored event.
    public struct Event: Sendable, Equatable {
        public var sequence: Int64
        public var kind: String
        public var payload: [UInt8]
        public var previousHash: [UInt8]
        public var hash: [UInt8]

        /// The event's leaf in the Merkle tree (``MerkleTree/leafData(sequence:kind:payload:)``).
        public var leafHash: [UInt8] {
            MerkleTree.leafHash(MerkleTree.leafData(sequence: sequence, kind: kind, payload: payload))
        }
    }

    /// Whether the store can only be read (a PostgreSQL streaming replica opened as the store).
    public var isReadOnly: Bool { (log as? PostgresLog)?.isReadOnly ?? false }

    /// What the nodes on a shared store agree through it (leases, the stream's changes); `nil` for SQLite.
    public var coordination: SharedCoordination? { (log as? PostgresLog).map { SharedCoordination(pool: $0.pool) } }

    /// The default results database of a node `node` on the shared store at `url`: a file in the temporary directory
    /// named after the URL, mission and node (two nodes on one machine never share one).
    public static func sharedResultsPath(url: String, missionId: String, node: String? = nil) -> String {
        let name =
            Self.fingerprint(url + "\n" + missionId) + (node.map { "-" + $0.filter(\.isLetterOrDigitOrDash) } ?? "")
        return FileManager.default.temporaryDirectory.appendingPathComponent("guarantor-\(name).results.sqlite").path
    }

    /// Opens (creating if needed) the store at `path` — a SQLite file, or a PostgreSQL URL
    /// (`postgres://user@host:port/db`, libpq's syntax) — for the mission `missionId`. The results database is
    /// `resultsPath`, by default beside a SQLite store (``resultsPath(of:)``) or, for PostgreSQL, a file in the
    /// temporary directory named after the URL and mission (each node should name its own).
    /// - Throws: ``StoreError`` when it is not a Guarantor store, belongs to another mission, or cannot be reached.
    /// A PostgreSQL server in recovery (a streaming replica) is opened read only: reads, exports and `guarantor
    /// verify` run on it, writes are refused (``StoreError/Code/readOnly``).
    /// - Parameter readReplica: a streaming replica of the PostgreSQL store at `path`: the log is read there (what
    ///   a read needs up to a position it waits for), written at `path`.
    public init(path: String, missionId: String, resultsPath: String? = nil, readReplica: String? = nil) throws {
        isShared = Self.isPostgres(path)
        let shown = isShared ? Self.redactedURL(path) : path
        do {
            log = isShared ? try PostgresLog(url: path) : try SQLiteLog(path: path)
        } catch {
            throw StoreError(code: .cannotOpen, message: "cannot open store \(shown): \(Self.describe(error))")
        }
        if let readReplica {
            guard isShared, Self.isPostgres(readReplica) else {
                throw StoreError(
                    code: .cannotOpen, message: "a read replica needs a PostgreSQL store and a postgres:// replica")
            }
            do {
                replica = try PostgresLog(url: readReplica, readOnly: true)
            } catch {
                throw StoreError(
                    code: .cannotOpen,
                    message: "cannot open the read replica \(Self.redactedURL(readReplica)): \(Self.describe(error))")
            }
        } else {
            replica = nil
        }
        self.missionId = missionId
        let resultsPath =
            resultsPath
            ?? (isShared
                ? Self.sharedResultsPath(url: path, missionId: missionId) : Self.resultsPath(of: path))
        do {
            var resultConfiguration = Configuration()
            resultConfiguration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            results = try DatabasePool(path: resultsPath, configuration: resultConfiguration)
            try Self.resultMigrator.migrate(results)
        } catch {
            throw StoreError(
                code: .cannotOpen, message: "cannot open the results \(resultsPath): \(Self.describe(error))")
        }
        do {
            // (Read first: a replica can only be read.)
            let stored =
                try log.read { try $0.meta("missionId") }
                ?? log.write { db -> String in
                    if let id = try db.meta("missionId") { return id }
                    try db.setMeta("missionId", missionId)
                    return missionId
                }
            guard stored == missionId else {
                throw StoreError(
                    code: .wrongMission,
                    message: "store \(shown) belongs to mission \"\(stored)\", not \"\(missionId)\""
                )
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(
                code: .cannotOpen, message: "\(shown) is not a usable Guarantor store: \(Self.describe(error))")
        }
        if let replica {
            // The same log: the same mission, and the first event the same (a replica of another schema is not).
            let theirs = try? replica.read { (try $0.meta("missionId"), try $0.event(sequence: 1)?.hash) }
            let mine = try? log.read { try $0.event(sequence: 1)?.hash }
            guard let theirs, theirs.0 == missionId, theirs.1 == nil || mine == nil || theirs.1 == mine! else {
                throw StoreError(
                    code: .wrongMission,
                    message: "the read replica \(Self.redactedURL(readReplica ?? "")) does not hold this store's log "
                        + "(mission \(theirs?.0.map { "\"\($0)\"" } ?? "none"); give it the same search_path)")
            }
        }
    }

    /// A URL with its password, if any, replaced by `***`: what messages and logs show.
    public static func redactedURL(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }

    private static func fingerprint(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// Appends the observations not yet stored, in order, in one transaction.
    ///
    /// Each stored observation carries its receipt time (`receivedAt`, in the hashed payload): the one it brings (the
    /// server stamps what it receives; a simulated mission its simulated receipts), or now by the store's clock. An
    /// observation dated more than `maximumSkewSeconds` after its receipt refuses the whole batch
    /// (``StoreError/Code/aheadOfReceipt``). An id already stored with the same content (whatever its receipt time)
    /// is skipped; with different content the whole batch is refused (``StoreError/Code/conflictingObservation``).
    /// Nothing is written when the batch is refused.
    public func ingest(
        _ observations: [Observation], maximumSkewSeconds: Double = Observation.defaultMaximumSkewSeconds
    ) throws -> IngestResult {
        var received = ObservationBatch(observations: observations, lineNumbers: Array(1...max(observations.count, 1)))
        let now = WallClock.now()
        for i in received.observations.indices where received.observations[i].receivedAt == nil {
            received.observations[i].receivedAt = now
        }
        do {
            try received.checkReceipt(maximumSkewSeconds: maximumSkewSeconds)
        } catch {
            throw StoreError(
                code: .aheadOfReceipt, message: "\(error)".replacingOccurrences(of: "line ", with: "observation "))
        }
        let observations = received.observations
        do {
            return try log.write { db in
                var (sequence, head) = try db.head()
                let stored = try db.observations(ids: observations.map(\.id))
                var new: [NewEvent] = []
                var newIndex: [String: Int] = [:]
                var present = 0
                var appendedIndices: [Int] = []
                for (index, observation) in observations.enumerated() {
                    // A stored id (or one earlier in this batch) appends nothing if it is the same record.
                    if let earlier = stored[observation.id]?.payload
                        ?? newIndex[observation.id].map({ new[$0].payload })
                    {
                        guard Self.sameObservation(earlier, observation) else {
                            throw StoreError(
                                code: .conflictingObservation,
                                message: "observation \"\(observation.id)\" is already stored with different content")
                        }
                        present += 1
                        continue
                    }
                    let payload = observation.canonicalJSON
                    let hash = EventChain.hash(
                        previous: head, sequence: sequence + 1, kind: EventKind.observation.rawValue, payload: payload)
                    newIndex[observation.id] = new.count
                    new.append(
                        NewEvent(
                            sequence: sequence + 1, kind: EventKind.observation.rawValue, observationId: observation.id,
                            payload: payload, previousHash: head, hash: hash))
                    sequence += 1
                    head = hash
                    appendedIndices.append(index)
                }
                try db.insert(new)
                return IngestResult(
                    appended: new.count, alreadyPresent: present, eventCount: sequence, headHash: head,
                    appendedIndices: appendedIndices)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: .writeFailed, message: "could not write to the store: \(Self.describe(error))")
        }
    }

    /// Whether a stored observation's payload is the same record as `observation`, receipt times aside (a sender's
    /// retry is received again later).
    private static func sameObservation(_ stored: [UInt8], _ observation: Observation) -> Bool {
        let decoded = stored.withUnsafeBufferPointer { try? ObservationBatch.decode($0, isKnownSource: { _ in true }) }
        guard let decoded else { return false }
        return decoded.canonicalJSON == observation.received(at: decoded.receivedAt).canonicalJSON
    }

    /// Appends a person's action unless the same action (id and content, receipt times aside) is already stored.
    ///
    /// The action carries its receipt time (`receivedAt`): the one it brings, or now by the store's clock.
    /// - Throws: ``StoreError/Code/aheadOfReceipt`` when it is dated after its receipt;
    ///   ``StoreError/Code/conflictingObservation`` when the id is stored with different content.
    /// - Parameter head: append only if the log has exactly this many events (a node that tried the action on an
    ///   engine fed that far); otherwise ``StoreError/Code/headMoved`` and nothing is stored.
    public func record(_ action: MissionAction, ifHeadIs head: Int64? = nil) throws -> IngestResult {
        let expectedHead = head
        let action = action.receivedAt == nil ? action.received(at: WallClock.now()) : action
        if let receivedAt = action.receivedAt, action.at > receivedAt {
            throw StoreError(
                code: .aheadOfReceipt,
                message: "at: \(action.at) is after the action's receipt \(receivedAt): the sender's clock is ahead")
        }
        let payload = action.canonicalJSON
        do {
            return try log.write { db in
                let (sequence, head) = try db.head()
                if let stored = try db.actionPayload(id: action.id) {
                    guard Self.sameAction(stored, action) else {
                        throw StoreError(
                            code: .conflictingObservation,
                            message: "action \"\(action.id)\" is already stored with different content")
                    }
                    return IngestResult(appended: 0, alreadyPresent: 1, eventCount: sequence, headHash: head)
                }
                if let expectedHead, sequence != expectedHead {
                    throw StoreError(
                        code: .headMoved, message: "the log has \(sequence) events, not \(expectedHead): tried again")
                }
                let kind = EventKind.action.rawValue
                let hash = EventChain.hash(previous: head, sequence: sequence + 1, kind: kind, payload: payload)
                try db.insert([
                    NewEvent(
                        sequence: sequence + 1, kind: kind, actionId: action.id, payload: payload, previousHash: head,
                        hash: hash)
                ])
                return IngestResult(appended: 1, alreadyPresent: 0, eventCount: sequence + 1, headHash: hash)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: .writeFailed, message: "could not write to the store: \(Self.describe(error))")
        }
    }

    /// Whether a stored action's payload is `action`, receipt times aside.
    private static func sameAction(_ stored: [UInt8], _ action: MissionAction) -> Bool {
        guard let decoded = try? MissionAction(json: JSONValue.parse(stored)) else { return false }
        return decoded.canonicalJSON == action.received(at: decoded.receivedAt).canonicalJSON
    }

    /// Runs `body` on one consistent view of the log, turning the database's errors into ``StoreError``.
    func read<T>(_ body: (any LogReading) throws -> T) throws -> T {
        do {
            return try (replica ?? log).read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: .readFailed, message: "could not read the store: \(Self.describe(error))")
        }
    }

    /// Runs `body` on the log where writes go (the primary, even with a replica): for what must be current the
    /// moment it is written — keys (a revocation holds at once), actions (a retry is known), checkpoints.
    func readPrimary<T>(_ body: (any LogReading) throws -> T) throws -> T {
        do {
            return try log.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: .readFailed, message: "could not read the store: \(Self.describe(error))")
        }
    }

    /// Runs `body` in one write transaction, turning the database's errors into ``StoreError`` (`failure` says what
    /// could not be done).
    private func write<T>(_ failure: String, _ body: (any LogWriting) throws -> T) throws -> T {
        do {
            return try log.write(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: .writeFailed, message: "could not \(failure): \(Self.describe(error))")
        }
    }

    /// The stored action with this id, if any.
    public func action(id: String) throws -> MissionAction? {
        guard let payload = try readPrimary({ try $0.actionPayload(id: id) }) else { return nil }
        do {
            return try MissionAction(json: JSONValue.parse(payload))
        } catch {
            throw StoreError(code: .corrupt, message: "action \(id) cannot be read: \(error)")
        }
    }

    /// The event time of the latest observation or action in the log (its `observedAt` or `at`): what the commands
    /// that act use as "now" when not told — never the wall clock, nor a receipt time, which for a record imported
    /// today would move the mission's event time to today.
    public func latestRecordTime() throws -> Timestamp? {
        let payload = try read { try $0.latestPayload(kinds: [.observation, .action]) }
        guard let payload, case .object(let members) = try? JSONValue.parse(payload),
            case .string(let text) = members["observedAt"] ?? members["at"]
        else { return nil }
        return Timestamp(rfc3339: text)
    }

    /// What the log holds, decoded, in log order: the engine's inputs.
    public typealias Record = LogRecord

    /// Every observation and action in log order (after event `first`, up to event `size`, if given), with redacted
    /// fields removed.
    /// - Throws: ``StoreError/Code/corrupt`` naming the first event that cannot be read.
    public func records(after first: Int64 = 0, upTo size: Int64? = nil) throws -> [Record] {
        var records: [Record] = []
        try forEachRecord(after: first, upTo: size) { _, record in records.append(record) }
        return records
    }

    /// Every observation and action in log order (up to event `size`, if given), decoded as it is read and with
    /// redacted fields removed: the engines' inputs without holding the log in memory.
    /// - Throws: ``StoreError/Code/corrupt`` naming the first event that cannot be read, or what `body` throws.
    public func forEachRecord(
        after first: Int64 = 0, upTo size: Int64? = nil, _ body: (Int64, Record) throws -> Void
    ) throws {
        if let size { try waitForReplica(through: size) }
        let hidden = try redactions()
        try read { db in
            try db.forEachEvent(after: first, upTo: size ?? Int64.max) { sequence, kind, payload in
                guard kind == EventKind.observation.rawValue || kind == EventKind.action.rawValue else { return }
                let record: Record
                do {
                    if kind == EventKind.observation.rawValue {
                        var o = try ObservationBatch.decode(
                            payload.bindMemory(to: UInt8.self), isKnownSource: { _ in true })
                        if let fields = hidden[sequence] {
                            if fields.contains("text") { o.text = nil }
                            if fields.contains("evidence") { o.evidence = [] }
                        }
                        record = .observation(o)
                    } else {
                        record = .action(try MissionAction(json: JSONValue.parse(Array(payload))))
                    }
                } catch {
                    throw StoreError(code: .corrupt, message: "event \(sequence) cannot be read: \(error)")
                }
                try body(sequence, record)
            }
        }
    }

    /// The actions of the log (up to event `size`), in log order: a replay reads them first, to keep the groups
    /// they name.
    public func actions(upTo size: Int64? = nil) throws -> [MissionAction] {
        if let size { try waitForReplica(through: size) }
        let payloads = try read { try $0.payloads(kind: .action, upTo: size ?? Int64.max) }
        return try payloads.enumerated().map { i, payload in
            do {
                return try MissionAction(json: JSONValue.parse(payload.payload))
            } catch {
                throw StoreError(code: .corrupt, message: "action \(i + 1) of the log cannot be read: \(error)")
            }
        }
    }

    /// The engines' inputs in log order (up to event `size`, if given): the observations as a batch (line numbers are
    /// sequence numbers) and the actions.
    public func replayInputs(upTo size: Int64? = nil) throws -> (ObservationBatch, [MissionAction]) {
        var batch = ObservationBatch(observations: [], lineNumbers: [])
        var actions: [MissionAction] = []
        for (i, record) in try records(upTo: size).enumerated() {
            switch record {
            case .observation(let o):
                batch.observations.append(o)
                batch.lineNumbers.append(i + 1)
            case .action(let a): actions.append(a)
            }
        }
        return (batch, actions)
    }

    /// Appends an audit record (a read of restricted data or an export): not an input of the engines, but part of
    /// the tamper-evident log.
    public func audit(_ payload: [UInt8]) throws {
        _ = try write("write to the store") { try Self.append(.audit, payload, in: $0) }
    }

    /// Appends a report's issue (``IssuedReport``), unless the same report with the same files was issued before.
    /// - Returns: the sequence number of its event, and whether it is new.
    public func issue(_ report: IssuedReport) throws -> (sequence: Int64, new: Bool) {
        try write("write to the store") { db in
            for (sequence, found) in try Self.issuedReports(db, sha256: report.files[0].sha256)
            where found.hasSameFiles(as: report) {
                return (sequence, false)
            }
            return (try Self.append(.report, report.canonicalJSON, in: db), true)
        }
    }

    /// The reports issued, in log order, with a file of SHA-256 `sha256` when given.
    public func issuedReports(sha256: String? = nil) throws -> [(sequence: Int64, report: IssuedReport)] {
        try read { try Self.issuedReports($0, sha256: sha256) }
    }

    private static func issuedReports(_ db: any LogReading, sha256: String?) throws -> [(
        sequence: Int64, report: IssuedReport
    )] {
        let needle = Array((sha256 ?? "").utf8)
        return try db.payloads(kind: .report, upTo: Int64.max).compactMap { sequence, payload in
            if !needle.isEmpty && payload.firstRange(of: needle) == nil { return nil }
            do {
                return (sequence, try IssuedReport(json: JSONValue.parse(payload)))
            } catch {
                throw StoreError(code: .corrupt, message: "event \(sequence) (report) cannot be read: \(error)")
            }
        }
    }

    /// Appends a redaction (see ``Redaction``): the event it names keeps its leaf, and its fields are hidden from
    /// every output from now on.
    /// - Returns: the redaction's sequence number.
    public func redact(_ redaction: Redaction) throws -> Int64 {
        guard let target = try event(sequence: redaction.event), target.kind == EventKind.observation.rawValue else {
            throw StoreError(code: .writeFailed, message: "event \(redaction.event) is not an observation in this log")
        }
        return try write("write to the store") { try Self.append(.redaction, redaction.canonicalJSON, in: $0) }
    }

    private static func append(_ kind: EventKind, _ payload: [UInt8], in db: any LogWriting) throws -> Int64 {
        let (sequence, head) = try db.head()
        let hash = EventChain.hash(previous: head, sequence: sequence + 1, kind: kind.rawValue, payload: payload)
        try db.insert([
            NewEvent(sequence: sequence + 1, kind: kind.rawValue, payload: payload, previousHash: head, hash: hash)
        ])
        return sequence + 1
    }

    /// One event by its sequence number.
    public func event(sequence: Int64) throws -> Event? {
        if let event = try read({ try $0.event(sequence: sequence) }) { return event }
        // On a replica behind the primary: the event may be there in a moment.
        guard replica != nil, sequence <= (try writtenHead()) else { return nil }
        try waitForReplica(through: sequence)
        return try read { try $0.event(sequence: sequence) }
    }

    /// The Merkle leaf hashes of the events after `sequence`, in order.
    public func leafHashes(after sequence: Int64) throws -> [[UInt8]] {
        var hashes: [[UInt8]] = []
        try read { db in
            try db.forEachEvent(after: sequence, upTo: Int64.max) { sequence, kind, payload in
                hashes.append(
                    MerkleTree.leafHash(MerkleTree.leafData(sequence: sequence, kind: kind, payload: Array(payload))))
            }
        }
        return hashes
    }

    /// The redacted fields of each redacted event.
    public func redactions() throws -> [Int64: Set<String>] {
        let payloads = try read { try $0.payloads(kind: .redaction, upTo: Int64.max) }
        var hidden: [Int64: Set<String>] = [:]
        for (_, payload) in payloads {
            let r = try Redaction(json: JSONValue.parse(payload))
            hidden[r.event, default: []].formUnion(r.fields)
        }
        return hidden
    }

    // MARK: Checkpoints

    /// Stores a signed checkpoint and the digest of each result file it covers. A checkpoint of a size already
    /// stored is kept as it was.
    public func addCheckpoint(_ signed: SignedCheckpoint, resultFiles: [(name: String, sha256: String)]) throws {
        try write("store the checkpoint") { db in
            try db.insertCheckpoint(
                CheckpointRow(
                    size: signed.checkpoint.size, body: signed.checkpoint.body, signature: signed.signature,
                    resultFiles: resultFiles.map { "\($0.name) \($0.sha256)" }.joined(separator: "\n")))
        }
    }

    /// Stores a witness's cosignature of the checkpoint of `size` (once per member).
    public func addCosignature(size: Int, member: String, signature: [UInt8]) throws {
        try write("store the cosignature") {
            try $0.insertCosignature(size: size, member: member, signature: signature)
        }
    }

    /// A stored checkpoint with its cosignatures, and the digests of the result files it covers.
    public struct StoredCheckpoint: Sendable {
        public var signed: SignedCheckpoint
        public var resultFiles: [(name: String, sha256: String)]
    }

    /// The stored checkpoints by size: all, the one of `size`, or only the latest.
    public func checkpoints(size: Int? = nil, latestOnly: Bool = false) throws -> [StoredCheckpoint] {
        let (checkpointRows, cosignatureRows) = try readPrimary { db in
            (try db.checkpoints(size: size, latestOnly: latestOnly), try db.cosignatures())
        }
        var cosignatures: [Int: [String: [UInt8]]] = [:]
        for row in cosignatureRows { cosignatures[row.size, default: [:]][row.member] = row.signature }
        return try checkpointRows.map { row in
            let checkpoint: Checkpoint
            do {
                checkpoint = try Checkpoint(body: row.body)
            } catch {
                throw StoreError(code: .corrupt, message: "checkpoint \(row.size) cannot be read: \(error)")
            }
            let files = row.resultFiles.split(separator: "\n").map { line in
                let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
                return (name: parts[0], sha256: parts.count > 1 ? parts[1] : "")
            }
            return StoredCheckpoint(
                signed: SignedCheckpoint(
                    checkpoint: checkpoint, signature: row.signature, cosignatures: cosignatures[row.size] ?? [:]),
                resultFiles: files)
        }
    }

    /// An API key's holder.
    public struct KeyHolder: Sendable, Equatable {
        public var id: String
        public var member: String
        public var role: String
        public var user: String

        public init(id: String, member: String, role: String, user: String) {
            self.id = id
            self.member = member
            self.role = role
            self.user = user
        }
    }

    /// Stores a new API key's hash (never the key) for a holder, and records its creation in the log (id, holder,
    /// role, time), in one transaction.
    public func addKey(hash: [UInt8], holder: KeyHolder, createdAt: String) throws {
        guard holder.member != Releasability.publicReader else {
            throw StoreError(
                code: .writeFailed, message: "\(holder.member) is the public view's reader: it has no keys")
        }
        try write("store the key") { db in
            try db.insertKey(hash: hash, holder: holder, createdAt: createdAt)
            _ = try Self.append(.key, Self.keyEvent("created", holder, at: createdAt, reason: nil), in: db)
        }
    }

    /// Revokes a key at once (the next request with it is refused) and records the revocation in the log.
    /// - Throws: ``StoreError/Code/conflictingObservation`` when no such key stands (unknown, or revoked already).
    public func revokeKey(id: String, at time: String, reason: String) throws {
        try write("revoke the key") { db in
            guard let holder = try db.standingKey(id: id) else {
                throw StoreError(code: .conflictingObservation, message: "no key \(id) stands (unknown or revoked)")
            }
            try db.markKeyRevoked(id: id, at: time)
            _ = try Self.append(.key, Self.keyEvent("revoked", holder, at: time, reason: reason), in: db)
        }
    }

    private static func keyEvent(_ event: String, _ holder: KeyHolder, at time: String, reason: String?) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("event"); w.string(event)
        w.key("id"); w.string(holder.id)
        w.key("member"); w.string(holder.member)
        w.key("user"); w.string(holder.user)
        w.key("role"); w.string(holder.role)
        w.key("at"); w.string(time)
        if let reason { w.key("reason"); w.string(reason) }
        w.endObject()
        return w.bytes
    }

    /// A stored key: its holder, when it was made and, if so, revoked.
    public struct StoredKey: Sendable, Equatable {
        public var holder: KeyHolder
        public var createdAt: String
        public var revokedAt: String?
    }

    /// Every key, oldest first.
    public func keys() throws -> [StoredKey] { try readPrimary { try $0.keys() } }

    /// Whether the key with this id stands (exists and is not revoked).
    public func keyStands(id: String) throws -> Bool { try read { try $0.standingKey(id: id) } != nil }

    /// The holder of the key whose hash this is, if it stands (not revoked).
    public func keyHolder(hash: [UInt8]) throws -> KeyHolder? {
        try readPrimary { try $0.keyHolder(hash: hash) }
    }

    /// Whether the log holds an event after `sequence` that is not an audit record or an issued report (an
    /// observation, action, redaction or key): what a result computed up to `sequence` would not have read.
    public func hasRecords(after sequence: Int64) throws -> Bool {
        try read { try $0.hasEvents(after: sequence, except: [.audit, .report]) }
    }

    /// The number of events and the last hash (``EventChain/genesis`` when empty), as reads see the log (on the
    /// replica, if there is one).
    public func head() throws -> (count: Int64, hash: [UInt8]) {
        try read { try $0.head() }
    }

    /// The number of events where writes go (the primary): what every write acknowledged so far is within.
    public func writtenHead() throws -> Int64 {
        guard replica != nil else { return try head().count }
        do {
            return try log.read { try $0.head().0 }
        } catch {
            throw StoreError(code: .readFailed, message: "could not read the store: \(Self.describe(error))")
        }
    }

    /// With a replica, waits until it holds event `size` (streaming replication is behind by milliseconds).
    /// - Throws: ``StoreError/Code/readFailed`` after 10 s, saying how far behind the replica is.
    public func waitForReplica(through size: Int64) throws {
        guard replica != nil else { return }
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let held = try head().count
            if held >= size { return }
            guard ContinuousClock.now < deadline else {
                throw StoreError(
                    code: .readFailed,
                    message: "the read replica holds \(held) events, the log \(size): replication is behind")
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }

    /// All events in sequence order.
    public func events() throws -> [Event] { try read { try $0.events() } }

    /// Recomputes the hash chain; returns the sequence number of the first event that does not match, or `nil`.
    public func firstBrokenLink() throws -> Int64? {
        var previous = EventChain.genesis
        for (i, event) in try events().enumerated() {
            let expected = EventChain.hash(
                previous: previous, sequence: event.sequence, kind: event.kind, payload: event.payload)
            if event.sequence != Int64(i + 1) || event.previousHash != previous || event.hash != expected {
                return event.sequence
            }
            previous = event.hash
        }
        return nil
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        return "\(error)"
    }
}

/// A store operation that failed: an opaque code and a message safe to show.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case cannotOpen, wrongMission, conflictingObservation, aheadOfReceipt, writeFailed, readFailed, corrupt
        /// A conditional append found the log longer than expected (another node appended first).
        case headMoved
        /// A write to a store opened read only (a streaming replica).
        case readOnly
    }
    public var code: Code
    public var message: String
    public var description: String { message }
}

extension Character {
    fileprivate var isLetterOrDigitOrDash: Bool { isASCII && (isLetter || isNumber || self == "-" || self == "_") }
}
