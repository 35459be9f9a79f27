import Foundation
import GuarantorCore
import GuarantorStore

/// The server's one writer: the store, the verification engine fed as records arrive, and the latest results.
///
/// Every write is stored durably first (one transaction) and fed to the engine; then it is acknowledged. Results are
/// drawn again off the actor, one drawing at a time, each covering every write acknowledged before it began, so a
/// burst of writes costs one drawing, not one each. What changed (new alerts, incidents that changed) goes to the
/// live stream. Reads wait until the results include every write acknowledged before them (read-your-writes). The
/// engines are the ones `guarantor replay` runs, fed the same records, so they reach the same results.
public actor MissionState {
    public let mission: Mission
    public let store: EventStore
    private var engine: VerificationEngine
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

    /// Results as of a drawing.
    public struct Snapshot: Sendable {
        public var verification: VerificationResults
        public var guarantee: GuaranteeResults?
        public var observationCount: Int
        /// Incident id → (status, observation count), to tell which incidents changed.
        var fingerprints: [String: String]
    }

    /// Opens the mission's store and replays its log into the engines.
    public init(mission: Mission, store: EventStore) throws {
        self.mission = mission
        self.store = store
        engine = VerificationEngine(mission: mission, indexingIds: true)
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
            verification: results, guarantee: guarantee, observationCount: count, fingerprints: fingerprints)
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

    /// Stores a batch (all or nothing), feeds the new observations to the engine, and has results drawn again.
    /// - Throws: ``StoreError`` when the batch conflicts with stored records; nothing is stored then.
    public func ingest(_ observations: [Observation]) throws -> IngestOutcome {
        let result = try store.ingest(observations)
        var added = 0
        for o in observations where !engine.contains(o.id) {
            engine.add(o)
            added += 1
            latestTime = max(latestTime ?? o.observedAt, o.observedAt)
        }
        if added > 0 {
            observationCount += added
            wrote()
        }
        return IngestOutcome(
            appended: result.appended, alreadyStored: result.alreadyPresent, eventCount: result.eventCount)
    }

    /// Checks an action against the current state and stores it only if it applies.
    /// - Returns: `applied`, or `refused: why` (nothing stored then).
    public func act(_ action: MissionAction) throws -> String {
        var trial = engine
        var trialActions = guaranteeActions
        switch action {
        case .review(let a): trial.add(a)
        case .guarantee(let a): trialActions.append(a)
        }
        let clock = max(latestTime ?? action.at, action.at)
        let outcome = Self.outcome(of: action, trial, mission: mission, actions: trialActions, clock: clock)
        guard outcome == "applied" else { return outcome }
        _ = try store.record(action)
        engine = trial
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
        guard !drawing else { return }
        drawing = true
        Task { await drawUntilCaughtUp() }
    }

    /// Draws results off the actor until they include every acknowledged write; publishes what changed each time.
    private func drawUntilCaughtUp() async {
        while drawn < written {
            let target = written
            let (engine, actions, clock, count, mission) =
                (self.engine, guaranteeActions, latestTime, observationCount, self.mission)
            let next = await Task.detached {
                Self.draw(engine, mission: mission, actions: actions, clock: clock, count: count)
            }.value
            publishChanges(from: current, to: next)
            current = next
            drawn = target
            let (ready, waiting) = (readers.filter { $0.waitsFor <= target }, readers.filter { $0.waitsFor > target })
            readers = waiting
            for reader in ready { reader.continuation.resume() }
        }
        drawing = false
    }

    /// New alerts and incidents that changed, to the live stream.
    private func publishChanges(from previous: Snapshot, to next: Snapshot) {
        let knownAlerts = Set(previous.guarantee?.alerts.map(\.id) ?? [])
        for alert in next.guarantee?.alerts ?? [] where !knownAlerts.contains(alert.id) {
            stream.publish(.alert(alert))
        }
        for incident in next.verification.incidents
        where previous.fingerprints[incident.id] != next.fingerprints[incident.id] {
            stream.publish(.incident(incident))
        }
    }

    /// The part of an incident a member may read, if any, and whether that part holds restricted (AMBER or above)
    /// observations.
    public func visible(_ incident: Incident, to member: String) -> (part: Incident, restricted: Bool)? {
        var restricted = false
        let part = engine.visiblePart(of: incident) { o in
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
