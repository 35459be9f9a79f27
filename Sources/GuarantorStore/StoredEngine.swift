import Crypto
import Foundation
import GuarantorCore

/// The mission's engine over its store: started from the latest good snapshot and fed the log's tail; incidents that
/// become final are written to the store as they seal, those that may still change are kept here. `guarantor serve`,
/// `status`, `review act` and `guarantee act` run it; `guarantor verify` runs it from the start without writing, to
/// check every stored snapshot.
public struct StoredEngine: Sendable {
    public let mission: Mission
    public let store: EventStore
    /// ``MissionDirectory/fingerprint(_:)`` of the mission's configuration.
    public let fingerprint: String
    /// Writes nothing (a check).
    public let dry: Bool
    public private(set) var engine: MissionEngine
    /// Events of the log fed so far (observations, actions, and the events the engine does not read).
    public private(set) var position: Int64 = 0
    /// The snapshot it started from, if any.
    public private(set) var startedFrom: Int64?

    /// The incidents that stand: those that may still change (open or held, standing in for a sealed row of the same
    /// id), and the sealed rows no action replaced.
    public private(set) var standing: StandingIncidents
    public var live: [String: IncidentRecord] { standing.live }
    public var superseded: Set<String> { standing.superseded }
    /// What the sealed rows that stand count: incidents, findings, verified findings.
    public private(set) var sealedCounts = Counts()
    public private(set) var outcomes: [String: (action: ReviewAction, outcome: String)] = [:]
    public private(set) var guarantee: GuaranteeResults?
    public private(set) var impediments: [ImpedimentCount] = []

    /// Counts of incidents and findings.
    public struct Counts: Sendable, Equatable {
        public var incidents = 0
        public var findings = 0
        public var verifiedFindings = 0
        public var byStatus: [String: Int] = [:]

        public init() {}

        mutating func add(_ record: IncidentRecord, _ sign: Int) {
            incidents += sign
            findings += sign * record.findings.count
            verifiedFindings += sign * record.findings.filter { $0.incidentStatus == .verified }.count
            byStatus[record.incident.status.rawValue, default: 0] += sign
        }

        /// Adds what `other` counts.
        mutating func add(_ other: Counts) {
            incidents += other.incidents
            findings += other.findings
            verifiedFindings += other.verifiedFindings
            for (status, n) in other.byStatus where n != 0 { byStatus[status, default: 0] += n }
        }
    }

    /// What one batch of changes did: for what the server shows, and for the live stream.
    public struct Applied: Sendable {
        /// One change to the incidents that stand.
        public enum Step: Sendable {
            /// An incident that may still change, new or changed (open or held).
            case live(IncidentRecord)
            /// An incident now sealed (its row written to the store).
            case sealed(IncidentRecord)
            /// An incident no longer standing, by id.
            case gone(String)
            /// A sealed incident that no longer stands (people's actions replaced it), by id.
            case superseded(String)
        }

        /// What happened to standing incidents, in the order it happened (an incident may go and come back within
        /// one batch: only the order says how it ends).
        public var steps: [Step] = []
        /// Incidents new or changed in status or size.
        public var incidents: [Incident] = []
        /// Alerts not seen before.
        public var alerts: [Alert] = []
        /// Outcomes of the actions in these changes.
        public var outcomes: [String: String] = [:]
    }

    private var pendingSealed: [EventStore.SealedIncident] = []
    /// Writes sealed incidents in the background (the server); without one they are written at once.
    private let writer: SealedWriter?
    /// Sealed incidents superseded while folding, in order (``Applied/Step/superseded(_:)``).
    private var newlySuperseded: [Applied.Step] = []
    /// In a check, the sealed groups of this run by their observations' incident keys.
    private let index: SealedIndex
    private var alertIds: Set<String> = []

