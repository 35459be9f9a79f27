// The batch engine as it was before the incremental one: kept in the tests as the specification the incremental
// engine is compared with (property tests), never used by the product.
import Foundation

@testable import GuarantorCore

/// Correlation, grading, adjudication and attribution, fed one observation at a time in arrival order.
///
/// Two observations are linked when they belong to one kind group and are close in event time and space, allowing for
/// the uncertainty each states. Precise observations (anchors: not a party's claim, located within 1 km and timed
/// within 2 minutes) form incidents as the connected groups of their links. Each imprecise observation then joins the
/// incident of the anchor it is closest to (in units of the link distance and window), so that one vague report
/// cannot bridge two separate happenings; imprecise observations near no anchor form incidents among themselves.
/// Neither step depends on the order of arrival, so any arrival order within the allowed lateness gives the same
/// incidents. An
/// observation that arrives later than that (behind the latest event time seen) is kept as an incident of its own,
/// marked `late`, never dropped. The engine reads no clock.
struct ReferenceVerification: Sendable {
    let mission: Mission
    private let policy: VerificationPolicy

    // One entry per accepted observation, in arrival order.
    private(set) var observations: [Observation] = []
    private var positions: [Vector3] = []
    private(set) var times: [Int64] = []
    /// Stated location uncertainty (m) and time uncertainty (s), kept apart from the records for the hot link test.
    private var spatialUncertainty: [Double] = []
    private var timeUncertainty: [Double] = []
    private var late: [Bool] = []
    /// The incident each late observation describes (by index): the one whose member it links to most closely, as
    /// the incidents stood when it arrived, if that incident's newest member is at most 72 hours beyond the lateness.
    private var lateJoins: [Int: String] = [:]
    private var parent: [Int32] = []
    private var isAnchor: [Bool] = []
    /// Open observations by (group, cell) for candidate search; closed ones are removed as event time advances.
    private var cells: [Int64: [Int32]] = [:]
    private var latestEventTime = Int64.min
    private var sweptAt = Int64.min
    /// People's decisions, in arrival order; they apply in (at, id) order when results are drawn.
    private(set) var actions: [ReviewAction] = []
    /// Observation index by id, kept only when asked for (the server: duplicates, and projecting incidents onto what
    /// a viewer may read); a replay does not pay for it.
    private let indexesIds: Bool
    private var indexOfId: [String: Int32] = [:]

    private static let cellDegrees = 0.4
    private static let groupOrdinals = Dictionary(
        uniqueKeysWithValues: KindGroup.allCases.enumerated().map { ($1, $0) })
    private static let kinds = ObservationKind.allCases
    private static let weapons = WeaponClass.allCases
    /// The largest time uncertainty of any observation so far: it bounds how far in time a link can reach.
    private var largestTimeUncertainty = 0.0

    /// - Parameter indexingIds: keep an index of observation ids, which ``contains(_:)`` and
    ///   ``visiblePart(of:readable:)`` need.
    init(mission: Mission, indexingIds: Bool = false) {
        self.mission = mission
        policy = mission.agreement.verification
        indexesIds = indexingIds
    }

    /// Number of observations that arrived later than the allowed lateness.
    var lateCount: Int { late.lazy.filter { $0 }.count }

    /// Feeds one observation (its id must be new).
    public mutating func add(_ observation: Observation) {
        let index = Int32(observations.count)
        let t = observation.observedAt.nanoseconds
        let p = WGS84.ecef(observation.location.point)
        let isLate = latestEventTime != Int64.min && t < latestEventTime - Self.nanos(policy.allowedLatenessSeconds)
        if indexesIds { indexOfId[observation.id] = index }
        if isLate, let joined = incidentJoined(by: observation, position: p) { lateJoins[Int(index)] = joined }
        observations.append(observation)
        positions.append(p)
        times.append(t)
        spatialUncertainty.append(observation.location.uncertaintyMeters)
        let tu = timeUncertainty(of: observation)
        timeUncertainty.append(tu)
        largestTimeUncertainty = max(largestTimeUncertainty, tu)
        late.append(isLate)
        parent.append(index)
        let anchor =
            mission.sources[observation.source]?.kind != .partyClaim
            && observation.location.uncertaintyMeters <= Self.anchorMaximumUncertaintyMeters
            && tu <= Self.anchorMaximumTimeUncertaintySeconds
        isAnchor.append(anchor)
        if isLate { return }
        if anchor {
            for j in neighbours(of: Int(index), in: cells) where isAnchor[j] {
                Self.union(Int(index), j, &parent, times, observations)
            }
        }
        let (cx, cy) = Self.cell(observation.location.point)
        cells[Self.key(observation.kind.group, cx, cy, Self.hour(t)), default: []].append(index)
        if t > latestEventTime { latestEventTime = t }
        sweepIfDue()
    }

