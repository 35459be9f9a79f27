import Foundation

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
public struct VerificationEngine: Sendable {
    public let mission: Mission
    private let policy: VerificationPolicy

    // One entry per accepted observation, in arrival order.
    private(set) var observations: [Observation] = []
    private var positions: [Vector3] = []
    private var times: [Int64] = []
    /// Stated location uncertainty (m) and time uncertainty (s), kept apart from the records for the hot link test.
    private var spatialUncertainty: [Double] = []
    private var timeUncertainty: [Double] = []
    private var late: [Bool] = []
    private var parent: [Int32] = []
    private var isAnchor: [Bool] = []
    /// Open observations by (group, cell) for candidate search; closed ones are removed as event time advances.
    private var cells: [Int64: [Int32]] = [:]
    private var latestEventTime = Int64.min
    private var sweptAt = Int64.min
    /// People's decisions, in arrival order; they apply in (at, id) order when results are drawn.
    private(set) var actions: [ReviewAction] = []

    private static let cellDegrees = 0.4

    public init(mission: Mission) {
        self.mission = mission
        policy = mission.agreement.verification
    }

    /// Number of observations that arrived later than the allowed lateness.
    public var lateCount: Int { late.lazy.filter { $0 }.count }

    /// Feeds one observation (its id must be new).
    public mutating func add(_ observation: Observation) {
        let index = Int32(observations.count)
        let t = observation.observedAt.nanoseconds
        let p = WGS84.ecef(observation.location.point)
        let isLate = latestEventTime != Int64.min && t < latestEventTime - Self.nanos(policy.allowedLatenessSeconds)
        observations.append(observation)
        positions.append(p)
        times.append(t)
        spatialUncertainty.append(observation.location.uncertaintyMeters)
        timeUncertainty.append(observation.timeUncertaintySeconds)
        late.append(isLate)
        parent.append(index)
        let anchor =
            mission.sources[observation.source]?.kind != .partyClaim
            && observation.location.uncertaintyMeters <= Self.anchorMaximumUncertaintyMeters
            && observation.timeUncertaintySeconds <= Self.anchorMaximumTimeUncertaintySeconds
        isAnchor.append(anchor)
        if isLate { return }
        if anchor {
            for j in neighbours(of: Int(index)) where isAnchor[j] { Self.union(Int(index), j, &parent, earlier) }
        }
        let (cx, cy) = Self.cell(observation.location.point)
        cells[Self.key(observation.kind.group, cx, cy, Self.hour(t)), default: []].append(index)
        if t > latestEventTime { latestEventTime = t }
        sweepIfDue()
    }

    /// Records a decision by an analyst, a board member or a party; whether it applies is decided in ``results()``,
    /// on the incidents as they then stand, and reported with the results.
    public mutating func add(_ action: ReviewAction) { actions.append(action) }

    /// Observations that may be correlated with observation i: its kind group, linked by distance and time.
    private func neighbours(of i: Int) -> [Int] {
        let group = observations[i].kind.group
        let window = policy.window(for: group)
        let (cx, cy) = Self.cell(observations[i].location.point)
        let reach = Self.nanos(window.seconds + VerificationPolicy.maximumTimeSlackSeconds)
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
        let reach = min(window.meters + 2 * (ua * ua + ub * ub).squareRoot(), VerificationPolicy.maximumLinkMeters)
        let slack =
            2
            * (a.timeUncertaintySeconds * a.timeUncertaintySeconds + b.timeUncertaintySeconds * b.timeUncertaintySeconds)
            .squareRoot()
        return (positions[i] - positions[j]).length / max(reach, 1)
            + Double(abs(times[i] - times[j])) / 1e9 / max(window.seconds + slack, 1)
    }

    /// Anchors: observations precise enough to found an incident.
    static let anchorMaximumUncertaintyMeters = 1_000.0
    static let anchorMaximumTimeUncertaintySeconds = 120.0

