import Crypto
import Foundation
import GuarantorCore
import GuarantorStore

/// The server's one writer: the store, the verification engine fed as records arrive, and the latest results.
///
/// A batch of observations is acknowledged once it is stored durably (one transaction). A drawing, off the actor,
/// then feeds what was stored since the last one to the engine and draws results again; one drawing runs at a time and
/// covers every write acknowledged before it began, so a burst of writes costs one drawing, not one each. What changed
/// (new alerts, incidents that changed) goes to the live stream. Reads wait until the results include every write
/// acknowledged before them (read-your-writes). An action waits for the drawing under way, then is checked against
/// every acknowledged record. The engines are the ones `guarantor replay` runs, fed the same records, so they reach the
/// same results.
public actor MissionState {
    public let mission: Mission
    public let store: EventStore
    /// The engine, fed by drawings, or by an action when no drawing is under way (never both).
    private let engine: EngineBox
    /// Observations stored and acknowledged, not yet fed to the engine.
    private var pending: [Observation] = []
    private var guaranteeActions: [GuaranteeAction] = []
    private var latestTime: Timestamp?
    private var observationCount = 0
    private var current: Snapshot
    public let stream = LiveStream()
    /// Writes acknowledged so far, and how many of them the current results include.
    private var written = 0
    private var drawn = 0
    private var drawing = false
    private var readers: [(waitsFor: Int, continuation: CheckedContinuation<Void, Never>)] = []
    /// How long each drawing took, since the last ``takeStatistics()``.
    private var drawingTimes: [Duration] = []
    /// Actions waiting for the drawing under way to finish.
    private var actors: [CheckedContinuation<Void, Never>] = []

    /// The engine, handed between the actor and the drawing it starts (a class, so that it is mutated in place).
    private final class EngineBox: @unchecked Sendable {
        var engine: VerificationEngine
        init(_ engine: VerificationEngine) { self.engine = engine }

        func feed(_ observations: [Observation]) {
            for o in observations where !engine.contains(o.id) { engine.add(o) }
        }
    }

    /// Results as of a drawing.
    public struct Snapshot: Sendable {
        public var verification: VerificationResults
        public var guarantee: GuaranteeResults?
        public var observationCount: Int
        /// Incident id → (status, observation count), to tell which incidents changed.
        var fingerprints: [String: String]
        /// The engine the results were drawn from: it projects them onto what a reader may see.
        let engine: VerificationEngine
    }

    /// Opens the mission's store and replays its log into the engines.
    public init(mission: Mission, store: EventStore) throws {
        self.mission = mission
        self.store = store
        var engine = VerificationEngine(mission: mission, indexingIds: true)
        var count = 0
        var latest: Timestamp?
        var guarantee: [GuaranteeAction] = []
        for record in try store.records() {
            switch record {
            case .observation(let o):
                engine.add(o)
                count += 1
                latest = max(latest ?? o.observedAt, o.observedAt)
            case .action(.review(let a)):
                engine.add(a)
                latest = max(latest ?? a.at, a.at)
            case .action(.guarantee(let a)):
                guarantee.append(a)
                latest = max(latest ?? a.at, a.at)
            }
        }
        guaranteeActions = guarantee
        latestTime = latest
        observationCount = count
        current = Self.draw(engine, mission: mission, actions: guarantee, clock: latest, count: count)
        self.engine = EngineBox(engine)
    }

    static func draw(
        _ engine: VerificationEngine, mission: Mission, actions: [GuaranteeAction], clock: Timestamp?, count: Int
    ) -> Snapshot {
        let results = engine.results()
        let guarantee = GuaranteeEngine(mission: mission).map {
            $0.run(
                incidents: results.incidents, violations: results.violations, actions: actions,
                clock: clock ?? mission.agreement.effectiveAt)
        }
        var fingerprints: [String: String] = [:]
        for i in results.incidents { fingerprints[i.id] = "\(i.status.rawValue)/\(i.observationIds.count)" }
        return Snapshot(
            verification: results, guarantee: guarantee, observationCount: count, fingerprints: fingerprints,
            engine: engine)
    }

    /// The results, including every write acknowledged before this call.
    public var snapshot: Snapshot {
        get async {
            await caughtUp()
            return current
        }
    }

    /// Returns once the results include every write acknowledged before the call.
    private func caughtUp() async {
        let target = written
        guard drawn < target else { return }
        await withCheckedContinuation { readers.append((target, $0)) }
    }

    /// What a bulk or single ingest did.
    public struct IngestOutcome: Sendable {
        public var appended: Int
        public var alreadyStored: Int
        public var eventCount: Int64
    }

    /// Stores a batch (all or nothing) and has it fed to the engine and results drawn again.
    /// - Throws: ``StoreError`` when the batch conflicts with stored records; nothing is stored then.
    public func ingest(_ observations: [Observation]) throws -> IngestOutcome {
        let result = try store.ingest(observations)
        if result.appended > 0 {
            // The store skipped the ids it already held; so does the engine when it is fed.
            for o in observations { latestTime = max(latestTime ?? o.observedAt, o.observedAt) }
            pending += observations
            observationCount += result.appended
            wrote()
        }
        return IngestOutcome(
            appended: result.appended, alreadyStored: result.alreadyPresent, eventCount: result.eventCount)
    }

    /// Checks an action against the current state and stores it only if it applies.
    /// - Returns: `applied`, or `refused: why` (nothing stored then).
    public func act(_ action: MissionAction) async throws -> String {
        // Re-checked after each wake: another action may have started a drawing in between.
        while drawing { await withCheckedContinuation { actors.append($0) } }
        defer { handOn() }
        engine.feed(pending)
        pending.removeAll()
        var trial = engine.engine
        var trialActions = guaranteeActions
        switch action {
        case .review(let a): trial.add(a)
        case .guarantee(let a): trialActions.append(a)
        }
        let clock = max(latestTime ?? action.at, action.at)
        let outcome = Self.outcome(of: action, trial, mission: mission, actions: trialActions, clock: clock)
        guard outcome == "applied" else { return outcome }
        _ = try store.record(action)
        engine.engine = trial
        guaranteeActions = trialActions
        latestTime = clock
        wrote()
        return outcome
    }

    private static func outcome(
        of action: MissionAction, _ engine: VerificationEngine, mission: Mission, actions: [GuaranteeAction],
        clock: Timestamp
    ) -> String {
        let snapshot = draw(engine, mission: mission, actions: actions, clock: clock, count: 0)
        switch action {
        case .review(let a): return snapshot.verification.actions.first { $0.action.id == a.id }?.outcome ?? "refused"
        case .guarantee(let a):
            guard let g = snapshot.guarantee else {
                return "refused: the mission has no guarantee (coalition.json, triggers.json)"
            }
            return g.actions.first { $0.action.id == a.id }?.outcome ?? "refused"
        }
    }

    /// Counts an acknowledged write and starts a drawing unless one is under way (it will pick this write up).
    private func wrote() {
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
            let (box, batch, actions, clock, count, mission) =
                (engine, pending, guaranteeActions, latestTime, observationCount, self.mission)
            pending.removeAll()
            let started = ContinuousClock.now
            let next = await Task.detached {
                box.feed(batch)
                return Self.draw(box.engine, mission: mission, actions: actions, clock: clock, count: count)
            }.value
            if drawingTimes.count < 10_000 { drawingTimes.append(ContinuousClock.now - started) }
            publishChanges(from: current, to: next)
            current = next
            drawn = target
            let (ready, waiting) = (readers.filter { $0.waitsFor <= target }, readers.filter { $0.waitsFor > target })
            readers = waiting
            for reader in ready { reader.continuation.resume() }
        }
        drawing = false
        handOn()
    }

    /// The engine's next user: a waiting action, else a drawing if results are behind.
    private func handOn() {
        if actors.isEmpty {
            drawIfBehind()
        } else {
            actors.removeFirst().resume()
        }
    }

    /// New alerts and incidents that changed, to the live stream.
    private func publishChanges(from previous: Snapshot, to next: Snapshot) {
        let knownAlerts = Set(previous.guarantee?.alerts.map(\.id) ?? [])
        let newAlerts = (next.guarantee?.alerts ?? []).filter { !knownAlerts.contains($0.id) }
        if !newAlerts.isEmpty {
            let wanted = Set(newAlerts.flatMap(\.violationIds))
            var incidentOf: [String: String] = [:]
            for v in next.verification.violations where wanted.contains(v.id) { incidentOf[v.id] = v.incidentId }
            let wantedIncidents = Set(incidentOf.values)
            var incidents: [String: Incident] = [:]
            for i in next.verification.incidents where wantedIncidents.contains(i.id) { incidents[i.id] = i }
            for alert in newAlerts {
                var related: [String: Incident] = [:]
                for id in alert.violationIds { related[id] = incidentOf[id].flatMap { incidents[$0] } }
                stream.publish(.alert(alert, incidents: related))
            }
        }
        for incident in next.verification.incidents
        where previous.fingerprints[incident.id] != next.fingerprints[incident.id] {
            stream.publish(.incident(incident))
        }
    }

    /// Signs and stores a checkpoint of the log as it stands, with the digest of the results drawn from it (the
    /// results of every acknowledged write; audit events after the last one do not change them).
    public func checkpoint(
        key: Curve25519.Signing.PrivateKey, index: MerkleIndex, time: Timestamp
    ) async throws -> SignedCheckpoint {
        while drawn < written { await caughtUp() }
        // From here to the end nothing awaits: no write can come between the results and the size.
        let size = Int(try store.head().count)
        let files = Replay.resultFiles(mission: mission, current.verification, current.guarantee)
        return try Checkpoints.make(
            store: store, tree: try index.current(), size: size, files: files, key: key, time: time)
    }

    /// For the metrics: the drawings' durations since the last call, observations acknowledged but not yet drawn, and
    /// incidents per status as of the last drawing (the review queues).
    public func takeStatistics() -> (drawings: [Duration], pending: Int, incidents: [IncidentStatus: Int]) {
        defer { drawingTimes.removeAll() }
        var incidents: [IncidentStatus: Int] = [:]
        for i in current.verification.incidents { incidents[i.status, default: 0] += 1 }
        return (drawingTimes, pending.count, incidents)
    }

    /// The incident of each finding that has one, by finding id.
    public func incidentOfFinding() async -> [String: String] {
        await caughtUp()
        var incidentOf: [String: String] = [:]
        for v in current.verification.violations where !v.incidentId.isEmpty { incidentOf[v.id] = v.incidentId }
        return incidentOf
    }

    /// The part of an incident a member may read, if any, and whether that part holds restricted (AMBER or above)
    /// observations.
    public func visible(_ incident: Incident, to member: String) -> (part: Incident, restricted: Bool)? {
        var restricted = false
        let part = current.engine.visiblePart(of: incident) { o in
            let readable = Releasability.canRead(member: member, o)
            if readable && Releasability.isRestricted(o) { restricted = true }
            return readable
        }
        return part.map { ($0, restricted) }
    }

    /// What a member may read of the incidents and violations, projected (see
    /// ``VerificationEngine/visiblePart(of:readable:)``).
    public struct VisibleResults: Sendable {
        public var incidents: [Incident]
        public var violations: [Violation]
        /// Incidents withheld in whole or in part.
        public var withheld: Int
        /// Incidents shown that hold restricted observations (reads of them are audited).
        public var restrictedShown: Int
    }

    /// The incidents and violations a member may read, including every write acknowledged before the call.
    public func visibleResults(to member: String) async -> VisibleResults {
        await caughtUp()
        var incidents: [Incident] = []
        var byId: [String: Incident] = [:]
        var withheld = 0
        var restrictedShown = 0
        for incident in current.verification.incidents {
            guard let (part, restricted) = visible(incident, to: member) else {
                withheld += 1
                continue
            }
            if part != incident { withheld += 1 }
            if restricted { restrictedShown += 1 }
            incidents.append(part)
            byId[part.id] = part
        }
        let violations = current.verification.violations.compactMap { v -> Violation? in
            guard !v.incidentId.isEmpty else { return v }
            guard let part = byId[v.incidentId] else { return nil }
            var shown = v
            shown.distanceToLineMeters = part.classification.distanceToLineMeters
            return shown
        }
        return VisibleResults(
            incidents: incidents, violations: violations, withheld: withheld, restrictedShown: restrictedShown)
    }
}
