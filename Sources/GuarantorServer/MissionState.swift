import Crypto
import Foundation
import GuarantorCore
import GuarantorStore

/// The server's one writer: the store, the mission's engine fed as records arrive, and what readers read.
///
/// A batch of observations is acknowledged once it is stored durably (one transaction). A *drawing*, off the actor,
/// then feeds what was stored since the last one to the engine — in proportion to the batch: only the groups the new
/// observations touch are built again — folds the engine's changes (sealed incidents are written to the store) and
/// publishes them to the stream. One drawing runs at a time and covers every write acknowledged before it began.
/// Reads wait until the results include every write acknowledged before them (read-your-writes). An action waits for
/// the drawing under way, is tried on a copy of the engine, and is stored only if it applies. The engine is the one
/// `guarantor replay` runs, fed the same records, so it reaches the same results. On start it resumes from the
/// latest snapshot in the store and the log after it; snapshots are saved on a cadence and at shutdown.
///
/// On a shared store (PostgreSQL, several nodes) the engine is fed from the log itself rather than from what this
/// node stored: every node's engine reads every node's records in the log's one order, so that every node draws the
/// same results — those `guarantor replay` draws from the log. Write and read positions are then positions in the
/// log; a read waits until the results include the whole log as it stood when the read came (a write acknowledged by
/// any node), and the log is followed (``followLog(every:)``) so that other nodes' writes reach the stream.
public actor MissionState {
    public nonisolated let mission: Mission
    public nonisolated let store: EventStore
    public nonisolated let stream = LiveStream()
    /// The store is shared with other nodes: the engine is fed from the log, positions count events of the log.
    public nonisolated let shared: Bool
    /// The engine, fed by drawings, or by an action when no drawing is under way (never both).
    private let box: EngineBox
    private var view: ResultView
    /// The log position the view's results include.
    private var viewThrough: Int64 = 0
    /// Records stored and acknowledged, not yet fed to the engine, and the log position of the last.
    private var pending: [EventStore.Record] = []
    private var pendingThrough: Int64 = 0
    /// Writes acknowledged so far, and how many of them the results include (shared: the log's size known, and the
    /// position the results include).
    private var written = 0
    private var drawn = 0
    private var drawing = false
    private var readers: [(waitsFor: Int, continuation: CheckedContinuation<Void, Never>)] = []
    private var drawingTimes: [Duration] = []
    private var actors: [CheckedContinuation<Void, Never>] = []
    /// Snapshots: at least this many events apart, or this long.
    private var snapshotEvery: (events: Int64, interval: Duration) = (100_000, .seconds(300))

    /// Saves snapshots every `events` events (and every `interval`, if the log grew).
    public func setSnapshotEvery(events: Int64, interval: Duration = .seconds(300)) {
        snapshotEvery = (events, interval)
    }
    private var lastSnapshot: (position: Int64, at: ContinuousClock.Instant)
    /// Where the engine started from when the server started.
    public nonisolated let startedFrom: Int64?
    /// ``MissionDirectory/fingerprint(_:)`` of the mission served (snapshots and verifications check against it).
    public nonisolated let fingerprint: String

    /// The stored engine, handed between the actor and the drawing it starts (a class, mutated in place).
    private final class EngineBox: @unchecked Sendable {
        var stored: StoredEngine
        init(_ stored: StoredEngine) { self.stored = stored }
    }

    /// Opens the mission's store: the engine resumes from the latest good snapshot and the log after it.
    /// - Parameter warn: told about snapshots refused and derived results thrown away.
    public init(mission: Mission, store: EventStore, fingerprint: String, warn: (String) -> Void = { _ in }) throws {
        self.mission = mission
        self.store = store
        self.fingerprint = fingerprint
        shared = store.isShared
        // Sealed incidents are written in the background; the view reads them from memory until then.
        let relay = WrittenRelay()
        let writer = SealedWriter(store: store) { ids in relay.tell(ids) }
        let stored = try StoredEngine(
            mission: mission, store: store, fingerprint: fingerprint, writer: writer, warn: warn)
        try writer.drain()
        self.writer = writer
        startedFrom = stored.startedFrom
        box = EngineBox(stored)
        var view = ResultView(mission: mission, store: store, standing: stored.engine.standingFindings)
        try view.load(stored)
        self.view = view
        viewThrough = stored.position
        if shared { (written, drawn) = (Int(stored.position), Int(stored.position)) }
        lastSnapshot = (stored.startedFrom ?? 0, .now)
        relay.state = self
    }

    private let writer: SealedWriter
    /// When the last record was stored (the mission's clock ticks only when nothing else arrives).
    private var lastWrite = ContinuousClock.now

    /// How long nothing has been stored.
    public var quietFor: Duration { .now - lastWrite }
    /// A snapshot is being saved in the background.
    private var snapshotting = false

    private func snapshotSaved() { snapshotting = false }

    /// Hands the writer's news to the actor (set once the actor exists).
    private final class WrittenRelay: @unchecked Sendable {
        weak var state: MissionState?
        func tell(_ ids: [String]) {
            guard let state else { return }
            Task { await state.written(ids) }
        }
    }

    private func written(_ ids: [String]) { view.written(ids) }

    /// The results include every write acknowledged before this call.
    private func caughtUp() async {
        // Shared: whatever any node acknowledged before this read is in the log by now.
        if shared, let head = await logSize() { logGrew(to: head) }
        let target = written
        guard drawn < target else { return }
        await withCheckedContinuation { readers.append((target, $0)) }
    }

    // MARK: Writing

    /// What a bulk or single ingest did.
    public struct IngestOutcome: Sendable {
        public var appended: Int
        public var alreadyStored: Int
        public var eventCount: Int64
    }

    /// Stores a batch (all or nothing) and has it fed to the engine.
    /// - Throws: ``StoreError`` when the batch conflicts with stored records; nothing is stored then.
    /// Observations that carry no receipt time are received now.
    public func ingest(
        _ observations: [Observation], maximumSkewSeconds: Double = Observation.defaultMaximumSkewSeconds
    ) throws -> IngestOutcome {
        let now = WallClock.now()
        let observations = observations.map { $0.receivedAt == nil ? $0.received(at: now) : $0 }
        let result = try store.ingest(observations, maximumSkewSeconds: maximumSkewSeconds)
        if result.appended > 0 && shared {
            logGrew(to: result.eventCount)
        } else if result.appended > 0 {
            for i in result.appendedIndices { pending.append(.observation(observations[i])) }
            pendingThrough = result.eventCount
            wrote()
        }
        return IngestOutcome(
            appended: result.appended, alreadyStored: result.alreadyPresent, eventCount: result.eventCount)
    }

    /// Tries an action on a copy of the engine and stores it only if it applies.
    /// - Returns: `applied`, or `refused: why` (nothing stored then).
    /// An action without a receipt time is received now.
    public func act(_ action: MissionAction) async throws -> String {
        let action = action.receivedAt == nil ? action.received(at: WallClock.now()) : action
        // A retry of a stored action (only applied actions are stored) is that action: nothing to do again.
        if try store.action(id: action.id) != nil {
            _ = try store.record(action)  // refuses the same id with other content
            return "applied"
        }
        // Re-checked after each wake: another action may have started a drawing in between.
        while drawing { await withCheckedContinuation { actors.append($0) } }
        defer { handOn() }
        // Shared: the action is tried on the engine fed the whole log, and stored only if the log has not grown
        // meanwhile (else tried again), so that it is judged where it stands in the log.
        var attempts = 1
        while true {
            let head = try feedPending()
            do {
                return try tryAction(action, appendingIfHeadIs: shared ? head : nil)
            } catch let error as StoreError where error.code == .headMoved && attempts < 50 {
                attempts += 1
            }
        }
    }

    /// Feeds the engine what was stored and not yet fed (shared: the log's tail); returns the log position fed.
    private func feedPending() throws -> Int64 {
        if shared {
            // The primary's head (with a replica, its records are waited for there).
            let head = try store.writtenHead()
            let from = box.stored.position
            if head > from { box.stored.feed(try store.records(after: from, upTo: head), through: head) }
            return max(head, from)
        }
        box.stored.feed(pending, through: pendingThrough)
        pending.removeAll()
        return box.stored.position
    }

    private func tryAction(_ action: MissionAction, appendingIfHeadIs head: Int64?) throws -> String {
        // What the action may look up of sealed incidents is written first.
        try writer.drain()
        var trial = box.stored.engine
        trial.add(action)
        trial.refresh()
        let changes = trial.takeChanges()
        let outcome: String
        switch action {
        case .review(let a):
            outcome = changes.outcomes.last { $0.action.id == a.id }?.outcome ?? "refused: not applied"
        case .guarantee(let a):
            if let g = changes.guarantee {
                outcome = g.actions.first { $0.action.id == a.id }?.outcome ?? "refused: not applied"
            } else {
                outcome = "refused: the mission has no guarantee (coalition.json, triggers.json)"
            }
        }
        guard outcome == "applied" else { return outcome }
        let stored = try store.record(action, ifHeadIs: head)
        lastWrite = .now
        if stored.appended == 0 {
            // Stored already (a retry another node took, or one not yet seen here): the trial is not this log's
            // next step; the log's follower draws the stored action where it stands.
            if shared { logGrew(to: stored.eventCount) }
            return outcome
        }
        let applied = box.stored.adopt(trial, changes: changes, through: stored.eventCount)
        publish(applied)
        viewThrough = stored.eventCount
        if shared {
            drawn = Int(stored.eventCount)
            written = max(written, drawn)
        } else {
            written += 1
            drawn = written
        }
        resumeReaders()
        return outcome
    }

    /// Shared: the log has `size` events (this node's write, or another's seen); draws them unless drawn.
    private func logGrew(to size: Int64) {
        guard Int(size) > written else { return }
        written = Int(size)
        lastWrite = .now
        drawIfBehind()
    }

    /// Shared: follows the log at each of `wakeups` (the log's NOTIFY, and a fallback tick), else every 200 ms, so
    /// that what other nodes store is drawn here too and reaches this node's stream; runs until cancelled.
    public func followLog(wakeups: AsyncStream<Void>? = nil) async {
        guard shared else { return }
        if let wakeups {
            for await _ in wakeups {
                if let head = await logSize() { logGrew(to: head) }
            }
            return
        }
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(200))
            if let head = await logSize() { logGrew(to: head) }
        }
    }

    /// The log's size where writes go, read off the actor (`nil` when the store cannot be read).
    private func logSize() async -> Int64? {
        let store = self.store
        return await Task.detached { try? store.writtenHead() }.value
    }

    /// Counts an acknowledged write and starts a drawing unless one is under way (it will pick this write up).
    private func wrote() {
        lastWrite = .now
        written += 1
        drawIfBehind()
    }

    private func drawIfBehind() {
        guard !drawing && drawn < written && actors.isEmpty else { return }
        drawing = true
        Task { await drawUntilCaughtUp() }
    }

    /// Feeds the engine and draws results off the actor until they include every acknowledged write, or an action
    /// waits; publishes what changed each time.
    private func drawUntilCaughtUp() async {
        while drawn < written && actors.isEmpty {
            let target = written
            let (box, store, shared) = (self.box, self.store, self.shared)
            let (batch, through, from) = (pending, shared ? Int64(target) : pendingThrough, box.stored.position)
            pending.removeAll()
            let started = ContinuousClock.now
            let snapshotDue =
                !snapshotting
                && (through - lastSnapshot.position >= snapshotEvery.events
                    || (through > lastSnapshot.position
                        && ContinuousClock.now - lastSnapshot.at >= snapshotEvery.interval))
            let result = await Task.detached { () -> StoredEngine.Applied? in
                // Shared: the log's tail is read here; when the store cannot be read, nothing is fed.
                guard let batch = shared ? try? store.records(after: from, upTo: through) : batch else {
                    return nil
                }
                box.stored.feed(batch, through: through)
                return box.stored.drawAndApply()
            }.value
            guard let applied = result else {
                // Tried again shortly (the next write or read, or the log's follower, starts it).
                try? await Task.sleep(for: .milliseconds(500))
                continue
            }
            if snapshotDue {
                // A copy of the engine as just drawn is saved in the background, off the path to the stream.
                lastSnapshot = (through, .now)
                snapshotting = true
                let copy = box.stored
                Task.detached { [weak self] in
                    var copy = copy
                    try? copy.saveSnapshot()
                    await self?.snapshotSaved()
                }
            }
            if drawingTimes.count < 10_000 { drawingTimes.append(ContinuousClock.now - started) }
            publish(applied)
            viewThrough = through
            drawn = target
            resumeReaders()
        }
        drawing = false
        handOn()
    }

    private func resumeReaders() {
        let (ready, waiting) = (readers.filter { $0.waitsFor <= drawn }, readers.filter { $0.waitsFor > drawn })
        readers = waiting
        for reader in ready { reader.continuation.resume() }
    }

    /// The engine's next user: a waiting action, else a drawing if results are behind.
    private func handOn() {
        if actors.isEmpty {
            drawIfBehind()
        } else {
            actors.removeFirst().resume()
        }
    }

    /// Takes a drawing's changes into the view, and new alerts and incidents that changed to the live stream (among
    /// several nodes: to the store, for the partitions this node holds, whence every node's stream reads them).
    private func publish(_ applied: StoredEngine.Applied) {
        view.apply(applied, from: box.stored)
        if let cluster {
            let through = box.stored.position
            cluster.offer(
                applied.alerts.map { (cluster.partition(of: $0), .alert($0, through: through)) }
                    + applied.incidents.map {
                        (
                            cluster.partition(sector: $0.classification.sector),
                            .init(kind: "incident", ref: $0.id, through: through)
                        )
                    })
            return
        }
        for alert in applied.alerts { stream.publish(.alert(alert)) }
        for incident in applied.incidents { stream.publish(.incident(incident.id)) }
    }

    // MARK: Several nodes

    /// The node this state runs as among several on a shared store (its stream then carries the store's changes).
    public private(set) var cluster: ClusterNode?

    /// Runs as `node` until cancelled: follows the log, holds leases, publishes and streams changes.
    public func run(as node: ClusterNode) async {
        cluster = node
        await node.run(self)
    }

    /// Whether the mission's clock ticks here: on one node only (partition 0's holder) when there are several.
    public var keepsTheClock: Bool { cluster.map { $0.held[0] != nil } ?? true }

    /// Alerts drawn so far that `include` picks, as changes to publish.
    func alertChanges(_ include: (Alert) -> Bool) -> [(alert: Alert, change: SharedCoordination.Change)] {
        (view.guarantee?.alerts ?? []).filter(include).map { ($0, .alert($0, through: viewThrough)) }
    }

    /// Sends a change published by any node to this node's stream under its number, once the results include the
    /// log as far as it was drawn from.
    func streamChange(_ change: SharedCoordination.Change, id: Int) async {
        if Int(change.through) > drawn {
            logGrew(to: change.through)
            await withCheckedContinuation { readers.append((Int(change.through), $0)) }
        }
        switch change.kind {
        case "alert":
            // As the publisher drew it (an alert that a later drawing withdrew is still one that was raised).
            guard let alert = Alert(line: change.payload) else { return }
            stream.publish(.alert(alert), id: id)
        default:
            stream.publish(.incident(change.ref), id: id)
        }
    }

    /// Saves a snapshot of the engine now (at shutdown), once every write is drawn.
    public func saveSnapshot() async throws {
        await caughtUp()
        while drawing { await withCheckedContinuation { actors.append($0) } }
        defer { handOn() }
        _ = try feedPending()
        try box.stored.saveSnapshot()
        let applied = box.stored.drawAndApply()
        publish(applied)
        viewThrough = box.stored.position
        lastSnapshot = (box.stored.position, .now)
    }

    // MARK: Reading

    /// The number of observations the results include.
    public func observationCount() async -> Int {
        await caughtUp()
        return view.observations
    }

    /// Incidents as a member may see them, in (start, id) order after `cursor`, filtered.
    func incidents(
        for member: String, after cursor: (Int64, String)?, filter: EventStore.SealedFilter, limit: Int,
        keep: @Sendable (ResultView.Shown) -> Bool
    ) async throws -> [ResultView.Shown] {
        await caughtUp()
        return try view.incidents(for: member, after: cursor, filter: filter, limit: limit, keep: keep)
    }

    /// The findings that stand from the start (parties that declared nothing).
    public nonisolated var standingFindings: [Violation] { box.stored.engine.standingFindings }

    /// The guarantee as drawn (with every acknowledged write).
    public func guarantee() async -> GuaranteeResults? {
        await caughtUp()
        return view.guarantee
    }

    /// Whether a member may read the incident of each finding (findings without an incident: yes).
    /// - Parameter current: as the results stand now, without waiting for writes not yet drawn (the live stream: an
    ///   alert is judged by the results it was raised in).
    public func readable(findings ids: [String], by member: String, current: Bool = false) async throws -> Set<String> {
        if !current { await caughtUp() }
        var readable: Set<String> = []
        for id in ids where try view.canRead(finding: id, member: member) { readable.insert(id) }
        return readable
    }

    /// One incident as a member may see it now, if it stands and the member may see any of it.
    func incident(_ id: String, for member: String) throws -> ResultView.Shown? {
        if let record = view.live[id] { return try view.show(record, to: member) }
        guard !view.superseded.contains(id), let row = try store.sealedIncidents(ids: [id])[id] else { return nil }
        return try view.show(row, to: member)
    }

    /// The daily report for `date` as `reader` sees it, from results that include every acknowledged write.
    public func dailyReport(
        date: String, cutoff: String, timeZone: String, reader: ReportReader, language: ReportLanguage
    ) async throws -> Reports.Files {
        await caughtUp()
        return try view.dailyReport(
            date: date, cutoff: cutoff, timeZone: timeZone, reader: reader, language: language, through: viewThrough)
    }

    /// An export (STIX, ACLED CSV, GeoJSON) as `reader` sees it, from results that include every acknowledged write.
    public func export(_ format: Exports.Format, reader: ReportReader) async throws -> Exports.File {
        await caughtUp()
        return try view.export(format, reader: reader)
    }

    /// The STIX objects `reader` may read, sorted by TAXII's date added then id, from results that include every
    /// acknowledged write (built once per reader for each state of the results, so that a client paging through
    /// them reads one version).
    public func stixObjects(reader: ReportReader) async throws -> [STIXBundle.Object] {
        await caughtUp()
        if let cached = stixCache[reader.id], cached.through == viewThrough { return cached.objects }
        let through = viewThrough
        let (items, _) = try view.exchangeItems(for: reader.member)
        let objects = STIXBundle(mission: mission, reader: reader, items: items).objects().sorted {
            ($0.added, $0.id) < ($1.added, $1.id)
        }
        if stixCache.count >= 8 { stixCache.removeAll() }
        stixCache[reader.id] = (through, objects)
        return objects
    }
    private var stixCache: [String: (through: Int64, objects: [STIXBundle.Object])] = [:]

    /// The spot report on an alert as `reader` sees it.
    public func spotReport(alert: String, reader: ReportReader, language: ReportLanguage) async throws
        -> Reports.Files
    {
        await caughtUp()
        return try view.spotReport(alert: alert, reader: reader, language: language, through: viewThrough)
    }

    /// Incidents per status (the review queues' sizes).
    public func incidentsPerStatus() -> [String: Int] { view.counts.byStatus.filter { $0.value != 0 } }

    /// Signs and stores a checkpoint of the log as it stands, with the digest of the results drawn from it.
    public func checkpoint(
        key: Curve25519.Signing.PrivateKey, index: MerkleIndex, time: Timestamp
    ) async throws -> SignedCheckpoint {
        while drawn < written { await caughtUp() }
        // From here to the end nothing awaits: no write of this node can come between the results and the size (on
        // a shared store other nodes' can: the size is the position the results include).
        let size = shared ? Int(viewThrough) : Int(try store.head().count)
        // With a replica, its tree must hold the events the results include.
        try store.waitForReplica(through: Int64(size))
        return try Checkpoints.make(
            store: store, tree: try index.current(), size: size, fileDigests: try resultDigests(), key: key, time: time)
    }

    /// The SHA-256 of each result file a checkpoint covers, of the whole record (no reader's filter).
    public func resultDigests() throws -> [(name: String, sha256: [UInt8])] {
        var standing = view.standing
        return try StoredEngine.resultDigests(
            mission: mission, standing: &standing, standingFindings: view.standingFindings, guarantee: view.guarantee)
    }

    /// For the metrics: the drawings' durations since the last call, records acknowledged but not yet drawn.
    public func takeStatistics() -> (drawings: [Duration], pending: Int, incidents: [String: Int]) {
        defer { drawingTimes.removeAll() }
        return (drawingTimes, pending.count, view.counts.byStatus)
    }
}
