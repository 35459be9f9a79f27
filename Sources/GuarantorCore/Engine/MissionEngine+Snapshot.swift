import Foundation

/// Why a snapshot cannot be used (then the log is replayed from the start).
public struct SnapshotError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// The engine's state as bytes, and back.
///
/// A snapshot holds what the engine cannot rebuild from the records it still holds: the open observations (in the
/// order they arrived), the groups kept for people's actions, every action, the guarantee's inputs that can matter
/// (findings, strikes, members' actions) with its frontier, the verified findings joint statements state, the
/// impediment counts and the watermark. Everything derived from them — groups, clusters, the guarantee machine up to
/// the frontier — is rebuilt on restore, and ``MissionEngine/refresh()`` then publishes every open or held incident
/// again, exactly as before. What the open and held incidents contributed is left out (the refresh adds it again).
/// The bytes are canonical JSON: the same state gives the same bytes, which `guarantor verify` compares.
extension MissionEngine {
    static let snapshotVersion = 5

    /// The engine's state as canonical JSON. Results are drawn first (``refresh()``), so that nothing published is
    /// left to take back: take the changes after the snapshot, and keep them with it.
    public mutating func snapshot() -> [UInt8] {
        refresh()
        var w = JSONWriter(capacity: 1 << 20)
        w.beginObject()
        w.key("version"); w.int(Self.snapshotVersion)
        w.key("mission"); w.string(mission.agreement.id)
        w.key("watermark"); w.integer(correlator.watermark)
        w.key("latestTime"); w.integer(latestTime)
        w.key("observations"); w.int(observationCount)
        w.key("late"); w.int(lateCount)
        w.key("open")
        w.beginArray()
        for report in correlator.openReportsInArrivalOrder() { w.raw(report.observation.canonicalJSON) }
        w.endArray()
        // Open observations' nearest anchors in groups already sealed: [observation, separation, anchor, its time].
        w.key("rivals")
        w.beginArray()
        let rivals = correlator.sealedRivals.map { (correlator.reports[Int($0.key)].observation.id, $0.value) }
        for (id, rival) in rivals.sorted(by: { $0.0 < $1.0 }) {
            w.beginArray()
            w.string(id); w.number(rival.separation); w.string(rival.anchorId); w.integer(rival.anchorTime)
            w.endArray()
        }
        w.endArray()
        w.key("held")
        w.beginArray()
        // In the order of their first members, whatever order they were kept in.
        for group in retained.sorted(by: { $0.members[0].isEarlier(than: $1.members[0]) }) {
            w.beginObject()
            w.key("late"); w.bool(group.members.first?.late ?? false)
            if group.members.contains(where: { $0.ambiguousBetween != nil }) {
                // [observation, anchor, anchor] for each member two incidents explain about equally.
                w.key("ambiguous")
                w.beginArray()
                for m in group.members {
                    guard let between = m.ambiguousBetween else { continue }
                    w.beginArray()
                    w.string(m.observation.id)
                    for id in between { w.string(id) }
                    w.endArray()
                }
                w.endArray()
            }
            w.key("members")
            w.beginArray()
            for m in group.members { w.raw(m.observation.canonicalJSON) }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.key("reviews")
        w.beginArray()
        for a in reviewActions { w.raw(a.canonicalJSON) }
        w.endArray()
        w.key("recentlySealed")
        w.beginArray()
        for entry in recentlySealed.kept(from: recentCutoff) {
            w.beginObject()
            w.key("key"); w.string(IncidentKey.incidentId(entry.key))
            w.key("group"); w.int(Int(entry.group))
            w.key("members")
            w.beginArray()
            for (m, p) in zip(entry.members, entry.points) {
                w.beginArray()
                w.number(p.lon); w.number(p.lat); w.integer(m.time)
                w.number(m.spatialUncertainty); w.number(m.timeUncertainty)
                w.string(m.kind.rawValue)
                w.endArray()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.key("lateJoins")
        w.beginObject()
        for (observation, incident) in lateJoins.sorted(by: { $0.key < $1.key }) {
            w.key(dynamic: observation); w.string(incident)
        }
        w.endObject()
        // What tracked (open or held) incidents contributed is published again on restore.
        w.key("facts")
        w.beginArray()
        for v in facts.all() where !v.incidentId.isEmpty && !isTracked(v.incidentId) { Self.write(v, into: &w) }
        w.endArray()
        var tally = impedimentTally
        for t in tracked.values {
            guard let count = t.record.impediment else { continue }
            let key = Self.tallyKey(count)
            tally[key]!.incidents -= count.incidents
            tally[key]!.observations -= count.observations
            if tally[key]!.incidents == 0 { tally[key] = nil }
        }
        w.key("impediments")
        w.beginArray()
        for count in tally.sorted(by: { $0.key < $1.key }).map(\.value) {
            w.beginObject()
            w.key("kind"); w.string(count.kind.rawValue)
            w.key("party"); w.string(count.party)
            w.key("sector"); if let s = count.sector { w.string(s) } else { w.null() }
            w.key("incidents"); w.int(count.incidents)
            w.key("observations"); w.int(count.observations)
            w.endObject()
        }
        w.endArray()
        if let g = guarantee {
            w.key("guarantee")
            w.beginObject()
            w.key("frontier"); w.integer(g.frontier)
            w.key("actions")
            w.beginArray()
            for a in g.actions { w.raw(a.canonicalJSON) }
            w.endArray()
            w.key("ledger")
            w.beginArray()
            for unit in g.ledger.keys.sorted() where !tracked.keys.contains(unit) && !unit.hasPrefix("\u{1}") {
                w.beginObject()
                w.key("unit"); w.string(unit)
                w.key("inputs")
                w.beginArray()
                for input in g.ledger[unit]! { Self.write(input, into: &w) }
                w.endArray()
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endObject()
        return w.bytes
    }

    private func isTracked(_ incidentId: String) -> Bool { !incidentId.isEmpty && tracked[incidentId] != nil }

    /// An engine in the state a snapshot holds; call ``refresh()`` to have it publish its open and held incidents.
    /// - Throws: ``SnapshotError`` when the bytes are not a snapshot of this mission's engine.
    public init(mission: Mission, snapshot bytes: [UInt8], options: Options = Options()) throws {
        self.init(mission: mission, options: options)
        do {
            let f = try JSONFields(JSONValue.parse(bytes))
            guard Int(try f.number("version")) == Self.snapshotVersion else {
                throw SnapshotError("snapshot format \(try f.number("version")), not \(Self.snapshotVersion)")
            }
            guard try f.string("mission") == mission.agreement.id else {
                throw SnapshotError("the snapshot is of mission \(try f.string("mission"))")
            }
            let known: (String) -> Bool = { _ in true }
            // Observations and actions again, in the order they came; nothing is sealed on the way.
            let open = try f.array("open").map { try Observation(json: $0, isKnownSource: known) }
            var slotOf: [String: Int32] = [:]
            for o in open {
                let report = mission.report(o, late: false)
                slotOf[o.id] = correlator.add(
                    report, anchor: mission.isAnchor(report, source: mission.sources[o.source]))
            }
            correlator.restore(watermark: try f.int64("watermark"))
            for item in try f.array("rivals") {
                guard case .array(let r) = item, r.count == 4, case .string(let id) = r[0],
                    case .number(let separation) = r[1], case .string(let anchor) = r[2], case .string(let t) = r[3],
                    let time = Int64(t),
                    let slot = slotOf[id]
                else { throw SnapshotError("rivals: expected [open observation, separation, anchor, time]") }
                correlator.restore(
                    rival: Correlator.Rival(separation: separation, anchorId: anchor, anchorTime: time), of: slot)
            }
            for item in try f.object("lateJoins").members {
                guard case .string(let incident) = item.value else { throw SnapshotError("lateJoins: expected ids") }
                lateJoins[item.key] = incident
            }
            for item in try f.array("recentlySealed") { recentlySealed.restore(try Self.sealedEntry(item)) }
            for held in try f.array("held") {
                let h = try JSONFields(held)
                let late = try h.optionalBool("late") ?? false
                var members = try h.array("members").map { try Observation(json: $0, isKnownSource: known) }.map { o in
                    mission.report(o, late: late, joins: late ? lateJoins[o.id] : nil)
                }
                if h.members["ambiguous"] != nil {
                    var between: [String: [String]] = [:]
                    for item in try h.array("ambiguous") {
                        guard case .array(let ids) = item, ids.count == 3, case .string(let id) = ids[0],
                            case .string(let a) = ids[1], case .string(let b) = ids[2]
                        else { throw SnapshotError("held: ambiguous entries are [observation, anchor, anchor]") }
                        between[id] = [a, b]
                    }
                    for i in members.indices { members[i].ambiguousBetween = between[members[i].observation.id] }
                }
                _ = retain(members, owner: newOwner(), published: [])
            }
            for action in try f.array("reviews") { addReview(try ReviewAction(json: action)) }
            for fact in try f.array("facts") { facts.insert(try Self.violation(fact)) }
            for item in try f.array("impediments") {
                let i = try JSONFields(item)
                let count = ImpedimentCount(
                    kind: try i.enumeration("kind", as: ObservationKind.self), party: try i.string("party"),
                    sector: try i.optionalString("sector"), incidents: try i.integer("incidents", in: 0...Int.max),
                    observations: try i.integer("observations", in: 0...Int.max))
                impedimentTally[Self.tallyKey(count)] = count
            }
            if let g = try f.optionalObject("guarantee") {
                guard guarantee != nil else { throw SnapshotError("the snapshot has a guarantee, the mission none") }
                for action in try g.array("actions") { guarantee!.add(try GuaranteeAction(json: action)) }
                for entry in try g.array("ledger") {
                    let e = try JSONFields(entry)
                    let inputs = try e.array("inputs").map { try Self.input($0, coalition: mission.coalition!) }
                    guarantee!.setLedger(try e.string("unit"), inputs)
                }
                guarantee!.restore(frontier: try g.int64("frontier"))
            } else if guarantee != nil {
                throw SnapshotError("the mission has a guarantee, the snapshot none")
            }
            latestTime = try f.int64("latestTime")
            observationCount = try f.integer("observations", in: 0...Int.max)
            lateCount = try f.integer("late", in: 0...Int.max)
            frontier = Timestamp(nanoseconds: max(correlator.earliestOpenTime(), guarantee?.frontier ?? Int64.min))
            impedimentsChanged = true
            guaranteeChanged = true
            // Kept groups no action names yet (a replay's pins) are held as they are.
            for (index, group) in retained.enumerated() {
                let named =
                    group.keys.contains { actionsNamingKey[$0] != nil }
                    || group.members.contains { actionsNamingObservation[$0.observation.id] != nil }
                guard !named else { continue }
                let records = group.units.map { builder.record($0) }
                publish(owner: group.owner, old: [], new: records, state: .held)
                retained[index].published = records.map(\.incident.id)
            }
        } catch let error as SnapshotError {
            throw error
        } catch {
            throw SnapshotError("the snapshot cannot be read: \(error)")
        }
    }

    /// A recently sealed incident read back: `[lon, lat, time, uncertainty, time uncertainty, kind]` per member.
    static func sealedEntry(_ value: JSONValue) throws -> RecentlySealed.Entry {
        let f = try JSONFields(value)
        guard let key = IncidentKey.parse(try f.string("key")) else { throw SnapshotError("recentlySealed: bad key") }
        var members: [Correlator.Link] = []
        var points: [GeoPoint] = []
        for item in try f.array("members") {
            guard case .array(let fields) = item, fields.count == 6, case .number(let lon) = fields[0],
                case .number(let lat) = fields[1], case .string(let time) = fields[2], let t = Int64(time),
                case .number(let u) = fields[3], case .number(let tu) = fields[4], case .string(let k) = fields[5],
                let kind = ObservationKind(rawValue: k)
            else { throw SnapshotError("recentlySealed: a member is not [lon, lat, time, u, tu, kind]") }
            let point = GeoPoint(lon: lon, lat: lat)
            points.append(point)
            members.append(
                Correlator.Link(
                    position: WGS84.ecef(point), time: t, spatialUncertainty: u, timeUncertainty: tu, kind: kind))
        }
        guard !members.isEmpty else { throw SnapshotError("recentlySealed: an incident without members") }
        return RecentlySealed.Entry(
            key: key, group: UInt8(try f.integer("group", in: 0...Int(UInt8.max))),
            newest: members.map(\.time).max()!, members: members, points: points)
    }

    // MARK: Records in full

    static func write(_ input: GuaranteeInput, into w: inout JSONWriter) {
        w.beginObject()
        switch input {
        case .violation(let v):
            w.key("violation"); write(v, into: &w)
        case .tripwire(let s, let provisional, let at):
            w.key("strike")
            w.beginObject()
            w.key("incident"); w.string(s.incidentId)
            w.key("kind"); w.string(s.kind.rawValue)
            w.key("start"); w.timestamp(s.start)
            w.key("sector"); w.int(Int(s.sector))
            w.key("site"); w.string(s.site.id)
            w.key("findings"); w.beginArray(); for id in s.findings { w.string(id) }; w.endArray()
            w.endObject()
            w.key("provisional"); w.bool(provisional)
            w.key("at"); w.timestamp(at)
        case .action(let a):
            w.key("action"); w.raw(a.canonicalJSON)
        }
        w.endObject()
    }

    static func input(_ value: JSONValue, coalition: Coalition) throws -> GuaranteeInput {
        let f = try JSONFields(value)
        if let v = f.members["violation"] { return .violation(try violation(v)) }
        if let a = f.members["action"] { return .action(try GuaranteeAction(json: a)) }
        let s = try f.object("strike")
        let siteId = try s.string("site")
        guard let site = coalition.sites.first(where: { $0.id == siteId }) else {
            throw SnapshotError("protected site \(siteId) is no longer in coalition.json")
        }
        let strike = Strike(
            incidentId: try s.string("incident"), kind: try s.enumeration("kind", as: ObservationKind.self),
            start: try s.timestamp("start"), sector: Int32(try s.integer("sector", in: -1...Int(Int32.max))),
            site: site,
            findings: try s.array("findings").map { item in
                guard case .string(let id) = item else { throw SnapshotError("a finding id is not a string") }
                return id
            })
        return .tripwire(strike, provisional: try f.optionalBool("provisional") ?? false, at: try f.timestamp("at"))
    }

    /// A finding with every member (violations.ndjson rounds and leaves some out).
    static func write(_ v: Violation, into w: inout JSONWriter) {
        w.beginObject()
        w.key("id"); w.string(v.id)
        w.key("incidentId"); w.string(v.incidentId)
        w.key("rule"); w.string(v.rule)
        w.key("severity"); w.string(v.severity.rawValue)
        w.key("attributedTo"); w.string(v.attributedTo)
        w.key("attributionBasis"); w.string(v.attributionBasis)
        if let p = v.attributionProbability { w.key("attributionProbability"); w.number(p) }
        if let zone = v.zone { w.key("zone"); w.string(zone) }
        w.key("distanceToLineMeters"); w.number(v.distanceToLineMeters)
        w.key("at"); w.timestamp(v.at)
        w.key("probability"); w.number(v.probability)
        w.key("incidentStatus"); w.string(v.incidentStatus.rawValue)
        if let sector = v.sector { w.key("sector"); w.string(sector) }
        if let t = v.verifiedAt { w.key("verifiedAt"); w.timestamp(t) }
        w.key("endorsedBy"); w.beginArray(); for m in v.endorsedBy { w.string(m) }; w.endArray()
        w.key("endorsed"); w.bool(v.endorsed)
        w.key("contests"); w.beginArray(); for c in v.contests { w.raw(c.canonicalJSON) }; w.endArray()
        if let detail = v.detail { w.key("detail"); w.string(detail) }
        if let t = v.receivedLateAt { w.key("receivedLateAt"); w.timestamp(t) }
        if let joined = v.joinsIncidentId { w.key("joinsIncidentId"); w.string(joined) }
        w.endObject()
    }

    static func violation(_ value: JSONValue) throws -> Violation {
        let f = try JSONFields(value)
        func strings(_ key: String) throws -> [String] {
            try f.array(key).map { item in
                guard case .string(let s) = item else { throw SnapshotError("\(key): expected strings") }
                return s
            }
        }
        var v = Violation(
            id: try f.string("id"), incidentId: try f.string("incidentId"), rule: try f.string("rule"),
            severity: try f.enumeration("severity", as: Severity.self), attributedTo: try f.string("attributedTo"),
            attributionBasis: try f.string("attributionBasis"), zone: try f.optionalString("zone"),
            distanceToLineMeters: try f.number("distanceToLineMeters"), at: try f.timestamp("at"),
            probability: try f.number("probability"),
            incidentStatus: try f.enumeration("incidentStatus", as: IncidentStatus.self),
            sector: try f.optionalString("sector"), verifiedAt: try f.optionalTimestamp("verifiedAt"),
            endorsedBy: try strings("endorsedBy"), endorsed: try f.optionalBool("endorsed") ?? false,
            contests: try f.array("contests").map { try ReviewAction(json: $0) }, detail: try f.optionalString("detail")
        )
        v.receivedLateAt = try f.optionalTimestamp("receivedLateAt")
        v.joinsIncidentId = try f.optionalString("joinsIncidentId")
        v.attributionProbability = try f.optionalNumber("attributionProbability")
        return v
    }
}

extension JSONWriter {
    /// Writes a 64-bit integer exactly, as a string (JSON numbers are doubles: nanoseconds would lose digits).
    mutating func integer(_ value: Int64) { string(String(value)) }
}

extension JSONFields {
    /// A 64-bit integer written by ``JSONWriter/integer(_:)``.
    func int64(_ key: String) throws -> Int64 {
        guard let value = Int64(try string(key)) else {
            throw FieldError(path: path(key), reason: "expected a 64-bit integer in a string")
        }
        return value
    }
}

extension GuaranteeTrack {
    /// Sets the frontier of a restored track: the machine starts again over the ledger up to it.
    mutating func restore(frontier: Int64) {
        self.frontier = frontier
        mustRestart = true
    }
}
