import Crypto
import Foundation
import GRDB
import GuarantorCore

/// What the engine derives from the log, kept beside it in a database of its own (``resultsPath(of:)``): incidents
/// that are final (sealed), and snapshots of the engine's state. Both are functions of the log and the mission's
/// configuration: they can be thrown away and rebuilt by a replay, and are never part of the tamper-evident record.
/// That database commits with `synchronous = NORMAL` (WAL): a crash of the process loses nothing; a power cut may
/// lose its last commits, in order, which a replay of the log writes again.
///
/// A sealed incident is written once, when its group can change no more through observations; writing it again is
/// harmless (same content). Whether it still stands — people's actions may have replaced it since — is the engine's
/// to say, in its snapshot.
extension EventStore {
    /// A sealed incident as stored: its lines of incidents.ndjson and violations.ndjson, and what reads filter on.
    public struct SealedIncident: Sendable, Equatable {
        public var id: String
        public var start: Int64
        public var end: Int64
        public var status: String
        public var sector: String?
        public var lon: Double
        public var lat: Double
        public var late: Bool
        /// The incident's line of incidents.ndjson (no newline).
        public var line: [UInt8]
        /// Its findings' lines of violations.ndjson, each with its newline.
        public var findings: [UInt8]
        /// Its findings' ids, and how many of them are verified.
        public var findingIds: [String]
        public var verifiedFindings: Int
        /// Its observations, in the incident's order.
        public var members: [String]
        public var markings: [Marking]
        /// Every observation marked TLP:CLEAR (``IncidentRecord/isPublic``).
        public var isPublic: Bool

        /// What its line says of a report two incidents explain about equally (``Incident/ambiguousBetween``).
        public var ambiguousBetween: [String]? {
            guard line.firstRange(of: Array(#""ambiguousBetween""#.utf8)) != nil,
                let value = try? JSONValue.parse(line), let fields = try? JSONFields(value)
            else { return nil }
            return (try? fields.optionalStrings("ambiguousBetween")) ?? nil
        }

        /// The row of a record the engine sealed.
        public init(_ record: IncidentRecord, mission: Mission) {
            let i = record.incident
            id = i.id
            start = i.start.nanoseconds
            end = i.end.nanoseconds
            status = i.status.rawValue
            sector = i.classification.sector >= 0 ? mission.sectors.names[Int(i.classification.sector)] : nil
            lon = i.location.point.lon
            lat = i.location.point.lat
            late = i.late
            var w = JSONWriter(capacity: 512)
            mission.incidentLine(i, into: &w)
            line = w.bytes
            var v = JSONWriter()
            for finding in record.findings {
                Replay.violationLine(finding, into: &v)
                v.newline()
            }
            findings = v.bytes
            findingIds = record.findings.map(\.id)
            verifiedFindings = record.findings.filter { $0.incidentStatus == .verified }.count
            members = i.observationIds
            markings = record.markings
            isPublic = record.isPublic
        }

        init(row: Row) {
            id = row["id"]
            start = row["start"]
            end = row["end"]
            status = row["status"]
            sector = row["sector"]
            lon = row["lon"]
            lat = row["lat"]
            late = row["late"]
            line = Array(row["line"] as Data)
            findings = Array(row["findings"] as Data)
            let ids: String = row["finding_ids"]
            findingIds = ids.isEmpty ? [] : ids.split(separator: "\n").map(String.init)
            verifiedFindings = status == "verified" ? findingIds.count : 0
            members = (row["members"] as String).split(separator: "\n").map(String.init)
            markings = Self.markings(row["markings"] as String)
            isPublic = row["public"]
        }

        static func text(_ markings: [Marking]) -> String {
            guard !markings.isEmpty else { return "" }
            var w = JSONWriter()
            w.beginArray()
            for m in markings {
                w.beginObject()
                w.key("id"); w.string(m.observationId)
                w.key("tlp"); w.string(m.tlp.rawValue)
                if let o = m.originator { w.key("originator"); w.string(o) }
                w.key("recipients"); w.beginArray(); for r in m.recipients { w.string(r) }; w.endArray()
                w.endObject()
            }
            w.endArray()
            return String(decoding: w.bytes, as: UTF8.self)
        }

        static func markings(_ text: String) -> [Marking] {
            guard !text.isEmpty, case .array(let items)? = try? JSONValue.parse(text) else { return [] }
            return items.compactMap { item in
                guard let f = try? JSONFields(item), let id = try? f.string("id"),
                    let tlp = try? f.enumeration("tlp", as: TLP.self)
                else { return nil }
                let recipients = ((try? f.array("recipients")) ?? []).compactMap { v -> String? in
                    if case .string(let s) = v { return s }
                    return nil
                }
                return Marking(
                    observationId: id, tlp: tlp, originator: try? f.optionalString("originator"),
                    recipients: recipients)
            }
        }
    }

    /// The results database beside a store: `events.sqlite` → `events.results.sqlite`.
    public static func resultsPath(of path: String) -> String {
        path.hasSuffix(".sqlite") ? String(path.dropLast(".sqlite".count)) + ".results.sqlite" : path + ".results"
    }

    static var resultMigrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 results and snapshots") { db in
            try db.execute(
                sql: """
                    CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
                    CREATE TABLE sealed_incident (
                        id TEXT PRIMARY KEY,
                        start INTEGER NOT NULL,
                        "end" INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        sector TEXT,
                        lon REAL NOT NULL,
                        lat REAL NOT NULL,
                        late INTEGER NOT NULL,
                        restricted INTEGER NOT NULL,
                        line BLOB NOT NULL,
                        findings BLOB NOT NULL,
                        finding_ids TEXT NOT NULL,
                        members TEXT NOT NULL,
                        markings TEXT NOT NULL
                    ) STRICT;
                    CREATE INDEX sealed_incident_order ON sealed_incident (start, id);
                    CREATE INDEX sealed_incident_queue ON sealed_incident (status, start, id);
                    CREATE TABLE sealed_member (key INTEGER PRIMARY KEY, incident TEXT NOT NULL) STRICT;
                    CREATE TABLE snapshot (
                        position INTEGER PRIMARY KEY,
                        head_hash BLOB NOT NULL,
                        merkle_root BLOB NOT NULL,
                        mission TEXT NOT NULL,
                        engine BLOB NOT NULL,
                        view BLOB NOT NULL,
                        digest BLOB NOT NULL
                    ) STRICT;
                    """)
        }
        // Rows written before it are not public (the view shows them to members only) until results are rebuilt.
        migrator.registerMigration("v2 public incidents") { db in
            try db.execute(sql: "ALTER TABLE sealed_incident ADD COLUMN public INTEGER NOT NULL DEFAULT 0")
        }
        return migrator
    }