    func observation(at i: Int) -> Observation { observations[i] }
    func position(at i: Int) -> Vector3 { positions[i] }

    private func linked(_ i: Int, _ j: Int, _ window: VerificationPolicy.Window) -> Bool {
        let ta = timeUncertainty[i], tb = timeUncertainty[j]
        let timeSlack = min(2 * (ta * ta + tb * tb).squareRoot(), VerificationPolicy.maximumTimeSlackSeconds)
        guard abs(times[i] - times[j]) <= Self.nanos(window.seconds + timeSlack) else { return false }
        let ua = spatialUncertainty[i], ub = spatialUncertainty[j]
        let reach = min(window.meters + 2 * (ua * ua + ub * ub).squareRoot(), VerificationPolicy.maximumLinkMeters)
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

    private static func union(_ i: Int, _ j: Int, _ parent: inout [Int32], _ earlier: (Int, Int) -> Bool) {
        let a = find(i, &parent), b = find(j, &parent)
        guard a != b else { return }
        if earlier(a, b) { parent[b] = Int32(a) } else { parent[a] = Int32(b) }
    }

    func earlier(_ a: Int, _ b: Int) -> Bool {
        (times[a], observations[a].id) < (times[b], observations[b].id)
    }

    private static func nanos(_ seconds: Double) -> Int64 { Int64(seconds * 1e9) }

    private static func cell(_ p: GeoPoint) -> (Int, Int) {
        (Int((p.lon / cellDegrees).rounded(.down)), Int((p.lat / cellDegrees).rounded(.down)))
    }

    /// Search cells: kind group, 0.4° of longitude and latitude, and hour of event time.
    private static func key(_ group: KindGroup, _ x: Int, _ y: Int, _ hour: Int64) -> Int64 {
        Int64(KindGroup.allCases.firstIndex(of: group)!) << 60 | Int64(x & 0xFFFF) << 44 | Int64(y & 0xFFFF) << 28
            | (hour & 0xFFFFFFF)
    }

    private static func hour(_ t: Int64) -> Int64 {
        let h: Int64 = 3_600_000_000_000
        return t >= 0 ? t / h : (t - h + 1) / h
    }

    // MARK: - Results

    /// The incidents so far, by (start, id), the violations they make, by (at, id), and what became of each action.
    public func results() -> VerificationResults {
        var groups = correlate()
        let outcomes = applyIncidentActions(to: &groups)
        var incidents: [Incident] = []
        var violations: [Violation] = []
        var impediments: [String: ImpedimentCount] = [:]
        for (key, list) in groups.members {
            var incident = makeIncident(members: list)
            if let status = groups.reviewedStatus[key] { incident.status = status }
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
        incidents.sort { ($0.start, $0.id) < ($1.start, $1.id) }
        violations.sort { ($0.at, $0.id) < ($1.at, $1.id) }
        let violationOutcomes = applyViolationActions(to: &violations, incidents: incidents, groups: groups)
        let reviews = sortedActions.map { action in
            (action: action, outcome: outcomes[action.id] ?? violationOutcomes[action.id] ?? "refused: not applied")
        }
        return VerificationResults(
            incidents: incidents, violations: violations, actions: reviews,
            impediments: impediments.sorted { $0.key < $1.key }.map(\.value))
    }

    /// Incidents as groups of observation indices (each sorted by (observedAt, id)), keyed by their first member.
    private func correlate() -> IncidentGroups {
        // Imprecise observations join their nearest anchor's incident, or form incidents among themselves. This works
        // on a copy, so that later arrivals can still change where they belong.
        var parent = self.parent
        var index = self
        index.cells = [:]
        for i in observations.indices where !late[i] {
            let (cx, cy) = Self.cell(observations[i].location.point)
            index.cells[Self.key(observations[i].kind.group, cx, cy, Self.hour(times[i])), default: []].append(Int32(i))
        }
        var unattached: [Int] = []
        for i in observations.indices where !late[i] && !isAnchor[i] {
            let anchors = index.neighbours(of: i).filter { isAnchor[$0] }
            if let best = anchors.min(by: {
                (separation(i, $0), times[$0], observations[$0].id) < (
                    separation(i, $1), times[$1], observations[$1].id
                )
            }) {
                Self.union(i, best, &parent, earlier)
            } else {
                unattached.append(i)
            }
        }
        let loose = Set(unattached)
        for i in unattached {
            for j in index.neighbours(of: i) where loose.contains(j) { Self.union(i, j, &parent, earlier) }
        }
        var groups = IncidentGroups(count: observations.count)
        for i in observations.indices {
            let root = Self.find(i, &parent)
            groups.members[root, default: []].append(i)
            groups.groupOf[i] = root
        }
        for key in groups.members.keys { groups.members[key]!.sort { earlier($0, $1) } }
        return groups
    }

    /// The incident of a group of observations sorted by (observedAt, id): its id follows from the first one.
    func makeIncident(members: [Int]) -> Incident {
        let root = members[0]
        let obs = members.map { observations[$0] }
        let sources = obs.compactMap { mission.sources[$0.source] }
        let evidence =
            sources.contains { $0.kind != .partyClaim }
            ? obs.filter { mission.sources[$0.source]?.kind != .partyClaim } : obs
        // Kind and weapon class: the most reported among non-claim observations, ties to the most specific.
        let kind = Self.mostCommon(evidence.map(\.kind), order: ObservationKind.allCases.reversed())!
        let weaponClass = Self.mostCommon(evidence.compactMap(\.weaponClass), order: WeaponClass.allCases.reversed())
        let location = Self.fuse(members.map { (positions[$0], observations[$0].location.uncertaintyMeters) })
        var independent: Set<String> = []
        var reliable: Set<String> = []
        for source in sources where source.kind != .partyClaim {
            let key = source.organisation + "\u{1F}" + source.kind.rawValue
            independent.insert(key)
            if policy.reliableGrades.contains(source.reliability) { reliable.insert(key) }
        }
        let verifiedAlone = sources.contains {
            $0.kind != .partyClaim && policy.verifyAloneGrades.contains($0.reliability)
        }
        let status: IncidentStatus =
            reliable.count >= policy.verifyWith || verifiedAlone
            ? .verified
            : independent.count >= policy.corroborateWith ? .corroborated : .reported
        let bestGrade = sources.filter { $0.kind != .partyClaim }.map(\.reliability).min { $0.rawValue < $1.rawValue }
        let credibility: Int =
            switch (status, bestGrade) {
            case (.verified, _): 1
            case (.corroborated, _): 2
            case (_, .a?), (_, .b?): 3
            case (_, .c?), (_, .d?): 4
            case (_, .e?), (_, nil): 5
            case (_, .f?): 6
            }
        return Incident(
            id: Self.incidentId(firstObservation: observations[root].id), observationIds: obs.map(\.id), kind: kind,
            weaponClass: weaponClass, location: location, start: obs.map(\.observedAt).min()!,
            end: obs.map(\.observedAt).max()!, count: obs.map { $0.count ?? 1 }.max()!,
            sources: Array(Set(obs.map(\.source))).sorted(), independentSources: independent.count,
            independentReliableSources: reliable.count, credibility: credibility, status: status,
            classification: mission.classify(location.point), late: members.allSatisfy { late[$0] })
    }

    /// `I` and 16 hexadecimal digits of the SHA-256 of the id of the incident's earliest observation.
    static func incidentId(firstObservation id: String) -> String {
        "I" + EventChain.digestPrefix(Array(id.utf8))
    }

    static func mostCommon<T: Hashable>(_ values: [T], order: some Sequence<T>) -> T? {
        var counts: [T: Int] = [:]
        for v in values { counts[v, default: 0] += 1 }
        guard let best = counts.values.max() else { return nil }
        return order.first { counts[$0] == best }
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
