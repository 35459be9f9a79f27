/// The whole engine of a mission as one value: fed the log's records one at a time, in log order — observations,
/// people's actions on incidents and findings, members' answers, deliveries and clock events — it keeps what can
/// still change and reports what changed. `guarantor replay` and `guarantor serve` drive this same value.
///
/// - Observations are classified and correlated on arrival; a group that no timely observation can join any more is
///   *sealed*: built for the last time, published as final and forgotten (``UnitState/sealed``), so memory follows
///   the correlation horizon, not the history.
/// - Open groups are built again only when ``refresh()`` is called, and only those that changed.
/// - People's actions are applied to the groups they name (``ReviewCluster``); a group an action names is kept
///   (``UnitState/held``); one that was sealed and forgotten is read back through ``Options/sealedMembers``.
/// - The guarantee machine takes in what lies before the frontier for good and the rest on a copy (``GuaranteeTrack``).
///
/// Nothing here reads a clock or does I/O. The fold of the changes is, at any point, exactly what a replay of the
/// records so far gives, whatever the rhythm of ``refresh()``.
public struct MissionEngine: Sendable {
    public let mission: Mission
    let builder: IncidentBuilder

    /// How a driver sets the engine up.
    public struct Options: Sendable {
        /// Incident ids and observation ids that people's actions name or will name: the groups holding them are kept
        /// when sealed, instead of being forgotten (a replay reads its actions first).
        public var pinnedIncidents: Set<String> = []
        public var pinnedObservations: Set<String> = []
        /// The members of a sealed group, by the incident key of any of its observations, for an action on an
        /// incident the engine no longer holds (the server reads them from the store); `nil` when unknown.
        public var sealedMembers: (@Sendable (UInt64) -> SealedGroup?)?

        public init() {}
    }

    /// The observations of a sealed group, and whether it was a late report (then it is alone).
    public struct SealedGroup: Sendable {
        public var observations: [Observation]
        public var late: Bool
        /// What the sealed incident's `ambiguousBetween` says (``Incident/ambiguousBetween``).
        public var ambiguousBetween: [String]? = nil

        public init(observations: [Observation], late: Bool, ambiguousBetween: [String]? = nil) {
            self.observations = observations
            self.late = late
            self.ambiguousBetween = ambiguousBetween
        }
    }

    let options: Options
    let pinnedKeys: Set<UInt64>
    var correlator: Correlator
    var guarantee: GuaranteeTrack?
    /// Incidents sealed in the last days, for late reports to join.
    var recentlySealed: RecentlySealed
    /// The sealed incident each late report joined, by observation id.
    var lateJoins: [String: String] = [:]

    // Groups no observation can join that actions name, or that a replay knows they will.
    struct Retained: Sendable {
        /// Sorted by (observedAt, id); those two incidents explain about equally carry ``Report/ambiguousBetween``.
        var members: [Report]
        var keys: [UInt64]
        var owner: UInt64
        var published: [String]

        /// What it is built as (``Correlator/units(of:)``): the members less the ambiguous ones, then each of those.
        var units: [[Report]] {
            guard members.contains(where: { $0.ambiguousBetween != nil }) else { return [members] }
            let kept = members.filter { $0.ambiguousBetween == nil }
            let alone = members.filter { $0.ambiguousBetween != nil }.map { [$0] }
            return kept.isEmpty ? alone : [kept] + alone
        }
    }
    var retained: [Retained] = []
    var retainedOfKey: [UInt64: Int32] = [:]

    // People's actions on incidents and findings, in arrival order, and the clusters they form.
    var reviewActions: [ReviewAction] = []
    var clusterOfAction: [Int32] = []
    struct Cluster: Sendable {
        var parent: Int32
        var actions: [Int32]
        var owner: UInt64
        var published: [String] = []
    }
    var clusters: [Cluster] = []
    var dirtyClusters: Set<Int32> = []
    var actionsNamingKey: [UInt64: [Int32]] = [:]
    var actionsNamingObservation: [String: [Int32]] = [:]
    var outcomes: [String: String] = [:]