    /// The incident a late observation describes, among the incidents as they stand (before it is added).
    private func incidentJoined(by o: Observation, position: Vector3) -> String? {
        let window = policy.window(for: o.kind.group)
        let cutoff =
            latestEventTime - Self.nanos(policy.allowedLatenessSeconds) - Self.nanos(RecentlySealed.keptSeconds)
        let t = o.observedAt.nanoseconds
        var best: (separation: Double, key: UInt64)?
        for (_, members) in correlate().members where !late[members[0]] {
            guard members.contains(where: { times[$0] >= cutoff }), o.kind.group == observations[members[0]].kind.group
            else { continue }
            let key = IncidentKey.of(observationId: observations[members[0]].id)
            for j in members {
                let a = Correlator.Link(
                    position: positions[j], time: times[j], spatialUncertainty: spatialUncertainty[j],
                    timeUncertainty: timeUncertainty[j], kind: observations[j].kind)
                let b = Correlator.Link(
                    position: position, time: t, spatialUncertainty: o.location.uncertaintyMeters,
                    timeUncertainty: timeUncertainty(of: o), kind: o.kind)
                guard Correlator.linked(a, b, window) else { continue }
                let s = Correlator.separation(a, b, window)
                if best == nil || (s, key) < (best!.separation, best!.key) { best = (s, key) }
            }
        }
        return best.map { IncidentKey.incidentId($0.key) }
    }

    /// Records a decision by an analyst, a board member or a party; whether it applies is decided in ``results()``,
    /// on the incidents as they then stand, and reported with the results.
    public mutating func add(_ action: ReviewAction) { actions.append(action) }

    /// Observations in `cells` that may be correlated with observation i: its kind group, linked by distance and time.
    private func neighbours(of i: Int, in cells: [Int64: [Int32]]) -> [Int] {
        let group = observations[i].kind.group
        let window = policy.window(for: group)
        let (cx, cy) = Self.cell(observations[i].location.point)
        let t = timeUncertainty[i]
        let slack = min(
            Self.uncertaintyReach * (t * t + largestTimeUncertainty * largestTimeUncertainty).squareRoot(),
            VerificationPolicy.maximumTimeSlackSeconds)
        let reach = Self.nanos(window.seconds + slack)
        var found: [Int] = []
        for hour in Self.hour(times[i] - reach)...Self.hour(times[i] + reach) {
            for dy in -1...1 {
                for dx in -1...1 {
                    guard let members = cells[Self.key(group, cx + dx, cy + dy, hour)] else { continue }
                    for j in members where Int(j) != i && linked(i, Int(j), window) { found.append(Int(j)) }
                }
            }
        }
        return found
    }

    /// How far apart two linked observations are, in units of their link reach and time window (0…2).
    private func separation(_ i: Int, _ j: Int) -> Double {
        let a = observations[i], b = observations[j]
        let window = policy.window(for: a.kind.group)
        let ua = a.location.uncertaintyMeters, ub = b.location.uncertaintyMeters
        let reach = min(
            window.meters + Self.uncertaintyReach * (ua * ua + ub * ub).squareRoot(),
            VerificationPolicy.maximumLinkMeters)
        let (ta, tb) = (timeUncertainty[i], timeUncertainty[j])
        let slack = Self.uncertaintyReach * (ta * ta + tb * tb).squareRoot()
        return (positions[i] - positions[j]).length / max(reach, 1)
            + Double(abs(times[i] - times[j])) / 1e9 / max(window.seconds + slack, 1)
            + (a.kind != b.kind ? 0.5 : 0)  // another kind of the family explains it less well
    }

    /// Stated uncertainties are 95 % radii (2σ): a link allows 3σ of the two reports' combined error.
    static let uncertaintyReach = 1.5