    /// Opens the engine: the latest snapshot that passes its checks (refused ones are reported through `warn`),
    /// then every event after it; with no usable snapshot, the whole log.
    /// - Parameter size: feed the log only up to this event (a check of snapshots goes on from there).
    public init(
        mission: Mission, store: EventStore, fingerprint: String, dry: Bool = false,
        options: MissionEngine.Options = .init(), upTo size: Int64? = nil, writer: SealedWriter? = nil,
        warn: (String) -> Void = { _ in }
    ) throws {
        self.mission = mission
        self.store = store
        self.fingerprint = fingerprint
        self.dry = dry
        standing = StandingIncidents(store: store)
        self.writer = writer
        if !dry { try store.claimResults(for: fingerprint, warn: warn) }
        var options = options
        let index = SealedIndex()
        self.index = index
        if options.sealedMembers == nil {
            // The members of a sealed group: from the rows written (or, in a check, from those this run sealed),
            // the observations themselves from the log.
            options.sealedMembers = { [store] key in
                let found: (members: [String], late: Bool, ambiguousBetween: [String]?)?
                if dry {
                    found = index.group(holding: key)
                } else {
                    // (An action drains the writer first: what it looks up is written.)
                    found = (try? store.sealedIncident(holding: key)).flatMap {
                        $0.map { ($0.members, $0.late, $0.ambiguousBetween) }
                    }
                }
                guard let found, let observations = try? store.observations(ids: found.members),
                    observations.count == found.members.count
                else { return nil }
                return MissionEngine.SealedGroup(
                    observations: observations, late: found.late, ambiguousBetween: found.ambiguousBetween)
            }
        }
        engine = MissionEngine(mission: mission, options: options)
        if !dry {
            for snapshot in try store.snapshots() {
                do {
                    try restore(snapshot, options: options)
                    break
                } catch {
                    warn("snapshot at event \(snapshot.position) refused (\(error)); trying an earlier one")
                }
            }
            if startedFrom == nil { engine = MissionEngine(mission: mission, options: options) }
        }
        try feedLog(upTo: size)
        _ = drawAndApply()
    }

    private mutating func restore(_ snapshot: EventStore.Snapshot, options: MissionEngine.Options) throws {
        guard snapshot.isIntact else { throw SnapshotError("its digest does not match its content") }
        guard snapshot.mission == fingerprint else {
            throw SnapshotError("it was made with another mission configuration")
        }
        guard let hash = try store.hash(ofEvent: snapshot.position), hash == snapshot.headHash else {
            throw SnapshotError("event \(snapshot.position) of the log is not the one it was made at")
        }
        engine = try MissionEngine(mission: mission, snapshot: snapshot.engine, options: options)
        try restoreView(snapshot.view)
        position = snapshot.position
        startedFrom = snapshot.position
    }

    /// Feeds every event after `position` (up to `size`) to the engine, writing sealed incidents as it goes.
    public mutating func feedLog(upTo size: Int64? = nil) throws {
        var fed = 0
        // The end is fixed first: on a shared store other nodes append while this reads, and the position must not
        // pass records it was not fed.
        let end = try size ?? store.head().count
        try store.forEachRecord(after: position, upTo: end) { sequence, record in
            switch record {
            case .observation(let o): engine.add(o)
            case .action(let a): engine.add(a)
            }
            position = sequence
            fed += 1
            if fed % 8_192 == 0 { fold(engine.takeChanges()) }
        }
        position = max(position, end)
        fold(engine.takeChanges())
        try flushSealed()
    }

    /// Feeds records that were just appended to the log as events up to `position` (the server's write path).
    public mutating func feed(_ records: [EventStore.Record], through position: Int64) {
        for record in records {
            switch record {
            case .observation(let o): engine.add(o)
            case .action(let a): engine.add(a)
            }
        }
        self.position = max(self.position, position)
    }

    /// Takes an engine that was fed one more record as a trial (an action checked before it was stored), with the
    /// changes it drew.
    @discardableResult public mutating func adopt(
        _ trial: MissionEngine, changes: EngineChanges, through position: Int64
    ) -> Applied {
        engine = trial
        self.position = max(self.position, position)
        let applied = fold(changes)
        try? flushSealed()
        return applied
    }