    /// Writes sealed incidents (one transaction), each observation's incident key pointing at its incident, and
    /// notes the event of the log they were derived up to (with its hash: results of another log are never used).
    public func writeSealed(_ incidents: [SealedIncident], through position: Int64) throws {
        guard !incidents.isEmpty else { return }
        let through = try hash(ofEvent: position).map { "\(position) \(EventChain.hex($0))" }
        do {
            try results.write { db in
                if let through {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO store_meta (key, value) VALUES ('through', ?)",
                        arguments: [through])
                }
                let insert = try db.makeStatement(
                    sql: """
                        INSERT OR REPLACE INTO sealed_incident
                        (id, start, "end", status, sector, lon, lat, late, restricted, line, findings, finding_ids, members, markings,
                        public)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                let member = try db.makeStatement(
                    sql: "INSERT OR REPLACE INTO sealed_member (key, incident) VALUES (?, ?)")
                for i in incidents {
                    try insert.execute(arguments: [
                        i.id, i.start, i.end, i.status, i.sector, i.lon, i.lat, i.late, !i.markings.isEmpty,
                        Data(i.line), Data(i.findings), i.findingIds.joined(separator: "\n"),
                        i.members.joined(separator: "\n"), SealedIncident.text(i.markings), i.isPublic,
                    ])
                    // The first member's key is the incident's id: only the others need a row to be found by.
                    for id in i.members.dropFirst() {
                        try member.execute(arguments: [Int64(bitPattern: IncidentKey.of(observationId: id)), i.id])
                    }
                }
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "could not store results: \(Self.describe(error))")
        }
    }

    /// The sealed incident holding the observation with this incident key, if any.
    public func sealedIncident(holding key: UInt64) throws -> SealedIncident? {
        try results.read { db in
            if let row = try Row.fetchOne(
                db, sql: "SELECT * FROM sealed_incident WHERE id = ?", arguments: [IncidentKey.incidentId(key)])
            {
                return SealedIncident(row: row)
            }
            return try Row.fetchOne(
                db,
                sql: """
                    SELECT i.* FROM sealed_member m JOIN sealed_incident i ON i.id = m.incident WHERE m.key = ?
                    """, arguments: [Int64(bitPattern: key)]
            ).map(SealedIncident.init(row:))
        }
    }

    /// Sealed incidents by id.
    public func sealedIncidents(ids: [String]) throws -> [String: SealedIncident] {
        guard !ids.isEmpty else { return [:] }
        return try results.read { db in
            var found: [String: SealedIncident] = [:]
            let statement = try db.makeStatement(sql: "SELECT * FROM sealed_incident WHERE id = ?")
            for id in ids {
                if let row = try Row.fetchOne(statement, arguments: [id]) { found[id] = SealedIncident(row: row) }
            }
            return found
        }
    }

    /// A condition on sealed incidents that reads may use first: only necessary conditions, never sufficient.
    public struct SealedFilter: Sendable {
        public var status: String?
        /// Incidents that end at or after this time.
        public var endsFrom: Int64?
        /// Incidents that start at or before this time.
        public var startsTo: Int64?
        /// Unrestricted incidents inside this box (restricted ones always pass: what a reader sees of them moves).
        public var box: (minLon: Double, minLat: Double, maxLon: Double, maxLat: Double)?
        /// Only incidents the public view may show (``SealedIncident/isPublic``).
        public var publicOnly = false

        public init() {}
    }

    /// Sealed incidents after `cursor` (start, id) in (start, id) order, at most `limit`, that pass `filter`.
    public func sealedIncidents(after cursor: (Int64, String)?, filter: SealedFilter, limit: Int) throws
        -> [SealedIncident]
    {
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let (start, id) = cursor {
            conditions.append("(start > ? OR (start = ? AND id > ?))")
            arguments += [start, start, id]
        }
        if let s = filter.status {
            conditions.append("status = ?")
            arguments.append(s)
        }
        if let t = filter.endsFrom {
            conditions.append("\"end\" >= ?")
            arguments.append(t)
        }
        if let t = filter.startsTo {
            conditions.append("start <= ?")
            arguments.append(t)
        }
        if filter.publicOnly { conditions.append("public = 1") }
        if let b = filter.box {
            conditions.append("(restricted = 1 OR (lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?))")
            arguments += [b.minLon, b.maxLon, b.minLat, b.maxLat]
        }
        let sql =
            "SELECT * FROM sealed_incident"
            + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            + " ORDER BY start, id LIMIT ?"
        arguments.append(limit)
        return try results.read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map(SealedIncident.init(row:))
        }
    }

    /// The ids of sealed incidents with observations marked AMBER or above.
    public func restrictedSealedIncidents() throws -> Set<String> {
        try results.read { db in
            Set(try String.fetchAll(db, sql: "SELECT id FROM sealed_incident WHERE restricted = 1"))
        }
    }

    /// How many sealed incidents there are per status.
    public func sealedCounts() throws -> [String: Int] {
        try results.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, count(*) FROM sealed_incident GROUP BY status") {
                counts[row[0]] = row[1]
            }
            return counts
        }
    }

    /// Observations by id, with redacted fields removed (to show a reader the part of an incident it may read).
    public func observations(ids: [String]) throws -> [Observation] {
        let hidden = try redactions()
        let stored = try read { try $0.observations(ids: ids) }
        return try ids.compactMap { id in
            guard let (sequence, payload) = stored[id] else { return nil }
            var o = try payload.withUnsafeBufferPointer {
                try ObservationBatch.decode($0, isKnownSource: { _ in true })
            }
            if let fields = hidden[sequence] {
                if fields.contains("text") { o.text = nil }
                if fields.contains("evidence") { o.evidence = [] }
            }
            return o
        }
    }

    // MARK: Snapshots

    /// A stored snapshot of the engine (and of what the server keeps beside it) at a position of the log.
    public struct Snapshot: Sendable {
        /// The number of events it covers.
        public var position: Int64
        /// The hash of event `position` in the chain (which commits to every event before it).
        public var headHash: [UInt8]
        /// The Merkle root of the first `position` events.
        public var merkleRoot: [UInt8]
        /// The mission configuration it was made with (``MissionDirectory/fingerprint(_:)``).
        public var mission: String
        public var engine: [UInt8]
        public var view: [UInt8]
        public var digest: [UInt8]

        /// SHA-256 of everything else the row holds.
        static func digest(
            position: Int64, headHash: [UInt8], merkleRoot: [UInt8], mission: String, engine: [UInt8], view: [UInt8]
        )
            -> [UInt8]
        {
            var hasher = SHA256()
            hasher.update(data: Array("\(position)|\(mission)|".utf8))
            hasher.update(data: headHash)
            hasher.update(data: merkleRoot)
            hasher.update(data: engine)
            hasher.update(data: [0])
            hasher.update(data: view)
            return Array(hasher.finalize())
        }

        /// Whether its digest matches its content.
        public var isIntact: Bool {
            digest
                == Self.digest(
                    position: position, headHash: headHash, merkleRoot: merkleRoot, mission: mission, engine: engine,
                    view: view)
        }
    }

    /// Stores a snapshot and keeps only the latest few.
    public func saveSnapshot(
        position: Int64, headHash: [UInt8], merkleRoot: [UInt8], mission: String, engine: [UInt8], view: [UInt8],
        keep: Int = 3
    ) throws {
        let digest = Snapshot.digest(
            position: position, headHash: headHash, merkleRoot: merkleRoot, mission: mission, engine: engine,
            view: view)
        do {
            try results.write { db in
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO snapshot (position, head_hash, merkle_root, mission, engine, view, digest)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        position, Data(headHash), Data(merkleRoot), mission, Data(engine), Data(view), Data(digest),
                    ])
                try db.execute(
                    sql:
                        "DELETE FROM snapshot WHERE position NOT IN (SELECT position FROM snapshot ORDER BY position DESC LIMIT ?)",
                    arguments: [keep])
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "could not store a snapshot: \(Self.describe(error))")
        }
    }

    /// The stored snapshots, latest first (all, or only the latest).
    public func snapshots(latestOnly: Bool = false) throws -> [Snapshot] {
        try results.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM snapshot ORDER BY position DESC" + (latestOnly ? " LIMIT 1" : "")
            ).map { row in
                Snapshot(
                    position: row["position"], headHash: Array(row["head_hash"] as Data),
                    merkleRoot: Array(row["merkle_root"] as Data), mission: row["mission"],
                    engine: Array(row["engine"] as Data), view: Array(row["view"] as Data),
                    digest: Array(row["digest"] as Data))
            }
        }
    }

    /// Makes the derived results this mission configuration's: if they were made with another (agreement.json or a
    /// rule edited since), they are thrown away (and rebuilt from the log).
    public func claimResults(for fingerprint: String, warn: (String) -> Void) throws {
        let stored = try results.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'resultsMission'")
        }
        guard stored != fingerprint else { return }
        if stored != nil {
            warn("the mission's configuration changed since results were stored: they are rebuilt from the log")
        }
        try clearResults()
        do {
            try results.write { db in
                try db.execute(
                    sql: "INSERT OR REPLACE INTO store_meta (key, value) VALUES ('resultsMission', ?)",
                    arguments: [fingerprint])
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "could not write to the store: \(Self.describe(error))")
        }
    }

    /// Throws away every derived result (sealed incidents, snapshots): they are rebuilt from the log.
    public func clearResults() throws {
        do {
            try results.write { db in
                try db.execute(
                    sql:
                        "DELETE FROM sealed_incident; DELETE FROM sealed_member; DELETE FROM snapshot; DELETE FROM store_meta;"
                )
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "could not clear results: \(Self.describe(error))")
        }
    }

    /// The hash of event `sequence` in the chain, if there is one.
    public func hash(ofEvent sequence: Int64) throws -> [UInt8]? {
        try event(sequence: sequence)?.hash
    }
}
