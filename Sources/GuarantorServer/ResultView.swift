import Foundation
import GuarantorCore
import GuarantorStore

/// What the server reads from: incidents that may still change (held here), sealed incidents (rows in the store), the
/// sealed ones that no longer stand, and the guarantee as last drawn. Each incident's view for a member that may
/// read only part of it is derived once and kept until the incident changes.
struct ResultView: Sendable {
    let mission: Mission
    let store: EventStore
    let standingFindings: [Violation]
    /// The incidents that stand (a copy of the stored engine's, kept up to date from its changes).
    private(set) var standing: StandingIncidents
    var live: [String: IncidentRecord] { standing.live }
    var superseded: Set<String> { standing.superseded }
    private(set) var guarantee: GuaranteeResults?
    private(set) var impediments: [ImpedimentCount] = []
    private(set) var counts = StoredEngine.Counts()
    private(set) var observations = 0
    /// The parts of incidents that members may read only in part, by incident id, then member.
    private var parts: [String: [String: Shown?]] = [:]
    /// Sealed incidents with observations marked AMBER or above (every other one every member may read).
    private var restrictedSealed: Set<String> = []
    /// Sealed incidents kept here until their rows are written (the writer works in the background).
    private var unwritten: Set<String> = []

    init(mission: Mission, store: EventStore, standing: [Violation]) {
        self.mission = mission
        self.store = store
        self.standingFindings = standing
        self.standing = StandingIncidents(store: store)
    }

    /// Takes what a batch of changes did, and the stored engine's totals.
    mutating func apply(_ applied: StoredEngine.Applied, from stored: StoredEngine) {
        for step in applied.steps {
            switch step {
            case .live(let record):
                standing.set(record)
                unwritten.remove(record.incident.id)
                parts[record.incident.id] = nil
            case .sealed(let record):
                // Read from here until its row is written.
                standing.set(record)
                unwritten.insert(record.incident.id)
                standing.unsupersede(record.incident.id)
                parts[record.incident.id] = nil
                if !record.markings.isEmpty { restrictedSealed.insert(record.incident.id) }
            case .gone(let id):
                standing.remove(id)
                unwritten.remove(id)
                parts[id] = nil
            case .superseded(let id):
                standing.supersede(id)
            }
        }
        if stored.guarantee != nil { guarantee = stored.guarantee }
        impediments = stored.impediments
        counts = stored.counts
        observations = stored.engine.observationCount
    }

    /// Sealed incidents whose rows are now written: read from the store from here on.
    mutating func written(_ ids: [String]) {
        for id in ids where unwritten.remove(id) != nil { standing.remove(id) }
    }

    /// Takes everything from a stored engine just opened.
    mutating func load(_ stored: StoredEngine) throws {
        restrictedSealed = try store.restrictedSealedIncidents()
        standing = stored.standing
        guarantee = stored.guarantee
        impediments = stored.impediments
        counts = stored.counts
        observations = stored.engine.observationCount
        parts = [:]
    }

    // MARK: What a reader sees

    /// An incident as a member may see it: its line, its findings' lines, and what lists filter on.
    struct Shown: Sendable {
        var id: String
        var start: Int64
        var end: Int64
        var status: String
        var sector: String?
        var point: GeoPoint
        var line: [UInt8]
        /// Lines of violations.ndjson, each with its newline.
        var findings: [UInt8]
        var findingIds: [String]
        /// Whether what is shown includes observations marked AMBER or above (the read is audited).
        var restricted: Bool
    }

    /// The incidents a member may see (`nil`: the whole record), after `cursor` in (start, id) order, passing
    /// `filter` and `keep`, at most `limit`.
    mutating func incidents(
        for member: String?, after cursor: (Int64, String)? = nil, filter: EventStore.SealedFilter = .init(),
        limit: Int = Int.max, keep: (Shown) -> Bool = { _ in true }
    ) throws -> [Shown] {
        var found: [Shown] = []
        var standing = self.standing
        var filter = filter
        // The public's rows are chosen by the database; ``show(_:to:)`` still decides.
        filter.publicOnly = member == Releasability.publicReader
        try standing.forEach(after: cursor, filter: filter, batch: min(max(limit, 256), 4_096)) { incident in
            let shown: Shown?
            switch incident {
            case .sealed(let row): shown = try show(row, to: member)
            case .live(let record): shown = try show(record, to: member)
            }
            if let shown, keep(shown) { found.append(shown) }
            return found.count < limit
        }
        self.standing = standing
        return found
    }