    /// Draws results (``MissionEngine/refresh()``), folds the changes, writes sealed incidents; returns what the
    /// stream should carry.
    @discardableResult public mutating func drawAndApply() -> Applied {
        engine.refresh()
        let applied = fold(engine.takeChanges())
        try? flushSealed()
        return applied
    }

    /// Writes the sealed incidents folded since the last call.
    public mutating func flushSealed() throws {
        guard !pendingSealed.isEmpty else { return }
        if let writer, !dry {
            writer.write(pendingSealed, through: position)
        } else if !dry {
            try store.writeSealed(pendingSealed, through: position)
        }
        pendingSealed.removeAll(keepingCapacity: true)
    }

    @discardableResult private mutating func fold(_ changes: EngineChanges) -> Applied {
        var applied = Applied()
        for change in changes.units {
            switch change {
            case .upsert(let record, let state):
                let id = record.incident.id
                let previous = live[id]
                if state == .sealed {
                    if previous != nil { standing.remove(id) }
                    standing.unsupersede(id)
                    applied.steps.append(.sealed(record))
                    sealedCounts.add(record, 1)
                    pendingSealed.append(EventStore.SealedIncident(record, mission: mission))
                    if dry { index.add(pendingSealed.last!) }
                } else {
                    if state == .held && previous == nil && !superseded.contains(id) && isSealedRow(id) {
                        // A held incident now stands for the sealed row of the same id.
                        supersede(id)
                    }
                    standing.set(record)
                    applied.steps.append(.live(record))
                }
                if previous?.incident.status != record.incident.status
                    || previous?.incident.observationIds.count != record.incident.observationIds.count
                {
                    applied.incidents.append(record.incident)
                }
            case .remove(let id):
                applied.steps.append(.gone(id))
                if live[id] != nil {
                    standing.remove(id)
                    // A held incident that stood for a sealed row takes it along.
                    if isSealedRow(id) && !superseded.contains(id) { supersede(id) }
                } else if !superseded.contains(id) {
                    supersede(id)
                }
            }
            applied.steps += newlySuperseded
            newlySuperseded.removeAll()
        }
        for (action, outcome) in changes.outcomes {
            outcomes[action.id] = (action, outcome)
            applied.outcomes[action.id] = outcome
        }
        if let g = changes.guarantee {
            for a in g.alerts where !alertIds.contains(a.id) { applied.alerts.append(a) }
            alertIds = Set(g.alerts.map(\.id))
            guarantee = g
            for (a, outcome) in g.actions { applied.outcomes[a.id] = outcome }
        }
        if let i = changes.impediments { impediments = i }
        return applied
    }

    /// Whether a sealed row of this id stands in the store (written, or about to be).
    private func isSealedRow(_ id: String) -> Bool { sealedRow(id) != nil }

    private func sealedRow(_ id: String) -> SealedSummary? {
        if let row = pendingSealed.first(where: { $0.id == id }) { return SealedSummary(row) }
        if let row = writer?.row(id) { return SealedSummary(row) }
        if dry { return index.row(id) }
        return (try? store.sealedIncidents(ids: [id]))?[id].map(SealedSummary.init)
    }

    private mutating func supersede(_ id: String) {
        guard let row = sealedRow(id) else { return }
        standing.supersede(id)
        newlySuperseded.append(.superseded(id))
        sealedCounts.incidents -= 1
        sealedCounts.findings -= row.findings
        sealedCounts.verifiedFindings -= row.verified
        sealedCounts.byStatus[row.status, default: 0] -= 1
    }

    /// Everything counted: sealed rows that stand and live incidents (standing findings included in `findings`).
    public var counts: Counts {
        var c = sealedCounts
        c.add(standing.liveCounts)
        c.findings += engine.standingFindings.count
        c.verifiedFindings += engine.standingFindings.count
        return c
    }