    // What is published and may still change, by incident id.
    struct Tracked: Sendable {
        var owner: UInt64
        var record: IncidentRecord
        var state: UnitState
    }
    var tracked: [String: Tracked] = [:]
    var impedimentTally: [String: ImpedimentCount] = [:]
    var impedimentsChanged = false
    var facts = FactIndex()
    var guaranteeChanged = true
    var nextOwner: UInt64 = 1 << 62

    var changes = EngineChanges()
    /// The latest event time of any record (the guarantee's clock), `Int64.min` before the first.
    public internal(set) var latestTime = Int64.min
    public internal(set) var observationCount = 0
    public internal(set) var lateCount = 0
    /// Findings that stand from the start: each party that declared nothing.
    public let standingFindings: [Violation]

    public init(mission: Mission, options: Options = Options()) {
        self.mission = mission
        self.options = options
        builder = IncidentBuilder(mission: mission)
        correlator = Correlator(policy: mission.agreement.verification)
        recentlySealed = RecentlySealed(policy: mission.agreement.verification)
        guarantee = GuaranteeEngine(mission: mission).map(GuaranteeTrack.init)
        pinnedKeys = Set(options.pinnedIncidents.compactMap(IncidentKey.parse))
        standingFindings = builder.undeclaredParties()
        for v in standingFindings { facts.insert(v) }
        if !pinnedKeys.isEmpty || !options.pinnedObservations.isEmpty { correlator.wantKeys() }
    }

    /// The event time of the guarantee's clock: the latest record, or the agreement's effective time.
    public var clock: Timestamp {
        latestTime == Int64.min ? mission.agreement.effectiveAt : Timestamp(nanoseconds: latestTime)
    }

    /// Observations held in the working set (open groups).
    public var openObservations: Int { correlator.openCount }

    /// Records from here on are fine to read in any order within the allowed lateness: incidents that start before
    /// this time are final (or held), and the guarantee has taken in everything before it.
    public internal(set) var frontier = Timestamp(nanoseconds: Int64.min)

    // MARK: Feeding

    /// Feeds one observation (its id must be new); returns where it lies.
    @discardableResult public mutating func add(_ observation: Observation) -> Classification {
        let point = observation.location.point
        let classification = mission.classify(point)
        let t = observation.observedAt.nanoseconds
        observationCount += 1
        if t > latestTime { latestTime = t }
        let source = mission.sources[observation.source]
        var report = Report(
            observation: observation, position: WGS84.ecef(point), time: t, late: correlator.isLate(t),
            classification: classification, timeUncertainty: mission.timeUncertainty(of: observation, source: source))
        if report.late {
            lateCount += 1
            if let key = incidentJoined(by: report) {
                report.joins = IncidentKey.incidentId(key)
                lateJoins[observation.id] = report.joins
            }
            seal(units: [[report]], owner: newOwner(), published: [], namedOrPinned: isNamedOrPinned([report]))
        } else {
            let slot = correlator.add(report, anchor: mission.isAnchor(report, source: source))
            if correlator.keysWanted {
                let key = correlator.keys[Int(slot)]
                if actionsNamingKey[key] != nil || actionsNamingObservation[observation.id] != nil {
                    correlator.name(slot)
                }
            }
            sealDue()
        }
        return classification
    }

    /// Feeds one action: a person's decision on an incident or finding, or a member's answer, delivery or clock.
    public mutating func add(_ action: MissionAction) {
        if action.at.nanoseconds > latestTime { latestTime = action.at.nanoseconds }
        guaranteeChanged = true
        switch action {
        case .guarantee(let a): guarantee?.add(a)
        case .review(let a): addReview(a)
        }
    }