    /// A live incident as a member sees it (`nil`: in full).
    mutating func show(_ record: IncidentRecord, to member: String?) throws -> Shown? {
        // The public view shows an incident only when every report behind it is TLP:CLEAR.
        if member == Releasability.publicReader && !record.isPublic { return nil }
        let i = record.incident
        let unreadable = member.map { m in record.markings.filter { !$0.isReadable(by: m) } } ?? []
        let restricted =
            member.map { m in record.markings.contains { $0.isReadable(by: m) } } ?? !record.markings.isEmpty
        if unreadable.isEmpty {
            var w = JSONWriter(capacity: 512)
            mission.incidentLine(i, into: &w)
            var v = JSONWriter()
            for finding in record.findings {
                Replay.violationLine(finding, into: &v)
                v.newline()
            }
            return Self.forReader(
                Shown(
                    id: i.id, start: i.start.nanoseconds, end: i.end.nanoseconds, status: i.status.rawValue,
                    sector: sectorName(i), point: i.location.point,
                    line: try withholdingAnchors(w.bytes, i.ambiguousBetween, from: member), findings: v.bytes,
                    findingIds: record.findings.map(\.id), restricted: restricted), member)
        }
        let member = member!
        if unreadable.count == i.observationIds.count { return nil }
        if let cached = parts[i.id]?[member] { return cached }
        let part = try partial(i, findings: record.findings, member: member, restricted: restricted)
        parts[i.id, default: [:]][member] = .some(part)
        return part
    }

    /// A sealed incident as a member sees it (`nil`: in full).
    mutating func show(_ row: EventStore.SealedIncident, to member: String?) throws -> Shown? {
        if member == Releasability.publicReader && !row.isPublic { return nil }
        let unreadable = member.map { m in row.markings.filter { !$0.isReadable(by: m) } } ?? []
        let restricted = member.map { m in row.markings.contains { $0.isReadable(by: m) } } ?? !row.markings.isEmpty
        if unreadable.isEmpty {
            return Self.forReader(
                Shown(
                    id: row.id, start: row.start, end: row.end, status: row.status, sector: row.sector,
                    point: GeoPoint(lon: row.lon, lat: row.lat),
                    line: try withholdingAnchors(row.line, row.ambiguousBetween, from: member),
                    findings: row.findings, findingIds: row.findingIds, restricted: restricted), member)
        }
        let member = member!
        if unreadable.count == row.members.count { return nil }
        if let cached = parts[row.id]?[member] { return cached }
        // Rare: the incident and its findings read back in full from their lines and the log.
        let incident = try Self.incident(fromLine: row.line, members: row.members, late: row.late, mission: mission)
        let findings = try row.findings.split(separator: 0x0A).map { try Self.violation(fromLine: Array($0)) }
        let part = try partial(incident, findings: findings, member: member, restricted: restricted)
        parts[row.id, default: [:]][member] = .some(part)
        return part
    }

    /// What the public sees of an incident it may see: no link to another incident (`joinsIncidentId`, in the line
    /// and its findings' lines) and no `ambiguousBetween`, since the incident linked to may rest on reports it may not
    /// read, and even the number of anchors withheld would say that they exist.
    static func forReader(_ shown: Shown, _ member: String?) -> Shown {
        guard member == Releasability.publicReader else { return shown }
        var shown = shown
        shown.line = removing(["joinsIncidentId", "ambiguousBetween"], from: shown.line)
        var findings: [UInt8] = []
        for line in shown.findings.split(separator: 0x0A) {
            findings += removing(["joinsIncidentId"], from: Array(line)) + [0x0A]
        }
        shown.findings = findings
        return shown
    }

