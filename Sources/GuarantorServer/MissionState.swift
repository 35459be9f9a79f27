import Foundation
import GuarantorCore
import GuarantorStore

/// The server's one writer: the store, the verification engine fed as records arrive, and the latest results.
///
/// Every write is stored durably first (one transaction), then fed to the engine; results are drawn again after each
/// write and compared with the previous ones, and what changed (new alerts, incidents that changed) goes to the live
/// stream. The engines are the ones `guarantor replay` runs, fed the same records, so they reach the same results.
public actor MissionState {
    public let mission: Mission
    public let store: EventStore
    private var engine: VerificationEngine
    private var guaranteeActions: [GuaranteeAction] = []
    private var latestTime: Timestamp?
    private var current: Snapshot
    public let stream = LiveStream()

    /// Results as of the last write.
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
        engine = VerificationEngine(mission: mission)
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

    public var snapshot: Snapshot { current }

    /// What a bulk or single ingest did.
    public struct IngestOutcome: Sendable {
        public var appended: Int
        public var alreadyStored: Int
        public var eventCount: Int64
    }

    /// Stores a batch (all or nothing), then feeds the new observations to the engine.
    /// - Throws: ``StoreError`` when the batch conflicts with stored records; nothing is stored then.
    public func ingest(_ observations: [Observation]) throws -> IngestOutcome {
        let result = try store.ingest(observations)
        var added = 0
        for o in observations where !engine.contains(o.id) {
            engine.add(o)
            added += 1
            latestTime = max(latestTime ?? o.observedAt, o.observedAt)
        }
        if added > 0 { refresh(count: current.observationCount + added) }
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
        refresh(count: current.observationCount)
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

    /// Draws results again and publishes what changed.
    private func refresh(count: Int) {
        let previous = current
        current = Self.draw(engine, mission: mission, actions: guaranteeActions, clock: latestTime, count: count)
        let knownAlerts = Set(previous.guarantee?.alerts.map(\.id) ?? [])
        for alert in current.guarantee?.alerts ?? [] where !knownAlerts.contains(alert.id) {
            stream.publish(.alert(alert))
        }
        for incident in current.verification.incidents
        where previous.fingerprints[incident.id] != current.fingerprints[incident.id] {
            stream.publish(.incident(incident))
        }
    }

    /// The part of an incident a member may read, if any.
    public func visible(_ incident: Incident, to member: String) -> Incident? {
        engine.visiblePart(of: incident) { Releasability.canRead(member: member, $0) }
    }

    /// The incidents and violations a member may read, projected (see ``VerificationEngine/visiblePart(of:readable:)``).
    public func visibleResults(to member: String) -> (incidents: [Incident], violations: [Violation], hidden: Int) {
        var incidents: [Incident] = []
        var byId: [String: Incident] = [:]
        var hidden = 0
        for incident in current.verification.incidents {
            guard let part = visible(incident, to: member) else {
                hidden += 1
                continue
            }
            if part != incident { hidden += 1 }
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
        return (incidents, violations, hidden)
    }
}