    mutating func addReview(_ action: ReviewAction) {
        correlator.wantKeys()
        let index = Int32(reviewActions.count)
        reviewActions.append(action)
        let cluster = Int32(clusters.count)
        clusters.append(Cluster(parent: cluster, actions: [index], owner: newOwner()))
        clusterOfAction.append(cluster)
        var root = cluster
        for key in Self.keys(named: action) {
            for other in actionsNamingKey[key] ?? [] { root = union(root, clusterOfAction[Int(other)]) }
            actionsNamingKey[key, default: []].append(index)
            if let slot = correlator.slotOfKey[key] { correlator.name(slot) }
        }
        for id in action.splitObservations {
            actionsNamingObservation[id, default: []].append(index)
            if let slot = correlator.slot(ofObservation: id) { correlator.name(slot) }
        }
        dirtyClusters.insert(find(root))
    }

    /// The incident keys an action names: its incident and the incidents it merges, or the incident of its finding.
    private static func keys(named action: ReviewAction) -> [UInt64] {
        ([action.target] + action.mergedIncidents).compactMap(IncidentKey.parse)
    }

    /// The incident a late report describes: of the recently sealed ones and the open ones, the one with the member
    /// it links to most closely (ties to the smaller key).
    private mutating func incidentJoined(by report: Report) -> UInt64? {
        recentlySealed.expire(before: recentCutoff)
        let found = [recentlySealed.match(report, cutoff: recentCutoff), correlator.closestOpenIncident(to: report)]
        return found.compactMap { $0 }.min { ($0.separation, $0.key) < ($1.separation, $1.key) }?.key
    }

    /// The newest member time from which a sealed incident can still be joined by a late report.
    var recentCutoff: Int64 {
        let watermark = correlator.watermark
        return watermark == Int64.min
            ? Int64.min : watermark - correlator.lateness - Correlator.nanos(RecentlySealed.keptSeconds)
    }

    mutating func newOwner() -> UInt64 {
        nextOwner += 1
        return nextOwner
    }

    // MARK: Drawing results

    /// Builds again the open groups and the clusters that changed, and the guarantee, so that ``takeChanges()``
    /// reports the results as they stand.
    public mutating func refresh() {
        applyTransfers()
        for g in correlator.takeDirty() {
            let group = correlator.groups[Int(g)]
            if group.named > 0 {
                markClusters(naming: correlator.slots(of: g))
                continue
            }
            let records = correlator.units(of: g).map { builder.record($0) }
            publish(owner: group.owner, old: group.published, new: records, state: .open)
            correlator.setPublished(g, records.map(\.incident.id))
        }
        rebuildClusters()
        drawGuarantee()
    }

    /// Seals every group (the end of a replay) and draws the final results.
    public mutating func finish() {
        for g in correlator.liveGroups() { seal(group: g) }
        rebuildClusters()
        drawGuarantee()
    }

    /// What changed since the last call.
    public mutating func takeChanges() -> EngineChanges {
        defer { changes = EngineChanges() }
        return changes
    }

    private mutating func drawGuarantee() {
        if impedimentsChanged {
            changes.impediments = Self.ordered(impedimentTally)
            impedimentsChanged = false
        }
        guard guarantee != nil, guaranteeChanged else { return }
        advanceGuarantee()
        facts.prepare()
        changes.guarantee = guarantee!.results(clock: clock, facts: facts)
        guaranteeChanged = false
    }

    private mutating func advanceGuarantee() {
        let time = correlator.earliestOpenTime()
        if time > frontier.nanoseconds { frontier = Timestamp(nanoseconds: time) }
        // In steps of ten minutes of event time: a frontier behind the true one is still a true frontier.
        if guarantee != nil && time > guarantee!.frontier + Self.guaranteeStep { guarantee!.advance(to: time) }
    }

    private static let guaranteeStep: Int64 = 600_000_000_000

    // MARK: Sealing

    mutating func sealDueFromElsewhere() { sealDue() }

    private mutating func sealDue() {
        let due = correlator.sealable()
        guard !due.isEmpty else { return }
        for g in due { seal(group: g) }
        advanceGuarantee()
    }