    /// The SHA-256 of each result file a checkpoint covers, from what stands now: what `guarantor replay` writes
    /// for the same events.
    public mutating func resultDigests() throws -> [(name: String, sha256: [UInt8])] {
        try Self.resultDigests(
            mission: mission, standing: &standing, standingFindings: engine.standingFindings, guarantee: guarantee)
    }

    /// ``resultDigests()`` of any standing incidents, read page by page (never the whole files in memory).
    public static func resultDigests(
        mission: Mission, standing: inout StandingIncidents, standingFindings: [Violation],
        guarantee: GuaranteeResults?
    ) throws -> [(name: String, sha256: [UInt8])] {
        var incidents = SHA256()
        var violations = SHA256()
        var w = JSONWriter()
        for v in standingFindings.sorted(by: { $0.id < $1.id }) {
            Replay.violationLine(v, into: &w)
            w.newline()
        }
        violations.update(data: w.bytes)
        try standing.forEach { incident in
            switch incident {
            case .sealed(let row):
                incidents.update(data: row.line)
                incidents.update(data: [0x0A])
                violations.update(data: row.findings)
            case .live(let record):
                var line = JSONWriter(capacity: 512)
                mission.incidentLine(record.incident, into: &line)
                line.newline()
                incidents.update(data: line.bytes)
                var v = JSONWriter()
                for finding in record.findings {
                    Replay.violationLine(finding, into: &v)
                    v.newline()
                }
                violations.update(data: v.bytes)
            }
            return true
        }
        let (alerts, obligations, statements, sanctions) = guarantee.map(Replay.guaranteeFiles) ?? ([], [], [], [])
        return [
            ("incidents.ndjson", Array(incidents.finalize())), ("violations.ndjson", Array(violations.finalize())),
            ("alerts.ndjson", Array(SHA256.hash(data: alerts))),
            ("obligations.ndjson", Array(SHA256.hash(data: obligations))),
            ("statements.ndjson", Array(SHA256.hash(data: statements))),
            ("sanctions.ndjson", Array(SHA256.hash(data: sanctions))),
        ]
    }

    // MARK: Snapshots

    /// Saves a snapshot at `position` (after drawing results; sealed incidents are written first).
    public mutating func saveSnapshot(merkleRoot: [UInt8] = []) throws {
        guard !dry else { return }
        let bytes = engine.snapshot()
        fold(engine.takeChanges())
        try flushSealed()
        // Every row up to the snapshot's position is written before the snapshot is.
        try writer?.drain()
        guard position > 0, let hash = try store.hash(ofEvent: position) else { return }
        try store.saveSnapshot(
            position: position, headHash: hash, merkleRoot: merkleRoot, mission: fingerprint, engine: bytes,
            view: viewBytes())
    }

    /// The engine's snapshot and this view's, as they would be stored now (`guarantor verify` compares them).
    public mutating func snapshotBytes() -> (engine: [UInt8], view: [UInt8]) {
        let bytes = engine.snapshot()
        fold(engine.takeChanges())
        return (bytes, viewBytes())
    }

    private func viewBytes() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("superseded"); w.beginArray(); for id in superseded.sorted() { w.string(id) }; w.endArray()
        w.key("incidents"); w.int(sealedCounts.incidents)
        w.key("findings"); w.int(sealedCounts.findings)
        w.key("verifiedFindings"); w.int(sealedCounts.verifiedFindings)
        w.key("byStatus")
        w.beginObject()
        for (status, n) in sealedCounts.byStatus.sorted(by: { $0.key < $1.key }) where n != 0 {
            w.key(dynamic: status); w.int(n)
        }
        w.endObject()
        w.endObject()
        return w.bytes
    }

    private mutating func restoreView(_ bytes: [UInt8]) throws {
        do {
            let f = try JSONFields(JSONValue.parse(bytes))
            for v in try f.array("superseded") {
                guard case .string(let id) = v else { throw SnapshotError("superseded: expected ids") }
                standing.supersede(id)
            }
            sealedCounts.incidents = try f.integer("incidents", in: 0...Int.max)
            sealedCounts.findings = try f.integer("findings", in: 0...Int.max)
            sealedCounts.verifiedFindings = try f.integer("verifiedFindings", in: 0...Int.max)
            let byStatus = try f.object("byStatus")
            for (status, value) in byStatus.members {
                if case .number(let n) = value { sealedCounts.byStatus[status] = Int(n) }
            }
        } catch let error as SnapshotError {
            throw error
        } catch {
            throw SnapshotError("its view cannot be read: \(error)")
        }
    }
}

