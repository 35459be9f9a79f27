import Foundation

/// What the nodes on one PostgreSQL store agree through it: which node owns each partition of the mission's work
/// (a lease with an epoch, the fencing token), and the changes the owners publish for every node's live stream.
///
/// Leases run on the database's clock (`now()`), never a node's. A node renews its leases every second; a lease not
/// renewed for ``leaseSeconds`` may be taken by another node, which raises its epoch. A publication is refused unless
/// the publisher still holds the partition's lease at the epoch it names — the row is locked while the changes are
/// written, so a takeover waits for a publication under way, and one that comes after it is fenced off. Changes are
/// numbered 1, 2, 3, … in the order their transactions commit (one writer at a time, by a table lock), so a reader
/// that has seen change n has seen every change before it; an alert is published once whoever publishes it.
public final class SharedCoordination: Sendable {
    private let pool: PostgresPool
    /// How long a lease holds without renewal.
    public static let leaseSeconds = 5
    /// How recently a node must have been seen to count as alive when shares are worked out.
    public static let aliveSeconds = 4

    init(pool: PostgresPool) { self.pool = pool }

    /// Wake-ups when the log grows or a change is published (LISTEN on a connection of its own), and at least
    /// every `fallback` whatever happens.
    public func wakeups(fallback: Duration = .seconds(1)) -> Wakeups { Wakeups(url: pool.url, fallback: fallback) }