    /// A line of JSON written by ``JSONWriter`` without the members `names` (whose values are strings of ids or
    /// arrays of them), every other byte as it was.
    static func removing(_ names: [String], from line: [UInt8]) -> [UInt8] {
        var line = line
        for name in names {
            let key = Array(",\"\(name)\":".utf8)
            guard let found = line.firstRange(of: key) else { continue }
            let valueStart = found.upperBound
            guard valueStart < line.count else { continue }
            let closing: UInt8 = line[valueStart] == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: "\"")
            guard let end = line[(valueStart + 1)...].firstIndex(of: closing) else { continue }
            line.removeSubrange(found.lowerBound...end)
        }
        return line
    }

    /// An incident's line whose `ambiguousBetween` names only the observations the member may read: the id of a
    /// restricted report alone would tell that it exists there.
    private func withholdingAnchors(_ line: [UInt8], _ between: [String]?, from member: String?) throws -> [UInt8] {
        guard let between, let member else { return line }
        let readable = Set(
            try store.observations(ids: between).filter { Releasability.canRead(member: member, $0) }.map(\.id))
        guard readable.count < between.count else { return line }
        func field(_ ids: [String]) -> [UInt8] {
            var w = JSONWriter()
            w.beginArray()
            for id in ids { w.string(id) }
            w.endArray()
            return Array(#""ambiguousBetween":"#.utf8) + w.bytes
        }
        let old = field(between)
        guard let range = line.firstRange(of: old) else { return line }
        var shown = line
        shown.replaceSubrange(range, with: field(between.filter(readable.contains)))
        return shown
    }

    /// The part of an incident made of the observations a member may read (each read from the log).
    private func partial(_ incident: Incident, findings: [Violation], member: String, restricted: Bool) throws
        -> Shown?
    {
        let observations = try store.observations(ids: incident.observationIds)
        guard
            let part = IncidentBuilder(mission: mission).visiblePart(
                of: incident, members: observations, readable: { Releasability.canRead(member: member, $0) })
        else { return nil }
        var w = JSONWriter(capacity: 512)
        mission.incidentLine(part, into: &w)
        var v = JSONWriter()
        for var finding in findings {
            // The finding stands (the mission made it on every report), but what it says of the place, the time and
            // the count is the part's: a detail such as "declared 6, counted 9" or an earlier start would tell of the
            // reports withheld.
            finding.distanceToLineMeters = part.classification.distanceToLineMeters
            finding.at = part.start
            finding.sector = sectorName(part)
            finding.detail = nil
            Replay.violationLine(finding, into: &v)
            v.newline()
        }
        return Shown(
            id: part.id, start: part.start.nanoseconds, end: part.end.nanoseconds, status: part.status.rawValue,
            sector: sectorName(part), point: part.location.point, line: w.bytes, findings: v.bytes,
            findingIds: findings.map(\.id), restricted: restricted)
    }

    /// Whether a member may read (part of) the incident of a finding; findings without an incident stand for all.
    mutating func canRead(finding id: String, member: String) throws -> Bool {
        guard let key = IncidentKey.parse(id), id.hasPrefix("V") else { return true }
        let incident = IncidentKey.incidentId(key)
        if let record = live[incident] { return try show(record, to: member) != nil }
        if superseded.contains(incident) { return false }
        // An alert names findings that stand; only a restricted incident needs a look.
        guard member == Releasability.publicReader || restrictedSealed.contains(incident) else { return true }
        guard let row = try store.sealedIncidents(ids: [incident])[incident] else { return false }
        return try show(row, to: member) != nil
    }

    /// The incident id a finding belongs to (`nil` for a finding without one).
    static func incident(ofFinding id: String) -> String? {
        guard id.hasPrefix("V"), let key = IncidentKey.parse(id) else { return nil }
        return IncidentKey.incidentId(key)
    }

    private func sectorName(_ i: Incident) -> String? {
        i.classification.sector >= 0 ? mission.sectors.names[Int(i.classification.sector)] : nil
    }

    // MARK: Reading lines back

    /// An incident read back from its line of incidents.ndjson (what a partial view needs of it).
    static func incident(fromLine line: [UInt8], members: [String], late: Bool, mission: Mission) throws -> Incident {
        let f = try JSONFields(JSONValue.parse(line))
        let location = try f.object("location")
        let point = GeoPoint(lon: try location.number("lon"), lat: try location.number("lat"))
        var incident = Incident(
            id: try f.string("id"), observationIds: members, kind: try f.enumeration("kind", as: ObservationKind.self),
            weaponClass: try f.optionalEnumeration("weaponClass", as: WeaponClass.self),
            location: Location(point: point, uncertaintyMeters: try location.number("uncertaintyMeters")),
            start: try f.timestamp("start"), end: try f.timestamp("end"),
            count: try f.integer("count", in: 0...Int.max), sources: [], independentSources: 0,
            independentReliableSources: 0, credibility: try f.integer("credibility", in: 1...6),
            status: try f.enumeration("status", as: IncidentStatus.self), classification: mission.classify(point),
            late: late)
        incident.verifiedAt = try f.optionalTimestamp("verifiedAt")
        incident.receivedLateAt = try f.optionalTimestamp("receivedAt")
        incident.joinsIncidentId = try f.optionalString("joinsIncidentId")
        incident.ambiguousBetween = try f.optionalStrings("ambiguousBetween")
        return incident
    }

    /// A finding read back from its line of violations.ndjson.
    static func violation(fromLine line: [UInt8]) throws -> Violation {
        let f = try JSONFields(JSONValue.parse(line))
        let contests = try (f.members["contests"] == nil ? [] : f.array("contests")).map { value in
            let c = try JSONFields(value)
            return ReviewAction(
                .contest, by: Actor(member: try c.string("party"), user: try c.string("user")),
                reason: try c.string("reason"), at: try c.timestamp("at"))
        }
        var v = Violation(
            id: try f.string("id"), incidentId: try f.optionalString("incidentId") ?? "", rule: try f.string("rule"),
            severity: try f.enumeration("severity", as: Severity.self), attributedTo: try f.string("attributedTo"),
            attributionBasis: try f.string("attributionBasis"), zone: try f.optionalString("zone"),
            distanceToLineMeters: try f.number("distanceToLineMeters"), at: try f.timestamp("at"),
            probability: try f.number("probability"),
            incidentStatus: try f.enumeration("incidentStatus", as: IncidentStatus.self),
            sector: try f.optionalString("sector"), verifiedAt: try f.optionalTimestamp("verifiedAt"),
            endorsedBy: try f.array("endorsedBy").compactMap { if case .string(let s) = $0 { s } else { nil } },
            endorsed: try f.optionalBool("endorsed") ?? false, contests: contests,
            detail: try f.optionalString("detail"))
        v.receivedLateAt = try f.optionalTimestamp("receivedAt")
        v.joinsIncidentId = try f.optionalString("joinsIncidentId")
        v.attributionProbability = try f.optionalNumber("attributionProbability")
        return v
    }
}