/// What a sealed row counts, and its members.
struct SealedSummary: Sendable {
    var members: [String]
    var late: Bool
    var ambiguousBetween: [String]?
    var status: String
    var findings: Int
    var verified: Int

    init(_ row: EventStore.SealedIncident) {
        members = row.members
        late = row.late
        ambiguousBetween = row.ambiguousBetween
        status = row.status
        findings = row.findingIds.count
        verified =
            row.findings.split(separator: 0x0A).filter {
                $0.firstRange(of: Array(#""incidentStatus":"verified""#.utf8)) != nil
            }.count
    }
}

/// The sealed groups of a check run, by their observations' incident keys (what the store's rows hold otherwise).
final class SealedIndex: @unchecked Sendable {
    private let lock = NSLock()
    private var byKey: [UInt64: String] = [:]
    private var rows: [String: SealedSummary] = [:]

    func add(_ row: EventStore.SealedIncident) {
        lock.lock()
        defer { lock.unlock() }
        for id in row.members { byKey[IncidentKey.of(observationId: id)] = row.id }
        rows[row.id] = SealedSummary(row)
    }

    func group(holding key: UInt64) -> (members: [String], late: Bool, ambiguousBetween: [String]?)? {
        lock.lock()
        defer { lock.unlock() }
        return byKey[key].flatMap { rows[$0] }.map { ($0.members, $0.late, $0.ambiguousBetween) }
    }

    func row(_ id: String) -> SealedSummary? {
        lock.lock()
        defer { lock.unlock() }
        return rows[id]
    }

    func remove(_ id: String) {
        lock.lock()
        defer { lock.unlock() }
        guard let row = rows.removeValue(forKey: id) else { return }
        for member in row.members {
            let key = IncidentKey.of(observationId: member)
            if byKey[key] == id { byKey[key] = nil }
        }
    }
}

/// Writes sealed incidents to the store in the background, in order, so that writing them is not on the path from an
/// observation to the live stream; a row not written yet can still be read here, and an action drains the writer
/// before it looks anything up.
public final class SealedWriter: @unchecked Sendable {
    private let store: EventStore
    private let queue = DispatchQueue(label: "guarantor.sealed-writer")
    private let lock = NSLock()
    private var pendingRows: [String: EventStore.SealedIncident] = [:]
    private var failure: (any Error)?
    /// Told the ids of each batch once it is written.
    private let written: @Sendable ([String]) -> Void

    public init(store: EventStore, written: @escaping @Sendable ([String]) -> Void) {
        self.store = store
        self.written = written
    }

    /// Queues a batch derived from the log up to `position`.
    func write(_ rows: [EventStore.SealedIncident], through position: Int64) {
        lock.lock()
        for row in rows { pendingRows[row.id] = row }
        lock.unlock()
        queue.async { [self] in
            do {
                try store.writeSealed(rows, through: position)
            } catch {
                lock.lock()
                failure = error
                lock.unlock()
            }
            lock.lock()
            for row in rows where pendingRows[row.id] == row { pendingRows[row.id] = nil }
            lock.unlock()
            written(rows.map(\.id))
        }
    }

    /// Waits until every batch queued so far is written.
    /// - Throws: the first write that failed.
    public func drain() throws {
        queue.sync {}
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
    }

    /// A row not yet written.
    func row(_ id: String) -> EventStore.SealedIncident? {
        lock.lock()
        defer { lock.unlock() }
        return pendingRows[id]
    }

}