    /// How far off in time an observation may be: what it states, or more if its source (else its source's kind, by
    /// the policy) is typically further off.
    func timeUncertainty(of o: Observation) -> Double {
        guard let source = mission.sources[o.source] else { return o.timeUncertaintySeconds }
        if let own = source.timeUncertaintySeconds { return max(o.timeUncertaintySeconds, own) }
        return max(o.timeUncertaintySeconds, policy.timeUncertaintyByKind[source.kind] ?? 0)
    }

    /// Anchors: observations precise enough to found an incident.
    static let anchorMaximumUncertaintyMeters = 1_000.0
    static let anchorMaximumTimeUncertaintySeconds = 120.0

    func observation(at i: Int) -> Observation { observations[i] }
    func position(at i: Int) -> Vector3 { positions[i] }

    private func linked(_ i: Int, _ j: Int, _ window: VerificationPolicy.Window) -> Bool {
        let ta = timeUncertainty[i], tb = timeUncertainty[j]
        let timeSlack = min(
            Self.uncertaintyReach * (ta * ta + tb * tb).squareRoot(), VerificationPolicy.maximumTimeSlackSeconds)
        guard abs(times[i] - times[j]) <= Self.nanos(window.seconds + timeSlack) else { return false }
        let ua = spatialUncertainty[i], ub = spatialUncertainty[j]
        let reach = min(
            window.meters + Self.uncertaintyReach * (ua * ua + ub * ub).squareRoot(),
            VerificationPolicy.maximumLinkMeters)
        return (positions[i] - positions[j]).lengthSquared <= reach * reach
    }

    /// Drops from the search cells the observations no future timely observation can link to.
    private mutating func sweepIfDue() {
        let widest = policy.windows.values.map(\.seconds).max() ?? 0
        let horizon = Self.nanos(policy.allowedLatenessSeconds + VerificationPolicy.maximumTimeSlackSeconds + widest)
        if sweptAt == Int64.min { sweptAt = latestEventTime }
        guard latestEventTime - sweptAt > Self.nanos(3_600) else { return }
        sweptAt = latestEventTime
        let oldest = latestEventTime - horizon
        for key in Array(cells.keys) {
            let kept = cells[key]!.filter { times[Int($0)] >= oldest }
            cells[key] = kept.isEmpty ? nil : kept
        }
    }

    // Union-find whose root is always the earliest member by (observedAt, id): the same for any arrival order.
    private static func find(_ i: Int, _ parent: inout [Int32]) -> Int {
        var root = i
        while Int(parent[root]) != root { root = Int(parent[root]) }
        var node = i
        while Int(parent[node]) != root {
            let next = Int(parent[node])
            parent[node] = Int32(root)
            node = next
        }
        return root
    }

    private static func union(
        _ i: Int, _ j: Int, _ parent: inout [Int32], _ times: [Int64], _ observations: [Observation]
    ) {
        let a = find(i, &parent), b = find(j, &parent)
        guard a != b else { return }
        if isEarlier(a, b, times, observations) { parent[b] = Int32(a) } else { parent[a] = Int32(b) }
    }

    /// Whether observation a comes before b by (observedAt, id). Static, with the arrays passed in, so that
    /// closures using it capture two arrays rather than copying the whole engine.
    static func isEarlier(_ a: Int, _ b: Int, _ times: [Int64], _ observations: [Observation]) -> Bool {
        (times[a], observations[a].id) < (times[b], observations[b].id)
    }

    private static func nanos(_ seconds: Double) -> Int64 { Int64(seconds * 1e9) }

    private static func cell(_ p: GeoPoint) -> (Int, Int) {
        (Int((p.lon / cellDegrees).rounded(.down)), Int((p.lat / cellDegrees).rounded(.down)))
    }

    /// Search cells: kind group, 0.4° of longitude and latitude, and hour of event time.
    private static func key(_ group: KindGroup, _ x: Int, _ y: Int, _ hour: Int64) -> Int64 {
        Int64(groupOrdinals[group]!) << 60 | Int64(x & 0xFFFF) << 44 | Int64(y & 0xFFFF) << 28
            | (hour & 0xFFFFFFF)
    }

    private static func hour(_ t: Int64) -> Int64 {
        let h: Int64 = 3_600_000_000_000
        return t >= 0 ? t / h : (t - h + 1) / h
    }

    // MARK: - Results

