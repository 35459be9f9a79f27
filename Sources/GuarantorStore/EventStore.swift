import Foundation
import GRDB
import GuarantorCore

/// The embedded store: an append-only, hash-chained event log in one SQLite file (WAL mode).
///
/// Every accepted observation is one event. Appends happen in one transaction per batch, so a batch is stored whole
/// or not at all; `synchronous = FULL` makes a committed batch survive a crash or power loss. Triggers refuse any
/// UPDATE or DELETE of events.
public final class EventStore: Sendable {
    let pool: DatabasePool
    /// Derived results (``resultsPath(of:)``): sealed incidents and snapshots.
    let results: DatabasePool
    /// The mission this store belongs to.
    public let missionId: String

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

    /// Opens (creating if needed) the store at `path` for the mission `missionId`.
    /// - Throws: ``StoreError`` when the file is not a Guarantor store or belongs to another mission.
    public init(path: String, missionId: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError(code: .cannotOpen, message: "cannot open store \(path): \(Self.describe(error))")
        }
        self.missionId = missionId
        do {
            var resultConfiguration = Configuration()
            resultConfiguration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            results = try DatabasePool(path: Self.resultsPath(of: path), configuration: resultConfiguration)
            try Self.resultMigrator.migrate(results)
        } catch {
            throw StoreError(
                code: .cannotOpen, message: "cannot open the results beside \(path): \(Self.describe(error))")
        }
        do {
            try Self.migrator.migrate(pool)
            let stored = try pool.write { db -> String in
                if let id = try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'missionId'") {
                    return id
                }
                try db.execute(
                    sql: "INSERT INTO store_meta (key, value) VALUES ('missionId', ?)", arguments: [missionId])
                return missionId
            }
            guard stored == missionId else {
                throw StoreError(
                    code: .wrongMission, message: "store \(path) belongs to mission \"\(stored)\", not \"\(missionId)\""
                )
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(
                code: .cannotOpen, message: "\(path) is not a usable Guarantor store: \(Self.describe(error))")
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
                    CREATE TABLE event (
                        sequence INTEGER PRIMARY KEY,
                        kind TEXT NOT NULL,
                        observation_id TEXT UNIQUE,
                        payload BLOB NOT NULL,
                        previous_hash BLOB NOT NULL,
                        hash BLOB NOT NULL
                    ) STRICT;
                    CREATE TRIGGER event_no_update BEFORE UPDATE ON event BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
                    CREATE TRIGGER event_no_delete BEFORE DELETE ON event BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
                    """)
        }
        migrator.registerMigration("v2 actions") { db in
            try db.execute(
                sql: """
                    ALTER TABLE event ADD COLUMN action_id TEXT;
                    CREATE UNIQUE INDEX event_action_id ON event (action_id) WHERE action_id IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v3 api keys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE api_key (
                        hash BLOB PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        member TEXT NOT NULL,
                        role TEXT NOT NULL,
                        user TEXT NOT NULL,
                        created_at TEXT NOT NULL
                    ) STRICT;
                    """)
        }
        migrator.registerMigration("v4 checkpoints") { db in
            try db.execute(
                sql: """
                    CREATE TABLE checkpoint (
                        size INTEGER PRIMARY KEY,
                        body TEXT NOT NULL,
                        signature BLOB NOT NULL,
                        result_files TEXT NOT NULL
                    ) STRICT;
                    CREATE TABLE cosignature (
                        size INTEGER NOT NULL REFERENCES checkpoint (size),
                        member TEXT NOT NULL,
                        signature BLOB NOT NULL,
                        PRIMARY KEY (size, member)
                    ) STRICT;
                    CREATE TRIGGER checkpoint_no_update BEFORE UPDATE ON checkpoint BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
                    CREATE TRIGGER checkpoint_no_delete BEFORE DELETE ON checkpoint BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
                    CREATE TRIGGER cosignature_no_update BEFORE UPDATE ON cosignature BEGIN SELECT RAISE(ABORT, 'cosignatures are append-only'); END;
                    CREATE TRIGGER cosignature_no_delete BEFORE DELETE ON cosignature BEGIN SELECT RAISE(ABORT, 'cosignatures are append-only'); END;
                    """)
        }
        migrator.registerMigration("v5 revocable keys") { db in
            try db.execute(sql: "ALTER TABLE api_key ADD COLUMN revoked_at TEXT")
        }
        // The rare kinds, found without reading the whole log: redactions are looked up for every read of
        // observations (a listing of ambiguous incidents read the log once per incident), actions at every start.
        migrator.registerMigration("v6 indexes of actions and redactions") { db in
            try db.execute(
                sql: """
                    CREATE INDEX event_actions ON event (sequence) WHERE kind = 'action';
                    CREATE INDEX event_redactions ON event (sequence) WHERE kind = 'redaction';
                    """)
        }
        migrator.registerMigration("v7 index of issued reports") { db in
            try db.execute(sql: "CREATE INDEX event_reports ON event (sequence) WHERE kind = 'report'")
        }
        return migrator
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
            return try pool.write { db in
                var (sequence, head) = try Self.head(db)
                var appended = 0
                var present = 0
                var appendedIndices: [Int] = []
                let find = try db.makeStatement(sql: "SELECT payload FROM event WHERE observation_id = ?")
                let insert = try db.makeStatement(
                    sql: """
                        INSERT INTO event (sequence, kind, observation_id, payload, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT (observation_id) DO NOTHING
                        """)
                for (index, observation) in observations.enumerated() {
                    let payload = observation.canonicalJSON
                    let hash = EventChain.hash(
                        previous: head, sequence: sequence + 1, kind: EventKind.observation.rawValue, payload: payload)
                    // New ids (the common case) cost one INSERT; a stored id inserts nothing and is then compared
                    // with what is stored.
                    try insert.execute(arguments: [
                        sequence + 1, EventKind.observation.rawValue, observation.id, Data(payload), Data(head),
                        Data(hash),
                    ])
                    if db.changesCount == 0 {
                        guard let stored = try Data.fetchOne(find, arguments: [observation.id]),
                            Self.sameObservation(Array(stored), observation)
                        else {
                            throw StoreError(
                                code: .conflictingObservation,
                                message: "observation \"\(observation.id)\" is already stored with different content")
                        }
                        present += 1
                        continue
                    }
                    sequence += 1
                    head = hash
                    appended += 1
                    appendedIndices.append(index)
                }
                return IngestResult(
                    appended: appended, alreadyPresent: present, eventCount: sequence, headHash: head,
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
    public func record(_ action: MissionAction) throws -> IngestResult {
        let action = action.receivedAt == nil ? action.received(at: WallClock.now()) : action
        if let receivedAt = action.receivedAt, action.at > receivedAt {
            throw StoreError(
                code: .aheadOfReceipt,
                message: "at: \(action.at) is after the action's receipt \(receivedAt): the sender's clock is ahead")
        }
        let payload = action.canonicalJSON
        do {
            return try pool.write { db in
                var (sequence, head) = try Self.head(db)
                if let stored = try Data.fetchOne(
                    db, sql: "SELECT payload FROM event WHERE action_id = ?", arguments: [action.id])
                {
                    guard Self.sameAction(Array(stored), action) else {
                        throw StoreError(
                            code: .conflictingObservation,
                            message: "action \"\(action.id)\" is already stored with different content")
                    }
                    return IngestResult(appended: 0, alreadyPresent: 1, eventCount: sequence, headHash: head)
                }
                sequence += 1
                let kind = EventKind.action.rawValue
                let hash = EventChain.hash(previous: head, sequence: sequence, kind: kind, payload: payload)
                try db.execute(
                    sql: """
                        INSERT INTO event (sequence, kind, action_id, payload, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [sequence, kind, action.id, Data(payload), Data(head), Data(hash)])
                head = hash
                return IngestResult(appended: 1, alreadyPresent: 0, eventCount: sequence, headHash: head)
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

    /// The stored action with this id, if any.
    public func action(id: String) throws -> MissionAction? {
        let payload = try pool.read { db in
            try Data.fetchOne(db, sql: "SELECT payload FROM event WHERE action_id = ?", arguments: [id])
        }
        guard let payload else { return nil }
        do {
            return try MissionAction(json: JSONValue.parse(Array(payload)))
        } catch {
            throw StoreError(code: .corrupt, message: "action \(id) cannot be read: \(error)")
        }
    }

    /// The event time of the latest observation or action in the log (its `observedAt` or `at`): what the commands
    /// that act use as "now" when not told — never the wall clock, nor a receipt time, which for a record imported
    /// today would move the mission's event time to today.
    public func latestRecordTime() throws -> Timestamp? {
        let payload = try pool.read { db in
            try Data.fetchOne(
                db, sql: "SELECT payload FROM event WHERE kind IN (?, ?) ORDER BY sequence DESC LIMIT 1",
                arguments: [EventKind.observation.rawValue, EventKind.action.rawValue])
        }
        guard let payload, case .object(let members) = try? JSONValue.parse(Array(payload)),
            case .string(let text) = members["observedAt"] ?? members["at"]
        else { return nil }
        return Timestamp(rfc3339: text)
    }

    /// What the log holds, decoded, in log order: the engine's inputs.
    public typealias Record = LogRecord

    /// Every observation and action in log order (up to event `size`, if given), with redacted fields removed.
    /// - Throws: ``StoreError/Code/corrupt`` naming the first event that cannot be read.
    public func records(upTo size: Int64? = nil) throws -> [Record] {
        let hidden = try redactions()
        return try events().compactMap { event -> Record? in
            if let size, event.sequence > size { return nil }
            do {
                var json = try JSONValue.parse(event.payload)
                if let fields = hidden[event.sequence], case .object(var members) = json {
                    for field in fields { members[field] = nil }
                    json = .object(members)
                }
                switch EventKind(rawValue: event.kind) {
                case .observation: return .observation(try Observation(json: json, isKnownSource: { _ in true }))
                case .action: return .action(try MissionAction(json: json))
                case .audit, .redaction, .key, .report: return nil
                case nil: throw FieldError(path: "", reason: "unknown event kind \(event.kind)")
                }
            } catch {
                throw StoreError(code: .corrupt, message: "event \(event.sequence) cannot be read: \(error)")
            }
        }
    }

    /// Every observation and action in log order (up to event `size`, if given), decoded as it is read and with
    /// redacted fields removed: the engines' inputs without holding the log in memory.
    /// - Throws: ``StoreError/Code/corrupt`` naming the first event that cannot be read, or what `body` throws.
    public func forEachRecord(
        after first: Int64 = 0, upTo size: Int64? = nil, _ body: (Int64, Record) throws -> Void
    ) throws {
        let hidden = try redactions()
        try pool.read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT sequence, kind, payload FROM event WHERE sequence > ? AND sequence <= ? ORDER BY sequence",
                arguments: [first, size ?? Int64.max])
            while let row = try rows.next() {
                let sequence: Int64 = row[0]
                let kind: String = row[1]
                guard kind == EventKind.observation.rawValue || kind == EventKind.action.rawValue else { continue }
                let record: Record
                do {
                    record = try row.withUnsafeData(atIndex: 2) { data -> Record in
                        let payload = data ?? Data()
                        if kind == EventKind.observation.rawValue {
                            var o = try payload.withUnsafeBytes { raw in
                                try ObservationBatch.decode(
                                    raw.bindMemory(to: UInt8.self), isKnownSource: { _ in true })
                            }
                            if let fields = hidden[sequence] {
                                if fields.contains("text") { o.text = nil }
                                if fields.contains("evidence") { o.evidence = [] }
                            }
                            return .observation(o)
                        }
                        return .action(try MissionAction(json: JSONValue.parse(Array(payload))))
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
        let payloads = try pool.read { db in
            try Data.fetchAll(
                // The kind is written out, not bound, so that SQLite uses the partial index event_actions.
                db, sql: "SELECT payload FROM event WHERE kind = 'action' AND sequence <= ? ORDER BY sequence",
                arguments: [size ?? Int64.max])
        }
        return try payloads.enumerated().map { i, payload in
            do {
                return try MissionAction(json: JSONValue.parse(Array(payload)))
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
    public func audit(_ payload: [UInt8]) throws { _ = try append(.audit, payload) }

    /// Appends a report's issue (``IssuedReport``), unless the same report with the same files was issued before.
    /// - Returns: the sequence number of its event, and whether it is new.
    public func issue(_ report: IssuedReport) throws -> (sequence: Int64, new: Bool) {
        do {
            return try pool.write { db in
                for (sequence, found) in try Self.issuedReports(db, sha256: report.files[0].sha256)
                where found.hasSameFiles(as: report) {
                    return (sequence, false)
                }
                return (try Self.append(.report, report.canonicalJSON, in: db), true)
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "could not write to the store: \(Self.describe(error))")
        }
    }

    /// The reports issued, in log order, with a file of SHA-256 `sha256` when given.
    public func issuedReports(sha256: String? = nil) throws -> [(sequence: Int64, report: IssuedReport)] {
        try pool.read { db in try Self.issuedReports(db, sha256: sha256) }
    }

    private static func issuedReports(_ db: Database, sha256: String?) throws -> [(
        sequence: Int64, report: IssuedReport
    )] {
        // The kind is written out, not bound, so that SQLite uses the partial index event_reports.
        let rows = try Row.fetchAll(
            db,
            sql:
                "SELECT sequence, payload FROM event WHERE kind = 'report' AND instr(payload, ?) > 0 ORDER BY sequence",
            arguments: [sha256 ?? ""])
        return try rows.map { row in
            let sequence: Int64 = row["sequence"]
            do {
                return (sequence, try IssuedReport(json: JSONValue.parse(Array(row["payload"] as Data))))
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
        return try append(.redaction, redaction.canonicalJSON)
    }

    private func append(_ kind: EventKind, _ payload: [UInt8]) throws -> Int64 {
        do {
            return try pool.write { db in try Self.append(kind, payload, in: db) }
        } catch {
            throw StoreError(code: .writeFailed, message: "could not write to the store: \(Self.describe(error))")
        }
    }

    private static func append(_ kind: EventKind, _ payload: [UInt8], in db: Database) throws -> Int64 {
        let (sequence, head) = try Self.head(db)
        let hash = EventChain.hash(previous: head, sequence: sequence + 1, kind: kind.rawValue, payload: payload)
        try db.execute(
            sql: "INSERT INTO event (sequence, kind, payload, previous_hash, hash) VALUES (?, ?, ?, ?, ?)",
            arguments: [sequence + 1, kind.rawValue, Data(payload), Data(head), Data(hash)])
        return sequence + 1
    }

    /// One event by its sequence number.
    public func event(sequence: Int64) throws -> Event? {
        try pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT sequence, kind, payload, previous_hash, hash FROM event WHERE sequence = ?",
                arguments: [sequence]
            ).map(Self.event)
        }
    }

    /// The Merkle leaf hashes of the events after `sequence`, in order.
    public func leafHashes(after sequence: Int64) throws -> [[UInt8]] {
        try pool.read { db in
            var hashes: [[UInt8]] = []
            let rows = try Row.fetchCursor(
                db,
                sql:
                    "SELECT sequence, kind, payload, previous_hash, hash FROM event WHERE sequence > ? ORDER BY sequence",
                arguments: [sequence])
            while let row = try rows.next() { hashes.append(Self.event(row).leafHash) }
            return hashes
        }
    }

    /// The redacted fields of each redacted event.
    public func redactions() throws -> [Int64: Set<String>] {
        let payloads = try pool.read { db in
            try Data.fetchAll(
                db, sql: "SELECT payload FROM event WHERE kind = 'redaction' ORDER BY sequence")
        }
        var hidden: [Int64: Set<String>] = [:]
        for payload in payloads {
            let r = try Redaction(json: JSONValue.parse(Array(payload)))
            hidden[r.event, default: []].formUnion(r.fields)
        }
        return hidden
    }

    // MARK: Checkpoints

    /// Stores a signed checkpoint and the digest of each result file it covers. A checkpoint of a size already
    /// stored is kept as it was.
    public func addCheckpoint(_ signed: SignedCheckpoint, resultFiles: [(name: String, sha256: String)]) throws {
        do {
            try pool.write { db in
                try db.execute(
                    sql: "INSERT OR IGNORE INTO checkpoint (size, body, signature, result_files) VALUES (?, ?, ?, ?)",
                    arguments: [
                        signed.checkpoint.size, signed.checkpoint.body, Data(signed.signature),
                        resultFiles.map { "\($0.name) \($0.sha256)" }.joined(separator: "\n"),
                    ])
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "could not store the checkpoint: \(Self.describe(error))")
        }
    }

    /// Stores a witness's cosignature of the checkpoint of `size` (once per member).
    public func addCosignature(size: Int, member: String, signature: [UInt8]) throws {
        do {
            try pool.write { db in
                try db.execute(
                    sql: "INSERT OR IGNORE INTO cosignature (size, member, signature) VALUES (?, ?, ?)",
                    arguments: [size, member, Data(signature)])
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "could not store the cosignature: \(Self.describe(error))")
        }
    }

    /// A stored checkpoint with its cosignatures, and the digests of the result files it covers.
    public struct StoredCheckpoint: Sendable {
        public var signed: SignedCheckpoint
        public var resultFiles: [(name: String, sha256: String)]
    }

    /// The stored checkpoints by size: all, the one of `size`, or only the latest.
    public func checkpoints(size: Int? = nil, latestOnly: Bool = false) throws -> [StoredCheckpoint] {
        let (checkpointRows, cosignatureRows) = try pool.read { db -> ([Row], [Row]) in
            let sql =
                "SELECT size, body, signature, result_files FROM checkpoint"
                + (size != nil ? " WHERE size = ?" : "") + " ORDER BY size" + (latestOnly ? " DESC LIMIT 1" : "")
            let arguments: StatementArguments = size.map { [$0] } ?? []
            return (
                try Row.fetchAll(db, sql: sql, arguments: arguments),
                try Row.fetchAll(db, sql: "SELECT size, member, signature FROM cosignature")
            )
        }
        var cosignatures: [Int: [String: [UInt8]]] = [:]
        for row in cosignatureRows {
            cosignatures[row["size"], default: [:]][row["member"]] = Array(row["signature"] as Data)
        }
        return try checkpointRows.map { row in
            let size: Int = row["size"]
            let checkpoint: Checkpoint
            do {
                checkpoint = try Checkpoint(body: row["body"])
            } catch {
                throw StoreError(code: .corrupt, message: "checkpoint \(size) cannot be read: \(error)")
            }
            let files = (row["result_files"] as String).split(separator: "\n").map { line in
                let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
                return (name: parts[0], sha256: parts.count > 1 ? parts[1] : "")
            }
            return StoredCheckpoint(
                signed: SignedCheckpoint(
                    checkpoint: checkpoint, signature: Array(row["signature"] as Data),
                    cosignatures: cosignatures[size] ?? [:]),
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
        do {
            try pool.write { db in
                try db.execute(
                    sql: "INSERT INTO api_key (hash, id, member, role, user, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [Data(hash), holder.id, holder.member, holder.role, holder.user, createdAt])
                _ = try Self.append(.key, Self.keyEvent("created", holder, at: createdAt, reason: nil), in: db)
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "could not store the key: \(Self.describe(error))")
        }
    }

    /// Revokes a key at once (the next request with it is refused) and records the revocation in the log.
    /// - Throws: ``StoreError/Code/conflictingObservation`` when no such key stands (unknown, or revoked already).
    public func revokeKey(id: String, at time: String, reason: String) throws {
        do {
            try pool.write { db in
                guard
                    let row = try Row.fetchOne(
                        db, sql: "SELECT id, member, role, user FROM api_key WHERE id = ? AND revoked_at IS NULL",
                        arguments: [id])
                else {
                    throw StoreError(code: .conflictingObservation, message: "no key \(id) stands (unknown or revoked)")
                }
                try db.execute(sql: "UPDATE api_key SET revoked_at = ? WHERE id = ?", arguments: [time, id])
                let holder = KeyHolder(id: row["id"], member: row["member"], role: row["role"], user: row["user"])
                _ = try Self.append(.key, Self.keyEvent("revoked", holder, at: time, reason: reason), in: db)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: .writeFailed, message: "could not revoke the key: \(Self.describe(error))")
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
    public func keys() throws -> [StoredKey] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, member, role, user, created_at, revoked_at FROM api_key ORDER BY created_at, id"
            ).map {
                StoredKey(
                    holder: KeyHolder(id: $0["id"], member: $0["member"], role: $0["role"], user: $0["user"]),
                    createdAt: $0["created_at"], revokedAt: $0["revoked_at"])
            }
        }
    }

    /// Whether the key with this id stands (exists and is not revoked).
    public func keyStands(id: String) throws -> Bool {
        try pool.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM api_key WHERE id = ? AND revoked_at IS NULL", arguments: [id]) ?? false
        }
    }

    /// The holder of the key whose hash this is, if it stands (not revoked).
    public func keyHolder(hash: [UInt8]) throws -> KeyHolder? {
        try pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT id, member, role, user FROM api_key WHERE hash = ? AND revoked_at IS NULL",
                arguments: [Data(hash)]
            )
            .map { KeyHolder(id: $0["id"], member: $0["member"], role: $0["role"], user: $0["user"]) }
        }
    }

    /// Whether the log holds an event after `sequence` that is not an audit record or an issued report (an
    /// observation, action, redaction or key): what a result computed up to `sequence` would not have read.
    public func hasRecords(after sequence: Int64) throws -> Bool {
        try pool.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM event WHERE sequence > ? AND kind NOT IN (?, ?))",
                arguments: [sequence, EventKind.audit.rawValue, EventKind.report.rawValue]) ?? false
        }
    }

    /// The number of events and the last hash (``EventChain/genesis`` when empty).
    public func head() throws -> (count: Int64, hash: [UInt8]) {
        try pool.read { try Self.head($0) }
    }

    private static func head(_ db: Database) throws -> (Int64, [UInt8]) {
        guard let row = try Row.fetchOne(db, sql: "SELECT sequence, hash FROM event ORDER BY sequence DESC LIMIT 1")
        else {
            return (0, EventChain.genesis)
        }
        return (row["sequence"], Array(row["hash"] as Data))
    }

    /// All events in sequence order.
    public func events() throws -> [Event] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT sequence, kind, payload, previous_hash, hash FROM event ORDER BY sequence"
            ).map(Self.event)
        }
    }

    private static func event(_ row: Row) -> Event {
        Event(
            sequence: row["sequence"], kind: row["kind"], payload: Array(row["payload"] as Data),
            previousHash: Array(row["previous_hash"] as Data), hash: Array(row["hash"] as Data))
    }

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
        case cannotOpen, wrongMission, conflictingObservation, aheadOfReceipt, writeFailed, corrupt
    }
    public var code: Code
    public var message: String
    public var description: String { message }
}
