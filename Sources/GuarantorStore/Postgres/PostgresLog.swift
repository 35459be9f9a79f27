import Foundation
import GuarantorCore

/// The log in PostgreSQL, shared by every node of a deployment.
///
/// One total order however many nodes append: every write transaction first takes `LOCK TABLE event IN SHARE ROW
/// EXCLUSIVE MODE`, which excludes other writers (not readers) until it commits, so the head it reads stays the head.
/// A batch is one transaction, its new events sent with one binary `COPY`. Triggers refuse UPDATE, DELETE and
/// TRUNCATE of events, checkpoints and cosignatures — for every role, the owner's included.
final class PostgresLog: LogDatabase {
    let pool: PostgresPool

    /// Connects to `url` and creates the tables if they are missing (any number of nodes may start at once). A
    /// schema that the URL names first in `search_path` (`?options=-csearch_path%3Dname`: several missions in one
    /// database) is created if missing.
    /// Only read: a streaming replica (a server in recovery), or opened to read only (``EventStore``'s read replica).
    let isReadOnly: Bool

    init(url: String, readOnly: Bool = false) throws {
        pool = try PostgresPool(url: url)
        // A replica is read only: its tables come from the primary, and nothing is created or written here.
        let inRecovery = try pool.transaction(readOnly: true) { c in
            try c.execute("SELECT pg_is_in_recovery()").bool(0, 0)
        }
        isReadOnly = readOnly || inRecovery
        guard !isReadOnly else {
            let found = try pool.transaction(readOnly: true) { c in
                try c.execute("SELECT to_regclass('event') IS NOT NULL").bool(0, 0)
            }
            guard found else {
                throw PostgresError(message: "it holds no Guarantor log (no table event)", connectionLost: false)
            }
            return
        }
        try pool.transaction { c in
            try c.execute("SELECT pg_advisory_xact_lock(7301730173)")
            let path = try c.execute("SELECT current_schema() IS NULL, current_setting('search_path')")
            if path.bool(0, 0), let first = path.string(0, 1).split(separator: ",").first {
                let name = first.trimmingCharacters(in: CharacterSet(charactersIn: " \""))
                try c.execute("CREATE SCHEMA IF NOT EXISTS \"\(name.replacingOccurrences(of: "\"", with: "\"\""))\"")
            }
            for statement in Self.schema + SharedCoordination.schema { try c.execute(statement) }
        }
    }

    func read<T>(_ body: (any LogReading) throws -> T) throws -> T {
        try pool.transaction(readOnly: true) { try body(PostgresLogAccess(c: $0)) }
    }

    func write<T>(_ body: (any LogWriting) throws -> T) throws -> T {
        guard !isReadOnly else {
            throw StoreError(
                code: .readOnly, message: "this store is read only (a replica): writes go to the primary")
        }
        return try pool.transaction { c in
            try c.execute("LOCK TABLE event IN SHARE ROW EXCLUSIVE MODE")
            let value = try body(PostgresLogAccess(c: c))
            // A wake-up for the nodes following the log (delivered at commit; ``Wakeups``).
            try c.execute("NOTIFY \(Wakeups.log)")
            return value
        }
    }

    static let schema = [
        "CREATE TABLE IF NOT EXISTS store_meta (key text PRIMARY KEY, value text NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS event (
            sequence bigint PRIMARY KEY CHECK (sequence > 0),
            kind text NOT NULL,
            observation_id text UNIQUE,
            action_id text UNIQUE,
            payload bytea NOT NULL,
            previous_hash bytea NOT NULL CHECK (length(previous_hash) = 32),
            hash bytea NOT NULL CHECK (length(hash) = 32)
        )
        """,
        "CREATE INDEX IF NOT EXISTS event_rare_kinds ON event (kind, sequence) WHERE kind <> 'observation'",
        """
        CREATE TABLE IF NOT EXISTS api_key (
            hash bytea PRIMARY KEY,
            id text NOT NULL UNIQUE,
            member text NOT NULL,
            role text NOT NULL,
            "user" text NOT NULL,
            created_at text NOT NULL,
            revoked_at text
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS checkpoint (
            size bigint PRIMARY KEY, body text NOT NULL, signature bytea NOT NULL, result_files text NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS cosignature (
            size bigint NOT NULL REFERENCES checkpoint (size), member text NOT NULL, signature bytea NOT NULL,
            PRIMARY KEY (size, member)
        )
        """,
        """
        CREATE OR REPLACE FUNCTION guarantor_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation'; END $$
        """,
        """
        CREATE OR REPLACE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event
        FOR EACH ROW EXECUTE FUNCTION guarantor_append_only()
        """,
        """
        CREATE OR REPLACE TRIGGER event_no_truncate BEFORE TRUNCATE ON event
        FOR EACH STATEMENT EXECUTE FUNCTION guarantor_append_only()
        """,
        """
        CREATE OR REPLACE TRIGGER checkpoint_append_only BEFORE UPDATE OR DELETE ON checkpoint
        FOR EACH ROW EXECUTE FUNCTION guarantor_append_only()
        """,
        """
        CREATE OR REPLACE TRIGGER checkpoint_no_truncate BEFORE TRUNCATE ON checkpoint
        FOR EACH STATEMENT EXECUTE FUNCTION guarantor_append_only()
        """,
        """
        CREATE OR REPLACE TRIGGER cosignature_append_only BEFORE UPDATE OR DELETE ON cosignature
        FOR EACH ROW EXECUTE FUNCTION guarantor_append_only()
        """,
        """
        CREATE OR REPLACE TRIGGER cosignature_no_truncate BEFORE TRUNCATE ON cosignature
        FOR EACH STATEMENT EXECUTE FUNCTION guarantor_append_only()
        """,
    ]
}

/// One PostgreSQL transaction, seen as the log's database.
private struct PostgresLogAccess: LogWriting {
    let c: PostgresConnection

    func meta(_ key: String) throws -> String? {
        let rows = try c.execute("SELECT value FROM store_meta WHERE key = $1", [.text(key)])
        return rows.count == 0 ? nil : rows.string(0, 0)
    }

    func setMeta(_ key: String, _ value: String) throws {
        try c.execute(
            "INSERT INTO store_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2",
            [.text(key), .text(value)])
    }

    func head() throws -> (Int64, [UInt8]) {
        let rows = try c.execute("SELECT sequence, hash FROM event ORDER BY sequence DESC LIMIT 1")
        return rows.count == 0 ? (0, EventChain.genesis) : (rows.int64(0, 0), rows.bytes(0, 1))
    }

    func event(sequence: Int64) throws -> EventStore.Event? {
        let rows = try c.execute(
            "SELECT sequence, kind, payload, previous_hash, hash FROM event WHERE sequence = $1", [.int(sequence)])
        return rows.count == 0 ? nil : Self.event(rows, 0)
    }

    func forEachEvent(
        after first: Int64, upTo last: Int64, _ body: (Int64, String, UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var from = first
        while true {
            // Pages by sequence: the log only grows, so the pages join up exactly.
            let rows = try c.execute(
                "SELECT sequence, kind, payload FROM event WHERE sequence > $1 AND sequence <= $2 ORDER BY sequence LIMIT 20000",
                [.int(from), .int(last)])
            for i in 0..<rows.count {
                let sequence = rows.int64(i, 0)
                let kind = rows.string(i, 1)
                try rows.withBytes(i, 2) { try body(sequence, kind, $0) }
                from = sequence
            }
            if rows.count < 20000 { return }
        }
    }

    func events() throws -> [EventStore.Event] {
        var events: [EventStore.Event] = []
        var from: Int64 = 0
        while true {
            let rows = try c.execute(
                "SELECT sequence, kind, payload, previous_hash, hash FROM event WHERE sequence > $1 ORDER BY sequence LIMIT 20000",
                [.int(from)])
            for i in 0..<rows.count { events.append(Self.event(rows, i)) }
            if rows.count < 20000 { return events }
            from = events[events.count - 1].sequence
        }
    }

    func observations(ids: [String]) throws -> [String: (sequence: Int64, payload: [UInt8])] {
        var found: [String: (sequence: Int64, payload: [UInt8])] = [:]
        for start in stride(from: 0, to: ids.count, by: 10_000) {
            let rows = try c.execute(
                "SELECT observation_id, sequence, payload FROM event WHERE observation_id = ANY($1::text[])",
                [.text(Self.arrayLiteral(ids[start..<min(start + 10_000, ids.count)]))])
            for i in 0..<rows.count { found[rows.string(i, 0)] = (rows.int64(i, 1), rows.bytes(i, 2)) }
        }
        return found
    }

    func actionPayload(id: String) throws -> [UInt8]? {
        let rows = try c.execute("SELECT payload FROM event WHERE action_id = $1", [.text(id)])
        return rows.count == 0 ? nil : rows.bytes(0, 0)
    }

    func payloads(kind: EventKind, upTo last: Int64) throws -> [(sequence: Int64, payload: [UInt8])] {
        let rows = try c.execute(
            "SELECT sequence, payload FROM event WHERE kind = $1 AND kind <> 'observation' AND sequence <= $2 ORDER BY sequence",
            [.text(kind.rawValue), .int(last)])
        return (0..<rows.count).map { (rows.int64($0, 0), rows.bytes($0, 1)) }
    }

    func latestPayload(kinds: [EventKind]) throws -> [UInt8]? {
        let rows = try c.execute(
            "SELECT payload FROM event WHERE kind = ANY($1::text[]) ORDER BY sequence DESC LIMIT 1",
            [.text(Self.arrayLiteral(kinds.map(\.rawValue)))])
        return rows.count == 0 ? nil : rows.bytes(0, 0)
    }

    func hasEvents(after sequence: Int64, except kinds: [EventKind]) throws -> Bool {
        let rows = try c.execute(
            "SELECT EXISTS (SELECT 1 FROM event WHERE sequence > $1 AND NOT (kind = ANY($2::text[])))",
            [.int(sequence), .text(Self.arrayLiteral(kinds.map(\.rawValue)))])
        return rows.bool(0, 0)
    }

    func checkpoints(size: Int?, latestOnly: Bool) throws -> [CheckpointRow] {
        let sql =
            "SELECT size, body, signature, result_files FROM checkpoint"
            + (size != nil ? " WHERE size = $1" : "") + " ORDER BY size" + (latestOnly ? " DESC LIMIT 1" : "")
        let rows = try c.execute(sql, size.map { [.int(Int64($0))] } ?? [])
        return (0..<rows.count).map {
            CheckpointRow(
                size: Int(rows.int64($0, 0)), body: rows.string($0, 1), signature: rows.bytes($0, 2),
                resultFiles: rows.string($0, 3))
        }
    }

    func cosignatures() throws -> [(size: Int, member: String, signature: [UInt8])] {
        let rows = try c.execute("SELECT size, member, signature FROM cosignature")
        return (0..<rows.count).map { (Int(rows.int64($0, 0)), rows.string($0, 1), rows.bytes($0, 2)) }
    }

    func keys() throws -> [EventStore.StoredKey] {
        let rows = try c.execute(
            #"SELECT id, member, role, "user", created_at, revoked_at FROM api_key ORDER BY created_at, id"#)
        return (0..<rows.count).map {
            EventStore.StoredKey(
                holder: Self.holder(rows, $0), createdAt: rows.string($0, 4), revokedAt: rows.optionalString($0, 5))
        }
    }

    func keyHolder(hash: [UInt8]) throws -> EventStore.KeyHolder? {
        let rows = try c.execute(
            #"SELECT id, member, role, "user" FROM api_key WHERE hash = $1 AND revoked_at IS NULL"#, [.bytes(hash)])
        return rows.count == 0 ? nil : Self.holder(rows, 0)
    }

    func standingKey(id: String) throws -> EventStore.KeyHolder? {
        let rows = try c.execute(
            #"SELECT id, member, role, "user" FROM api_key WHERE id = $1 AND revoked_at IS NULL"#, [.text(id)])
        return rows.count == 0 ? nil : Self.holder(rows, 0)
    }

    func insert(_ events: [NewEvent]) throws {
        if events.count == 1, let e = events.first {
            try c.execute(
                """
                INSERT INTO event (sequence, kind, observation_id, action_id, payload, previous_hash, hash)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """,
                [
                    .int(e.sequence), .text(e.kind), e.observationId.map { .text($0) } ?? .null,
                    e.actionId.map { .text($0) } ?? .null, .bytes(e.payload), .bytes(e.previousHash), .bytes(e.hash),
                ])
            return
        }
        guard !events.isEmpty else { return }
        var copy = PostgresCopy()
        for e in events {
            copy.row(fields: 7)
            copy.int64(e.sequence)
            copy.text(e.kind)
            copy.text(e.observationId)
            copy.text(e.actionId)
            copy.bytea(e.payload)
            copy.bytea(e.previousHash)
            copy.bytea(e.hash)
        }
        copy.finish()
        try c.copy(
            "COPY event (sequence, kind, observation_id, action_id, payload, previous_hash, hash) FROM STDIN (FORMAT binary)",
            data: copy.bytes)
    }

    func insertCheckpoint(_ row: CheckpointRow) throws {
        try c.execute(
            """
            INSERT INTO checkpoint (size, body, signature, result_files) VALUES ($1, $2, $3, $4)
            ON CONFLICT (size) DO NOTHING
            """, [.int(Int64(row.size)), .text(row.body), .bytes(row.signature), .text(row.resultFiles)])
    }

    func insertCosignature(size: Int, member: String, signature: [UInt8]) throws {
        try c.execute(
            "INSERT INTO cosignature (size, member, signature) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            [.int(Int64(size)), .text(member), .bytes(signature)])
    }

    func insertKey(hash: [UInt8], holder: EventStore.KeyHolder, createdAt: String) throws {
        try c.execute(
            #"INSERT INTO api_key (hash, id, member, role, "user", created_at) VALUES ($1, $2, $3, $4, $5, $6)"#,
            [
                .bytes(hash), .text(holder.id), .text(holder.member), .text(holder.role), .text(holder.user),
                .text(createdAt),
            ])
    }

    func markKeyRevoked(id: String, at time: String) throws {
        try c.execute("UPDATE api_key SET revoked_at = $1 WHERE id = $2", [.text(time), .text(id)])
    }

    private static func event(_ rows: PostgresRows, _ i: Int) -> EventStore.Event {
        EventStore.Event(
            sequence: rows.int64(i, 0), kind: rows.string(i, 1), payload: rows.bytes(i, 2),
            previousHash: rows.bytes(i, 3), hash: rows.bytes(i, 4))
    }

    private static func holder(_ rows: PostgresRows, _ i: Int) -> EventStore.KeyHolder {
        EventStore.KeyHolder(
            id: rows.string(i, 0), member: rows.string(i, 1), role: rows.string(i, 2), user: rows.string(i, 3))
    }

    /// A text[] literal: `{"a","b\"c"}`.
    private static func arrayLiteral<S: Sequence<String>>(_ values: S) -> String {
        let quoted = values.map {
            "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return "{" + quoted.joined(separator: ",") + "}"
    }
}