    /// The incidents so far, by (start, id), the violations they make, by (at, id), and what became of each action.
    func results() -> VerificationResults {
        var groups = correlate()
        let outcomes = applyIncidentActions(to: &groups)
        var incidents: [Incident] = []
        var violations: [Violation] = []
        var impediments: [String: ImpedimentCount] = [:]
        for (key, list) in groups.members {
            var incident = makeIncident(members: list)
            if list.count == 1 { incident.ambiguousBetween = groups.ambiguous[list[0]] }
            if let status = groups.reviewedStatus[key] {
                incident.status = status
                let decision = groups.lastStatusChange[key]
                incident.verifiedAt = status == .verified ? decision?.at : nil
                if status == .verified && incident.credibleAt == nil { incident.credibleAt = decision?.at }
            }
            incident.lastReview = groups.lastReview[key]
            incidents.append(incident)
            violations += adjudicate(incident, members: list)
            if incident.kind.group == .impediment && incident.status != .rejected {
                let party = attribute(incident, members: list).party
                let sector = incident.classification.sector
                let name = sector >= 0 ? mission.sectors.names[Int(sector)] : nil
                let tallyKey = [incident.kind.rawValue, party, name ?? ""].joined(separator: "\u{1F}")
                impediments[
                    tallyKey,
                    default: ImpedimentCount(
                        kind: incident.kind, party: party, sector: name, incidents: 0, observations: 0)
                ].incidents += 1
                impediments[tallyKey]!.observations += list.count
            }
        }
        violations += undeclaredParties()
        incidents = Self.sorted(incidents) { ($0.start, $0.id) }
        violations = Self.sorted(violations) { ($0.at, $0.id) }
        let violationOutcomes = applyViolationActions(to: &violations, incidents: incidents, groups: groups)
        let reviews = sortedActions.map { action in
            (action: action, outcome: outcomes[action.id] ?? violationOutcomes[action.id] ?? "refused: not applied")
        }
        return VerificationResults(
            incidents: incidents, violations: violations, actions: reviews,
            impediments: impediments.sorted { $0.key < $1.key }.map(\.value))
    }

    /// Whether an observation with this id has been fed (an engine made with `indexingIds`).
    func contains(_ id: String) -> Bool {
        precondition(indexesIds, "contains(_:) needs an engine made with indexingIds: true")
        return indexOfId[id] != nil
    }

    /// What a reader may see of an incident: the incident itself when every observation is readable; when only some
    /// are, an incident of the same id, kind and status rebuilt from those alone (location, time span, count,
    /// sources); `nil` when none is. Nothing derived from an unreadable observation is shown.
    func visiblePart(of incident: Incident, readable: (Observation) -> Bool) -> Incident? {
        precondition(indexesIds, "visiblePart(of:readable:) needs an engine made with indexingIds: true")
        let times = self.times, observations = self.observations, indexOfId = self.indexOfId
        let all = incident.observationIds.compactMap { indexOfId[$0].map(Int.init) }
        let visible = all.filter { readable(observations[$0]) }
        if visible.count == all.count { return incident }
        if visible.isEmpty { return nil }
        var part = makeIncident(members: visible.sorted { Self.isEarlier($0, $1, times, observations) })
        part.id = incident.id
        part.status = incident.status
        part.verifiedAt = incident.verifiedAt
        part.credibility = incident.credibility
        return part
    }

    /// Records sorted by a (time, id) key. Sorting indices and then gathering moves each large record once, where
    /// sorting the records themselves would move them many times.
    static func sorted<T>(_ records: [T], by key: (T) -> (Timestamp, String)) -> [T] {
        let keys = records.map(key)
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        return order.map { records[$0] }
    }