    static let schema = [
        "CREATE TABLE IF NOT EXISTS node (name text PRIMARY KEY, seen_at timestamptz NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS lease (
            partition bigint PRIMARY KEY, node text NOT NULL, epoch bigint NOT NULL, expires_at timestamptz NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS change (
            seq bigint PRIMARY KEY, kind text NOT NULL, ref text NOT NULL, through bigint NOT NULL,
            partition bigint NOT NULL, epoch bigint NOT NULL, node text NOT NULL, payload bytea NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX IF NOT EXISTS change_alert_once ON change (ref) WHERE kind = 'alert'",
    ]

    /// A publication refused: the node no longer holds the partition's lease at that epoch.
    public struct Fenced: Error, CustomStringConvertible {
        public var partition: Int
        public var description: String { "the lease on partition \(partition) is no longer held at that epoch" }
    }

    /// Marks `node` alive, renews its leases, gives up those beyond its fair share (the partitions divided among the
    /// nodes alive) and takes free or expired ones up to it. Returns the partitions it holds, with their epochs.
    public func claim(node: String, partitions: Int) throws -> [Int: Int64] {
        try pool.transaction { c in
            try c.execute(
                "INSERT INTO node (name, seen_at) VALUES ($1, now()) ON CONFLICT (name) DO UPDATE SET seen_at = now()",
                [.text(node)])
            // One claim at a time: shares are worked out on one picture of the leases.
            try c.execute("LOCK TABLE lease IN SHARE ROW EXCLUSIVE MODE")
            let alive = try c.execute(
                "SELECT count(*) FROM node WHERE seen_at > now() - make_interval(secs => $1)",
                [.int(Int64(Self.aliveSeconds))]
            ).int64(0, 0)
            let fair = (partitions + Int(max(alive, 1)) - 1) / Int(max(alive, 1))
            try c.execute(
                "UPDATE lease SET expires_at = now() + make_interval(secs => $2) WHERE node = $1",
                [.text(node), .int(Int64(Self.leaseSeconds))])
            let rows = try c.execute(
                """
                SELECT partition, node, epoch, expires_at > now() FROM lease ORDER BY partition
                """)
            var mine: [Int: Int64] = [:]
            var free: [(partition: Int, epoch: Int64?)] = []
            var held: Set<Int> = []
            for r in 0..<rows.count {
                let p = Int(rows.int64(r, 0))
                held.insert(p)
                if rows.string(r, 1) == node {
                    mine[p] = rows.int64(r, 2)
                } else if !rows.bool(r, 3) {
                    free.append((p, rows.int64(r, 2)))
                }
            }
            for p in 0..<partitions where !held.contains(p) { free.append((p, nil)) }
            // Beyond the fair share: the highest partitions go back (their leases end now; another node takes them).
            for p in mine.keys.sorted().reversed() where mine.count > fair {
                try c.execute(
                    "UPDATE lease SET expires_at = now() - interval '1 second' WHERE partition = $1 AND node = $2",
                    [.int(Int64(p)), .text(node)])
                mine[p] = nil
            }
            for (p, epoch) in free.sorted(by: { $0.partition < $1.partition }) where mine.count < fair {
                let next = (epoch ?? 0) + 1
                try c.execute(
                    """
                    INSERT INTO lease (partition, node, epoch, expires_at)
                    VALUES ($1, $2, $3, now() + make_interval(secs => $4))
                    ON CONFLICT (partition) DO UPDATE SET node = $2, epoch = $3, expires_at = excluded.expires_at
                    """, [.int(Int64(p)), .text(node), .int(next), .int(Int64(Self.leaseSeconds))])
                mine[p] = next
            }
            return mine
        }
    }

    /// A change for the live stream: an alert (its line in `payload`, as the publisher drew it), or an incident that
    /// changed (by id), drawn from the log through event `through`.
    public struct Change: Sendable, Equatable {
        public var kind: String
        public var ref: String
        public var through: Int64
        public var payload: [UInt8]
        public init(kind: String, ref: String, through: Int64, payload: [UInt8] = []) {
            self.kind = kind
            self.ref = ref
            self.through = through
            self.payload = payload
        }
    }

    /// Publishes changes of `partition` as `node` holding its lease at `epoch`, in one transaction; alerts already
    /// published are left out. - Throws: ``Fenced`` when the lease is no longer so held (nothing is published).
    public func publish(_ changes: [Change], partition: Int, epoch: Int64, node: String) throws {
        guard !changes.isEmpty else { return }
        try pool.transaction { c in
            let lease = try c.execute(
                "SELECT node, epoch FROM lease WHERE partition = $1 AND expires_at > now() FOR SHARE",
                [.int(Int64(partition))])
            guard lease.count == 1, lease.string(0, 0) == node, lease.int64(0, 1) == epoch else {
                throw Fenced(partition: partition)
            }
            try c.execute("LOCK TABLE change IN SHARE ROW EXCLUSIVE MODE")
            var next = try c.execute("SELECT coalesce(max(seq), 0) FROM change").int64(0, 0) + 1
            for change in changes {
                let inserted = try c.execute(
                    """
                    INSERT INTO change (seq, kind, ref, through, partition, epoch, node, payload)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING seq
                    """,
                    [
                        .int(next), .text(change.kind), .text(change.ref), .int(change.through),
                        .int(Int64(partition)), .int(epoch), .text(node), .bytes(change.payload),
                    ])
                if inserted.count == 1 { next += 1 }
            }
            try c.execute("NOTIFY \(Wakeups.changes)")
        }
    }

    /// Changes after `seq`, in order, at most `limit`.
    public func changes(after seq: Int64, limit: Int = 10_000) throws -> [(seq: Int64, change: Change)] {
        try pool.transaction(readOnly: true) { c in
            let rows = try c.execute(
                "SELECT seq, kind, ref, through, payload FROM change WHERE seq > $1 ORDER BY seq LIMIT $2",
                [.int(seq), .int(Int64(limit))])
            return (0..<rows.count).map { r in
                (
                    rows.int64(r, 0),
                    Change(
                        kind: rows.string(r, 1), ref: rows.string(r, 2), through: rows.int64(r, 3),
                        payload: rows.bytes(r, 4))
                )
            }
        }
    }

    /// The number of the latest change (0: none).
    public func latestChange() throws -> Int64 {
        try pool.transaction(readOnly: true) { c in
            try c.execute("SELECT coalesce(max(seq), 0) FROM change").int64(0, 0)
        }
    }

    /// Who holds each partition's lease now, at which epoch, and whether it is still in force (for /health and the
    /// fault script).
    public func leases() throws -> [(partition: Int, node: String, epoch: Int64, live: Bool)] {
        try pool.transaction(readOnly: true) { c in
            let rows = try c.execute("SELECT partition, node, epoch, expires_at > now() FROM lease ORDER BY partition")
            return (0..<rows.count).map { r in
                (Int(rows.int64(r, 0)), rows.string(r, 1), rows.int64(r, 2), rows.bool(r, 3))
            }
        }
    }
}
