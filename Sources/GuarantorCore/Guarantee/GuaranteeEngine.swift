import Foundation

/// Turns verified violations into alerts and members' obligations, on event time only (DESIGN §2.3–2.5).
///
/// This is the guarantee's configuration; its state lives in a ``GuaranteeMachine`` that ``MissionEngine`` feeds one
/// input at a time. ``run(incidents:violations:actions:clock:)`` feeds complete inputs at once (the simulator's
/// ground truth, and tests).
public struct GuaranteeEngine: Sendable {
    public let coalition: Coalition
    public let book: TriggerBook
    public let effectiveAt: Timestamp
    /// The mission's sector names, by index (``Classification/sector``).
    public let sectorNames: [String]
    /// Each protected site with its bounding box in degrees, for a cheap test before the geodesic one.
    private let siteBoxes: [(site: ProtectedSite, lon: ClosedRange<Double>, lat: ClosedRange<Double>)]

    public init(coalition: Coalition, book: TriggerBook, effectiveAt: Timestamp, sectorNames: [String]) {
        self.coalition = coalition
        self.book = book
        self.effectiveAt = effectiveAt
        self.sectorNames = sectorNames
        siteBoxes = coalition.sites.map { site in
            // Generous: a degree of latitude is more than 110 km, of longitude more than 60 km below 57° N; beyond
            // that latitude the box is the whole circle of longitude.
            let dLat = site.radiusMeters / 100_000 + 0.01
            let cosine = cos(min(abs(site.location.lat) + dLat, 89.9) * .pi / 180)
            let dLon = abs(site.location.lat) + dLat > 57 ? 360 : site.radiusMeters / (100_000 * cosine) + 0.01
            return (
                site, (site.location.lon - dLon)...(site.location.lon + dLon),
                (site.location.lat - dLat)...(site.location.lat + dLat)
            )
        }
    }

    /// The guarantee engine of a mission that has coalition.json and triggers.json.
    public init?(mission: Mission) {
        guard let coalition = mission.coalition, let book = mission.triggers else { return nil }
        self.init(
            coalition: coalition, book: book, effectiveAt: mission.agreement.effectiveAt,
            sectorNames: mission.sectors.names)
    }

    /// The protected site that holds a point, if any (``Coalition/site(containing:)``, with a box test first).
    func site(containing point: GeoPoint) -> ProtectedSite? {
        for box in siteBoxes where box.lat.contains(point.lat) && box.lon.contains(point.lon) {
            if WGS84.distance(box.site.location, point) <= box.site.radiusMeters { return box.site }
        }
        return nil
    }

    /// What an incident and its findings feed the guarantee: each finding that can count toward a trigger, and the
    /// strike on a protected site it may be (provisional at its first credible report, then verified).
    func inputs(of incident: Incident?, findings: [Violation]) -> [GuaranteeInput] {
        var inputs: [GuaranteeInput] = []
        for v in findings where v.incidentStatus != .rejected && !v.incidentId.isEmpty {
            if book.triggers.contains(where: { $0.matches(v) }) { inputs.append(.violation(v)) }
        }
        // A late report that joins a sealed incident does not strike again; one that joins none strikes from when it
        // was received.
        guard let incident, book.tripwireKinds.contains(incident.kind), incident.status != .rejected,
            incident.joinsIncidentId == nil, let site = site(containing: incident.location.point)
        else { return inputs }
        let strike = Strike(
            incidentId: incident.id, kind: incident.kind, start: incident.start,
            sector: incident.classification.sector, site: site, findings: findings.map(\.id))
        let received = incident.receivedLateAt ?? Timestamp(nanoseconds: Int64.min)
        if let credible = incident.credibleAt, credible != incident.verifiedAt {
            inputs.append(.tripwire(strike, provisional: true, at: max(credible, received)))
        }
        if let verified = incident.verifiedAt {
            inputs.append(.tripwire(strike, provisional: false, at: max(verified, received)))
        }
        return inputs
    }

    /// Runs the guarantee over complete verification results and the guarantee actions up to `clock`.
    public func run(
        incidents: [Incident], violations: [Violation], actions: [GuaranteeAction], clock: Timestamp
    ) -> GuaranteeResults {
        var findings: [String: [Violation]] = [:]
        for v in violations where !v.incidentId.isEmpty { findings[v.incidentId, default: []].append(v) }
        var inputs: [GuaranteeInput] = []
        for incident in incidents {
            inputs += self.inputs(of: incident, findings: findings[incident.id] ?? [])
        }
        let known = Set(incidents.map(\.id))
        for v in violations where !v.incidentId.isEmpty && !known.contains(v.incidentId) {
            inputs += self.inputs(of: nil, findings: [v])
        }
        inputs += actions.map { .action($0) }
        inputs.sort { $0.key < $1.key }
        var machine = GuaranteeMachine(config: self)
        machine.run(inputs, upTo: clock.nanoseconds, including: true)
        var facts = FactIndex()
        for v in violations { facts.insert(v) }
        facts.prepare()
        return machine.results(clock: clock, actions: actions, facts: facts.facts)
    }
}

/// Verified findings by sector and time: what a joint statement states.
struct FactIndex: Sendable {
    private var bySector: [String: [Violation]] = [:]
    private var unsorted: Set<String> = []
    private static let none = "\u{0}"

    /// Adds a finding if it is a verified one.
    mutating func insert(_ v: Violation) {
        guard v.incidentStatus == .verified else { return }
        let key = v.sector ?? Self.none
        bySector[key, default: []].append(v)
        unsorted.insert(key)
    }

    /// Removes a finding (by id) if it was added.
    mutating func remove(_ v: Violation) {
        guard v.incidentStatus == .verified else { return }
        // From the end: what is taken back is nearly always recent (an open incident built again or sealed), so this
        // does not scan the sector's whole history. Ids are unique, so the last match is the only one.
        let key = v.sector ?? Self.none
        if let i = bySector[key]?.lastIndex(where: { $0.id == v.id }) { bySector[key]!.remove(at: i) }
    }

    /// Every finding held, by sector, then (at, id).
    func all() -> [Violation] {
        bySector.keys.sorted().flatMap { key in bySector[key]!.sorted { ($0.at, $0.id) < ($1.at, $1.id) } }
    }

    /// Sorts what was added since; ``facts(_:_:_:)`` needs it.
    mutating func prepare() {
        for key in unsorted { bySector[key]!.sort { ($0.at, $0.id) < ($1.at, $1.id) } }
        unsorted.removeAll()
    }

    /// The verified findings of `sector` with `at` in `from…to`, by (at, id) (after ``prepare()``).
    func facts(_ sector: String?, _ from: Timestamp, _ to: Timestamp) -> [Violation] {
        precondition(unsorted.isEmpty, "FactIndex.facts before prepare()")
        guard let list = bySector[sector ?? Self.none] else { return [] }
        var low = 0, high = list.count
        while low < high {
            let mid = (low + high) / 2
            if list[mid].at < from { low = mid + 1 } else { high = mid }
        }
        var found: [Violation] = []
        var i = low
        while i < list.count && list[i].at <= to {
            found.append(list[i])
            i += 1
        }
        return found
    }
}
