import Foundation
import GRDB
import GuarantorCore

/// The embedded store: an append-only, hash-chained event log in one SQLite file (WAL mode).
///
/// Every accepted observation is one event. Appends happen in one transaction per batch, so a batch is stored whole
/// or not at all; `synchronous = FULL` makes a committed batch survive a crash or power loss. Triggers refuse any
/// UPDATE or DELETE of events.
public final class EventStore: Sendable {
    private let pool: DatabasePool
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
    }

    /// One stored event.
    public struct Event: Sendable, Equatable {
        public var sequence: Int64
        public var kind: String
        public var payload: [UInt8]
        public var previousHash: [UInt8]
        public var hash: [UInt8]
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
        return migrator
    }

    /// Appends the observations not yet stored, in order, in one transaction.
    ///
    /// An id already stored with the same canonical content is skipped; with different content the whole batch is
    /// refused (``StoreError/Code/conflictingObservation``) and nothing is written.
    public func ingest(_ observations: [Observation]) throws -> IngestResult {
        do {
            return try pool.write { db in
                var (sequence, head) = try Self.head(db)
                var appended = 0
                var present = 0
                let find = try db.makeStatement(sql: "SELECT payload FROM event WHERE observation_id = ?")
                let insert = try db.makeStatement(
                    sql: """
                        INSERT INTO event (sequence, kind, observation_id, payload, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?)
                        """)
                for observation in observations {
                    let payload = observation.canonicalJSON
                    let hash = EventChain.hash(
                        previous: head, sequence: sequence + 1, kind: EventKind.observation.rawValue, payload: payload)
                    do {
                        // New ids (the common case) cost one INSERT; a stored id fails the UNIQUE constraint, which
                        // undoes that statement only, and is then compared with what is stored.
                        try insert.execute(arguments: [
                            sequence + 1, EventKind.observation.rawValue, observation.id, Data(payload), Data(head),
                            Data(hash),
                        ])
                    } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                        guard let stored = try Data.fetchOne(find, arguments: [observation.id]) else { throw error }
                        guard Array(stored) == payload else {
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
                }
                return IngestResult(appended: appended, alreadyPresent: present, eventCount: sequence, headHash: head)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: .writeFailed, message: "could not write to the store: \(Self.describe(error))")
        }
    }

    /// Appends a person's action unless the same action (id and content) is already stored.
    /// - Throws: ``StoreError/Code/conflictingObservation`` when the id is stored with different content.
    public func record(_ action: MissionAction) throws -> IngestResult {
        let payload: [UInt8]
        switch action {
        case .review(let a): payload = a.canonicalJSON
        case .guarantee(let a): payload = a.canonicalJSON
        }
        do {
            return try pool.write { db in
                var (sequence, head) = try Self.head(db)
                if let stored = try Data.fetchOne(
                    db, sql: "SELECT payload FROM event WHERE action_id = ?", arguments: [action.id])
                {
                    guard Array(stored) == payload else {
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

    /// What the log holds, decoded, in log order: the engine's inputs.
    public enum Record: Sendable {
        case observation(Observation)
        case action(MissionAction)
    }

    /// Every observation and action in log order.
    /// - Throws: ``StoreError/Code/corrupt`` naming the first event that cannot be read.
    public func records() throws -> [Record] {
        try events().compactMap { event -> Record? in
            do {
                let json = try JSONValue.parse(event.payload)
                switch EventKind(rawValue: event.kind) {
                case .observation: return .observation(try Observation(json: json, isKnownSource: { _ in true }))
                case .action: return .action(try MissionAction(json: json))
                case .audit: return nil
                case nil: throw FieldError(path: "", reason: "unknown event kind \(event.kind)")
                }
            } catch {
                throw StoreError(code: .corrupt, message: "event \(event.sequence) cannot be read: \(error)")
            }
        }
    }

    /// Appends an audit record (a read of restricted data or an export): not an input of the engines, but part of
    /// the tamper-evident log.
    public func audit(_ payload: [UInt8]) throws {
        do {
            try pool.write { db in
                let (sequence, head) = try Self.head(db)
                let kind = EventKind.audit.rawValue
                let hash = EventChain.hash(previous: head, sequence: sequence + 1, kind: kind, payload: payload)
                try db.execute(
                    sql: "INSERT INTO event (sequence, kind, payload, previous_hash, hash) VALUES (?, ?, ?, ?, ?)",
                    arguments: [sequence + 1, kind, Data(payload), Data(head), Data(hash)])
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "could not write to the store: \(Self.describe(error))")
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

    /// Stores a new API key's hash (never the key) for a holder.
    public func addKey(hash: [UInt8], holder: KeyHolder, createdAt: String) throws {
        do {
            try pool.write { db in
                try db.execute(
                    sql: "INSERT INTO api_key (hash, id, member, role, user, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [Data(hash), holder.id, holder.member, holder.role, holder.user, createdAt])
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "could not store the key: \(Self.describe(error))")
        }
    }

    /// The holder of the key whose hash this is, if any.
    public func keyHolder(hash: [UInt8]) throws -> KeyHolder? {
        try pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT id, member, role, user FROM api_key WHERE hash = ?", arguments: [Data(hash)]
            )
            .map { KeyHolder(id: $0["id"], member: $0["member"], role: $0["role"], user: $0["user"]) }
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
            ).map {
                Event(
                    sequence: $0["sequence"], kind: $0["kind"], payload: Array($0["payload"] as Data),
                    previousHash: Array($0["previous_hash"] as Data), hash: Array($0["hash"] as Data))
            }
        }
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

    private static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        return "\(error)"
    }
}

/// A store operation that failed: an opaque code and a message safe to show.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case cannotOpen, wrongMission, conflictingObservation, writeFailed, corrupt }
    public var code: Code
    public var message: String
    public var description: String { message }
}