    /// Moves the published ids that groups handed to each other to their new owners.
    private mutating func applyTransfers() {
        for (id, owner) in correlator.takeTransfers() { tracked[id]?.owner = owner }
    }

    private mutating func seal(group g: Int32) {
        applyTransfers()
        let named = correlator.groups[Int(g)].named > 0
        let unchanged = !correlator.groups[Int(g)].dirty
        let units = correlator.units(of: g)
        let (members, group) = correlator.take(g)
        for unit in units { recentlySealed.insert(unit) }
        recentlySealed.expire(before: recentCutoff)
        // (Not `named || …`: the autoclosure would copy the whole engine.)
        let kept = named ? true : isNamedOrPinned(members)
        // Nothing joined since the last refresh built it: the records published then are final as they are.
        var built: [IncidentRecord]?
        if unchanged && group.published.count == units.count {
            let records = group.published.compactMap { id in tracked[id].flatMap { $0.owner == group.owner ? $0 : nil }
            }
            if records.count == units.count { built = records.map(\.record) }
        }
        seal(units: units, owner: group.owner, published: group.published, namedOrPinned: kept, built: built)
    }

    private mutating func isNamedOrPinned(_ members: [Report]) -> Bool {
        guard !pinnedKeys.isEmpty || !options.pinnedObservations.isEmpty || !reviewActions.isEmpty else { return false }
        // Locals, so that the closure captures four sets rather than a copy of the engine.
        let (keys, ids) = (pinnedKeys, options.pinnedObservations)
        let (namingKey, namingObservation) = (actionsNamingKey, actionsNamingObservation)
        return members.contains { m in
            let key = IncidentKey.of(observationId: m.observation.id)
            return keys.contains(key) || ids.contains(m.observation.id) || namingKey[key] != nil
                || namingObservation[m.observation.id] != nil
        }
    }

    /// A group no observation can join any more, built as `units` (``Correlator/units(of:)``): final, or kept for
    /// the actions that name it. `built` is their records if they are already built from exactly these units.
    mutating func seal(
        units: [[Report]], owner: UInt64, published: [String], namedOrPinned: Bool, built: [IncidentRecord]? = nil
    ) {
        guaranteeChanged = true
        guard namedOrPinned else {
            publish(owner: owner, old: published, new: built ?? units.map { builder.record($0) }, state: .sealed)
            return
        }
        let members = units.count == 1 ? units[0] : units.flatMap { $0 }.sorted { $0.isEarlier(than: $1) }
        let index = retain(members, owner: owner, published: published)
        var named = false
        for m in members {
            let key = IncidentKey.of(observationId: m.observation.id)
            for a in (actionsNamingKey[key] ?? []) + (actionsNamingObservation[m.observation.id] ?? []) {
                named = true
                dirtyClusters.insert(find(clusterOfAction[Int(a)]))
            }
        }
        if !named {
            // Pinned, no action yet: held as it is.
            let records = units.map { builder.record($0) }
            publish(owner: owner, old: published, new: records, state: .held)
            retained[Int(index)].published = records.map(\.incident.id)
        }
    }

    mutating func retain(_ members: [Report], owner: UInt64, published: [String]) -> Int32 {
        let keys = members.map { IncidentKey.of(observationId: $0.observation.id) }
        let index = Int32(retained.count)
        retained.append(Retained(members: members, keys: keys, owner: owner, published: published))
        for key in keys { retainedOfKey[key] = index }
        return index
    }

    // MARK: Clusters

    private mutating func find(_ c: Int32) -> Int32 {
        var root = c
        while clusters[Int(root)].parent != root { root = clusters[Int(root)].parent }
        var node = c
        while clusters[Int(node)].parent != root {
            let next = clusters[Int(node)].parent
            clusters[Int(node)].parent = root
            node = next
        }
        return root
    }