    /// Incidents as groups of observation indices (each sorted by (observedAt, id)), keyed by their first member.
    private func correlate() -> ReferenceIncidentGroups {
        // Imprecise observations join their nearest anchor's incident, or form incidents among themselves. This works
        // on a copy, so that later arrivals can still change where they belong.
        // Closures below capture these locals, never `self` (which would copy the engine at each call).
        let times = self.times, observations = self.observations, late = self.late, isAnchor = self.isAnchor
        var parent = self.parent
        var anchorsOnly = self.parent
        var index: [Int64: [Int32]] = [:]
        if observations.indices.contains(where: { !late[$0] && !isAnchor[$0] }) {
            for i in observations.indices where !late[i] {
                let (cx, cy) = Self.cell(observations[i].location.point)
                index[Self.key(observations[i].kind.group, cx, cy, Self.hour(times[i])), default: []].append(Int32(i))
            }
        }
        var unattached: [Int] = []
        var ambiguous: [Int: [String]] = [:]
        for i in observations.indices where !late[i] && !isAnchor[i] {
            let linked = neighbours(of: i, in: index).filter { isAnchor[$0] }.map { (separation(i, $0), $0) }
            // Nearest, then earlier by (observedAt, id).
            let nearer = { (a: (Double, Int), b: (Double, Int)) in
                (a.0, times[a.1], observations[a.1].id) < (b.0, times[b.1], observations[b.1].id)
            }
            if let best = linked.min(by: nearer) {
                // Ambiguous: an anchor of another incident explains it within a tenth of a reach as well.
                let home = Self.find(best.1, &anchorsOnly)
                let rival = linked.filter { Self.find($0.1, &anchorsOnly) != home }.min(by: nearer)
                if let rival, rival.0 - best.0 < 0.1 {
                    ambiguous[i] = [observations[best.1].id, observations[rival.1].id]
                } else {
                    Self.union(i, best.1, &parent, times, observations)
                }
            } else {
                unattached.append(i)
            }
        }
        let loose = Set(unattached)
        for i in unattached {
            for j in neighbours(of: i, in: index) where loose.contains(j) {
                Self.union(i, j, &parent, times, observations)
            }
        }
        var groups = ReferenceIncidentGroups(count: observations.count)
        for i in observations.indices {
            let root = Self.find(i, &parent)
            groups.members[root, default: []].append(i)
            groups.groupOf[i] = root
        }
        for key in groups.members.keys where groups.members[key]!.count > 1 {
            groups.members[key]!.sort { Self.isEarlier($0, $1, times, observations) }
        }
        groups.ambiguous = ambiguous
        return groups
    }

