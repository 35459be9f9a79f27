import Foundation
import GRDB
import GuarantorCore

/// The log in one SQLite file (WAL, `synchronous = FULL`): a committed batch survives a crash or a power loss;
/// triggers refuse any UPDATE or DELETE of events, checkpoints and cosignatures.
final class SQLiteLog: LogDatabase {
    let pool: DatabasePool

    init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    func read<T>(_ body: (any LogReading) throws -> T) throws -> T {
        try pool.read { db in try body(SQLiteLogAccess(db: db)) }
    }

    func write<T>(_ body: (any LogWriting) throws -> T) throws -> T {
        try pool.write { db in try body(SQLiteLogAccess(db: db)) }
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
}

/// One SQLite read or write transaction, seen as the log's database.
private struct SQLiteLogAccess: LogWriting {
    let db: Database

    func meta(_ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = ?", arguments: [key])
    }

    func setMeta(_ key: String, _ value: String) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)", arguments: [key, value])
    }

    func head() throws -> (Int64, [UInt8]) {
        guard let row = try Row.fetchOne(db, sql: "SELECT sequence, hash FROM event ORDER BY sequence DESC LIMIT 1")
        else {
            return (0, EventChain.genesis)
        }
        return (row["sequence"], Array(row["hash"] as Data))
    }

    func event(sequence: Int64) throws -> EventStore.Event? {
        try Row.fetchOne(
            db, sql: "SELECT sequence, kind, payload, previous_hash, hash FROM event WHERE sequence = ?",
            arguments: [sequence]
        ).map(Self.event)
    }

    func forEachEvent(
        after first: Int64, upTo last: Int64, _ body: (Int64, String, UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let rows = try Row.fetchCursor(
            db, sql: "SELECT sequence, kind, payload FROM event WHERE sequence > ? AND sequence <= ? ORDER BY sequence",
            arguments: [first, last])
        while let row = try rows.next() {
            let sequence: Int64 = row[0]
            let kind: String = row[1]
            try row.withUnsafeData(atIndex: 2) { data in
                try (data ?? Data()).withUnsafeBytes { try body(sequence, kind, $0) }
            }
        }
    }

    func events() throws -> [EventStore.Event] {
        try Row.fetchAll(db, sql: "SELECT sequence, kind, payload, previous_hash, hash FROM event ORDER BY sequence")
            .map(Self.event)
    }

    func observations(ids: [String]) throws -> [String: (sequence: Int64, payload: [UInt8])] {
        let statement = try db.makeStatement(sql: "SELECT sequence, payload FROM event WHERE observation_id = ?")
        var found: [String: (sequence: Int64, payload: [UInt8])] = [:]
        for id in ids {
            if let row = try Row.fetchOne(statement, arguments: [id]) {
                found[id] = (row[0], Array(row[1] as Data))
            }
        }
        return found
    }

    func actionPayload(id: String) throws -> [UInt8]? {
        try Data.fetchOne(db, sql: "SELECT payload FROM event WHERE action_id = ?", arguments: [id]).map(Array.init)
    }

    func payloads(kind: EventKind, upTo last: Int64) throws -> [(sequence: Int64, payload: [UInt8])] {
        // The kind is written out, not bound, so that SQLite uses the partial index of that kind.
        precondition([.action, .redaction, .report].contains(kind))
        return try Row.fetchAll(
            db,
            sql:
                "SELECT sequence, payload FROM event WHERE kind = '\(kind.rawValue)' AND sequence <= ? ORDER BY sequence",
            arguments: [last]
        ).map { ($0[0], Array($0[1] as Data)) }
    }

    func latestPayload(kinds: [EventKind]) throws -> [UInt8]? {
        let marks = kinds.map { _ in "?" }.joined(separator: ", ")
        return try Data.fetchOne(
            db, sql: "SELECT payload FROM event WHERE kind IN (\(marks)) ORDER BY sequence DESC LIMIT 1",
            arguments: StatementArguments(kinds.map(\.rawValue))
        ).map(Array.init)
    }

    func hasEvents(after sequence: Int64, except kinds: [EventKind]) throws -> Bool {
        let marks = kinds.map { _ in "?" }.joined(separator: ", ")
        return try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM event WHERE sequence > ? AND kind NOT IN (\(marks)))",
            arguments: StatementArguments([sequence] + kinds.map { $0.rawValue as any DatabaseValueConvertible })
        ) ?? false
    }

    func checkpoints(size: Int?, latestOnly: Bool) throws -> [CheckpointRow] {
        let sql =
            "SELECT size, body, signature, result_files FROM checkpoint"
            + (size != nil ? " WHERE size = ?" : "") + " ORDER BY size" + (latestOnly ? " DESC LIMIT 1" : "")
        return try Row.fetchAll(db, sql: sql, arguments: size.map { [$0] } ?? []).map {
            CheckpointRow(
                size: $0["size"], body: $0["body"], signature: Array($0["signature"] as Data),
                resultFiles: $0["result_files"])
        }
    }

    func cosignatures() throws -> [(size: Int, member: String, signature: [UInt8])] {
        try Row.fetchAll(db, sql: "SELECT size, member, signature FROM cosignature").map {
            ($0["size"], $0["member"], Array($0["signature"] as Data))
        }
    }

    func keys() throws -> [EventStore.StoredKey] {
        try Row.fetchAll(
            db, sql: "SELECT id, member, role, user, created_at, revoked_at FROM api_key ORDER BY created_at, id"
        ).map {
            EventStore.StoredKey(holder: Self.holder($0), createdAt: $0["created_at"], revokedAt: $0["revoked_at"])
        }
    }

    func keyHolder(hash: [UInt8]) throws -> EventStore.KeyHolder? {
        try Row.fetchOne(
            db, sql: "SELECT id, member, role, user FROM api_key WHERE hash = ? AND revoked_at IS NULL",
            arguments: [Data(hash)]
        ).map(Self.holder)
    }

    func standingKey(id: String) throws -> EventStore.KeyHolder? {
        try Row.fetchOne(
            db, sql: "SELECT id, member, role, user FROM api_key WHERE id = ? AND revoked_at IS NULL", arguments: [id]
        ).map(Self.holder)
    }

    func insert(_ events: [NewEvent]) throws {
        let insert = try db.makeStatement(
            sql: """
                INSERT INTO event (sequence, kind, observation_id, action_id, payload, previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
        for e in events {
            try insert.execute(arguments: [
                e.sequence, e.kind, e.observationId, e.actionId, Data(e.payload), Data(e.previousHash), Data(e.hash),
            ])
        }
    }

    func insertCheckpoint(_ row: CheckpointRow) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO checkpoint (size, body, signature, result_files) VALUES (?, ?, ?, ?)",
            arguments: [row.size, row.body, Data(row.signature), row.resultFiles])
    }

    func insertCosignature(size: Int, member: String, signature: [UInt8]) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO cosignature (size, member, signature) VALUES (?, ?, ?)",
            arguments: [size, member, Data(signature)])
    }

    func insertKey(hash: [UInt8], holder: EventStore.KeyHolder, createdAt: String) throws {
        try db.execute(
            sql: "INSERT INTO api_key (hash, id, member, role, user, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [Data(hash), holder.id, holder.member, holder.role, holder.user, createdAt])
    }

    func markKeyRevoked(id: String, at time: String) throws {
        try db.execute(sql: "UPDATE api_key SET revoked_at = ? WHERE id = ?", arguments: [time, id])
    }

    private static func event(_ row: Row) -> EventStore.Event {
        EventStore.Event(
            sequence: row["sequence"], kind: row["kind"], payload: Array(row["payload"] as Data),
            previousHash: Array(row["previous_hash"] as Data), hash: Array(row["hash"] as Data))
    }

    private static func holder(_ row: Row) -> EventStore.KeyHolder {
        EventStore.KeyHolder(id: row["id"], member: row["member"], role: row["role"], user: row["user"])
    }
}