    private mutating func union(_ a: Int32, _ b: Int32) -> Int32 {
        let ra = find(a), rb = find(b)
        guard ra != rb else { return ra }
        let (root, child) = ra < rb ? (ra, rb) : (rb, ra)
        clusters[Int(child)].parent = root
        clusters[Int(root)].actions += clusters[Int(child)].actions
        clusters[Int(root)].published += clusters[Int(child)].published
        for id in clusters[Int(child)].published { tracked[id]?.owner = clusters[Int(root)].owner }
        clusters[Int(child)].actions = []
        clusters[Int(child)].published = []
        dirtyClusters.remove(child)
        dirtyClusters.insert(root)
        return root
    }

    /// Marks dirty the clusters of the actions that name any of these open members.
    private mutating func markClusters(naming slots: [Int32]) {
        for slot in slots where correlator.isNamed[Int(slot)] {
            let key = correlator.keys[Int(slot)]
            let id = correlator.reports[Int(slot)].observation.id
            for a in (actionsNamingKey[key] ?? []) + (actionsNamingObservation[id] ?? []) {
                dirtyClusters.insert(find(clusterOfAction[Int(a)]))
            }
        }
    }

    /// A group an action names: open (by group), or held (by index in `retained`).
    private enum RawGroup: Hashable { case open(Int32), held(Int32) }

    private mutating func resolve(_ key: UInt64) -> RawGroup? {
        if let slot = correlator.slotOfKey[key] { return .open(correlator.groupOf[Int(slot)]) }
        if let r = retainedOfKey[key] { return .held(r) }
        guard let sealed = options.sealedMembers?(key), !sealed.observations.isEmpty else { return nil }
        // A sealed group read back: what was published of it is taken back by the cluster that now holds it.
        var members = sealed.observations.map { o in
            mission.report(o, late: sealed.late, joins: sealed.late ? lateJoins[o.id] : nil)
        }.sorted { $0.isEarlier(than: $1) }
        if members.count == 1 { members[0].ambiguousBetween = sealed.ambiguousBetween }
        let record = builder.record(members)
        let owner = newOwner()
        let index = retain(members, owner: owner, published: [record.incident.id])
        tracked[record.incident.id] = Tracked(owner: owner, record: record, state: .sealed)
        return .held(index)
    }

    private mutating func rebuildClusters() {
        while let next = dirtyClusters.first {
            dirtyClusters.remove(next)
            rebuild(cluster: next)
        }
    }

    private mutating func rebuild(cluster c0: Int32) {
        var c = find(c0)
        var raws: [RawGroup] = []
        // The groups the cluster's actions name, and every cluster naming any member of them.
        while true {
            c = find(c)
            var seen: Set<RawGroup> = []
            raws = []
            for a in clusters[Int(c)].actions {
                for key in Self.keys(named: reviewActions[Int(a)]) {
                    if let raw = resolve(key), seen.insert(raw).inserted { raws.append(raw) }
                }
            }
            var grew = false
            for raw in raws {
                for a in actionsNaming(raw) where find(clusterOfAction[Int(a)]) != c {
                    c = union(c, clusterOfAction[Int(a)])
                    grew = true
                }
            }
            if !grew { break }
        }
        dirtyClusters.remove(c)
        // What the groups published before is now the cluster's to keep or take back.
        let owner = clusters[Int(c)].owner
        var old = clusters[Int(c)].published
        var groups: [[Report]] = []
        for raw in raws {
            switch raw {
            case .open(let g):
                old += correlator.groups[Int(g)].published
                correlator.setPublished(g, [])
                groups += correlator.units(of: g)
            case .held(let r):
                old += retained[Int(r)].published
                retained[Int(r)].published = []
                groups += retained[Int(r)].units
            }
        }
        for id in old { tracked[id]?.owner = owner }
        let actions = clusters[Int(c)].actions.map { reviewActions[Int($0)] }.sorted { ($0.at, $0.id) < ($1.at, $1.id) }
        let (records, outcomes) = ReviewCluster.apply(builder, rawGroups: groups, actions: actions)
        publish(owner: owner, old: old, new: records, state: .held)
        clusters[Int(c)].published = records.map(\.incident.id)
        for action in actions where self.outcomes[action.id] != outcomes[action.id] {
            self.outcomes[action.id] = outcomes[action.id]
            changes.outcomes.append((action, outcomes[action.id]!))
        }
    }