    /// The incident of a group of observations sorted by (observedAt, id): its id follows from the first one.
    func makeIncident(members: [Int]) -> Incident {
        // One pass over the members, without closures over `self` (each would copy the engine).
        let registry = mission.sources
        let kinds = Self.kinds, weapons = Self.weapons
        var kindTally = [Int](repeating: 0, count: kinds.count * 2)  // [all observations | evidence]
        var weaponTally = [Int](repeating: 0, count: weapons.count * 2)
        var hasKnownNonClaim = false
        var independent: [(organisation: String, kind: SourceKind)] = []
        var reliableCount = 0
        var verifiedAlone = false
        var bestGrade: Reliability?
        var sourceIds: [String] = []
        var observationIds: [String] = []
        observationIds.reserveCapacity(members.count)
        var points: [(Vector3, Double)] = []
        points.reserveCapacity(members.count)
        var start = observations[members[0]].observedAt, end = start
        var credibleAt: Timestamp?
        var verifiedAt: Timestamp?
        var reliableSoFar: [(String, SourceKind)] = []
        var count = 0
        var allLate = true
        for i in members {
            let o = observations[i]
            observationIds.append(o.id)
            points.append((positions[i], o.location.uncertaintyMeters))
            start = min(start, o.observedAt)
            end = max(end, o.observedAt)
            count = max(count, o.count ?? 1)
            allLate = allLate && late[i]
            if !sourceIds.contains(o.source) { sourceIds.append(o.source) }
            let source = registry[o.source]
            // Unknown sources (removed from sources.json since) count as evidence but corroborate nothing.
            let isEvidence = source?.kind != .partyClaim
            let k = kinds.firstIndex(of: o.kind)!
            kindTally[k] += 1
            if isEvidence { kindTally[kinds.count + k] += 1 }
            if let w = o.weaponClass.flatMap({ weapons.firstIndex(of: $0) }) {
                weaponTally[w] += 1
                if isEvidence { weaponTally[weapons.count + w] += 1 }
            }
            guard let source, source.kind != .partyClaim else { continue }
            hasKnownNonClaim = true
            if !independent.contains(where: { $0.organisation == source.organisation && $0.kind == source.kind }) {
                independent.append((source.organisation, source.kind))
            }
            if policy.verifyAloneGrades.contains(source.reliability) { verifiedAlone = true }
            // Members come in (observedAt, id) order: the first reliable report, and the one that verified.
            if policy.reliableGrades.contains(source.reliability) {
                if credibleAt == nil { credibleAt = o.observedAt }
                if !reliableSoFar.contains(where: { $0.0 == source.organisation && $0.1 == source.kind }) {
                    reliableSoFar.append((source.organisation, source.kind))
                }
            }
            if verifiedAt == nil && (verifiedAlone || reliableSoFar.count >= policy.verifyWith) {
                verifiedAt = o.observedAt
            }
            if bestGrade == nil || source.reliability.rawValue < bestGrade!.rawValue { bestGrade = source.reliability }
        }
        // Reliable independent sources: organisation–kind pairs with at least one source of a reliable grade.
        var reliablePairs: [(String, SourceKind)] = []
        for i in members {
            guard let source = registry[observations[i].source], source.kind != .partyClaim,
                policy.reliableGrades.contains(source.reliability),
                !reliablePairs.contains(where: { $0.0 == source.organisation && $0.1 == source.kind })
            else { continue }
            reliablePairs.append((source.organisation, source.kind))
        }
        reliableCount = reliablePairs.count
        // Kind and weapon class: the most reported among non-claim observations, ties to the most specific.
        let kindOffset = hasKnownNonClaim ? kinds.count : 0, weaponOffset = hasKnownNonClaim ? weapons.count : 0
        let kind = Self.mostCommon(kindTally[kindOffset..<kindOffset + kinds.count], of: kinds)!
        let weaponClass = Self.mostCommon(weaponTally[weaponOffset..<weaponOffset + weapons.count], of: weapons)
        let location = Self.fuse(points)
        let status: IncidentStatus =
            reliableCount >= policy.verifyWith || verifiedAlone
            ? .verified
            : independent.count >= policy.corroborateWith ? .corroborated : .reported
        let credibility: Int =
            switch (status, bestGrade) {
            case (.verified, _): 1
            case (.corroborated, _): 2
            case (_, .a?), (_, .b?): 3
            case (_, .c?), (_, .d?): 4
            case (_, .e?), (_, nil): 5
            case (_, .f?): 6
            }
        var incident = Incident(
            id: Self.incidentId(firstObservation: observations[members[0]].id), observationIds: observationIds,
            kind: kind, weaponClass: weaponClass, location: location, start: start, end: end, count: count,
            sources: sourceIds.sorted(), independentSources: independent.count,
            independentReliableSources: reliableCount, credibility: credibility, status: status,
            classification: mission.classify(location.point), late: allLate, credibleAt: credibleAt,
            verifiedAt: status == .verified ? verifiedAt : nil)
        if allLate {
            incident.receivedLateAt = Violation.receivedLate(members.map { observations[$0] })
            incident.joinsIncidentId = members.lazy.compactMap { lateJoins[$0] }.first
        }
        return incident
    }

    /// The most frequent of `cases` by `tally` (same order), ties to the later case (the more specific); `nil` when
    /// every count is 0.
    static func mostCommon<T>(_ tally: ArraySlice<Int>, of cases: [T]) -> T? {
        var best = 0, bestIndex = -1
        for (offset, n) in tally.enumerated() where n >= best && n > 0 {
            best = n
            bestIndex = offset
        }
        return bestIndex < 0 ? nil : cases[bestIndex]
    }

    /// `I` and 16 hexadecimal digits of the SHA-256 of the id of the incident's earliest observation.
    static func incidentId(firstObservation id: String) -> String {
        "I" + EventChain.digestPrefix(Array(id.utf8))
    }

    /// Inverse-variance weighted mean of points with stated uncertainties (floor 1 m).
    static func fuse(_ points: [(Vector3, Double)]) -> Location {
        var sum = Vector3(x: 0, y: 0, z: 0)
        var weights = 0.0
        for (p, u) in points {
            let w = 1 / (max(u, 1) * max(u, 1))
            sum = sum + p * w
            weights += w
        }
        let point = WGS84.geodetic(sum * (1 / weights))
        return Location(
            point: GeoPoint(lon: (point.lon * 1e7).rounded() / 1e7, lat: (point.lat * 1e7).rounded() / 1e7),
            uncertaintyMeters: ((1 / weights).squareRoot() * 10).rounded() / 10)
    }
}