    /// The actions that name a member of a group.
    private func actionsNaming(_ raw: RawGroup) -> [Int32] {
        var found: [Int32] = []
        switch raw {
        case .open(let g):
            for slot in correlator.slots(of: g) where correlator.isNamed[Int(slot)] {
                found += actionsNamingKey[correlator.keys[Int(slot)]] ?? []
                found += actionsNamingObservation[correlator.reports[Int(slot)].observation.id] ?? []
            }
        case .held(let r):
            let group = retained[Int(r)]
            for (i, key) in group.keys.enumerated() {
                found += actionsNamingKey[key] ?? []
                found += actionsNamingObservation[group.members[i].observation.id] ?? []
            }
        }
        return found
    }

    // MARK: Publishing

    /// Publishes an owner's incidents, taking back those it published before and no longer does.
    mutating func publish(owner: UInt64, old: [String], new: [IncidentRecord], state: UnitState) {
        let ids = old.isEmpty ? [] : Set(new.map(\.incident.id))
        for id in old where !ids.contains(id) {
            guard let t = tracked[id], t.owner == owner else { continue }
            subtract(t.record, state: t.state)
            tracked[id] = nil
            changes.units.append(.remove(id))
        }
        for record in new {
            let id = record.incident.id
            if !tracked.isEmpty, let t = tracked[id] { subtract(t.record, state: t.state) }
            add(record, state: state)
            if state != .sealed {
                tracked[id] = Tracked(owner: owner, record: record, state: state)
            } else if !tracked.isEmpty {
                tracked[id] = nil
            }
            changes.units.append(.upsert(record, state))
        }
    }

    private mutating func add(_ record: IncidentRecord, state: UnitState) {
        if let count = record.impediment {
            Self.tally(count, into: &impedimentTally)
            impedimentsChanged = true
        }
        for v in record.findings { facts.insert(v) }
        guard let g = guarantee else { return }
        let inputs = g.config.inputs(of: record.incident, findings: record.findings)
        if state == .open {
            guarantee!.setTentative(record.incident.id, inputs)
        } else {
            guarantee!.setLedger(record.incident.id, inputs)
        }
        guaranteeChanged = true
    }

    private mutating func subtract(_ record: IncidentRecord, state: UnitState) {
        if let count = record.impediment {
            let key = Self.tallyKey(count)
            impedimentTally[key]!.incidents -= count.incidents
            impedimentTally[key]!.observations -= count.observations
            if impedimentTally[key]!.incidents == 0 { impedimentTally[key] = nil }
            impedimentsChanged = true
        }
        for v in record.findings { facts.remove(v) }
        guard guarantee != nil else { return }
        if state == .open {
            guarantee!.setTentative(record.incident.id, [])
        } else {
            guarantee!.setLedger(record.incident.id, [])
        }
        guaranteeChanged = true
    }

    /// The order of impediments.ndjson: by kind, party, sector.
    static func tallyKey(_ count: ImpedimentCount) -> String {
        [count.kind.rawValue, count.party, count.sector ?? ""].joined(separator: "\u{1F}")
    }

    /// Adds one incident's impediment count to a tally keyed by kind, party and sector.
    public static func tally(_ count: ImpedimentCount, into tally: inout [String: ImpedimentCount]) {
        let key = tallyKey(count)
        if var t = tally[key] {
            t.incidents += count.incidents
            t.observations += count.observations
            tally[key] = t
        } else {
            tally[key] = count
        }
    }

    /// A tally's counts in the order of impediments.ndjson.
    public static func ordered(_ tally: [String: ImpedimentCount]) -> [ImpedimentCount] {
        tally.sorted { $0.key < $1.key }.map(\.value)
    }
}
