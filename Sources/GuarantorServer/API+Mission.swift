import Foundation
import GuarantorCore
import GuarantorStore
import Hummingbird

/// The mission as configured: the coalition, the agreement, its line and zones.
extension GuarantorAPI {
    /// The coalition as configured; for a key holder, each logistics pledge also with what was delivered and how
    /// many continuity alerts it raised (the coalition's business, so not the public's).
    func coalitionJSON(for caller: EventStore.KeyHolder) async -> String {
        guard let c = state.mission.coalition else { return #"{"members":[]}"# }
        let deployed = c.deployed(at: WallClock.now())
        let guarantee = caller == .publicReader ? nil : await state.guarantee()
        let value: JSONValue = .object([
            "members": .array(
                c.members.map { .object(["id": .string($0.id), "name": .string($0.name), "role": .string($0.role)]) }),
            "pledges": .array(
                c.pledges.map { p in
                    var o: [String: JSONValue] = [
                        "id": .string(p.id), "member": .string(p.member), "pillar": .string(p.pillar.rawValue),
                    ]
                    if let kind = p.supportKind { o["kind"] = .string(kind.rawValue) }
                    if let quantity = p.quantity { o["quantity"] = .number(quantity) }
                    if let level = p.fromLevel { o["fromLevel"] = .number(Double(level)) }
                    if p.pillar == .logistics {
                        if let item = p.item { o["item"] = .string(item) }
                        if let unit = p.unit { o["unit"] = .string(unit) }
                        if let days = p.periodDays { o["periodDays"] = .number(days) }
                        if let g = guarantee {
                            o["delivered"] = .number(g.delivered[p.id] ?? 0)
                            o["continuityAlerts"] = .number(
                                Double(g.alerts.filter { $0.kind == .continuity && $0.pledgeId == p.id }.count))
                        }
                    }
                    return .object(o)
                }),
            "deterrenceForce": .object([
                "ceiling": .number(Double(c.ceiling)),
                "pledged": .object(c.contributions.mapValues { .number(Double($0)) }),
                "deployed": .object(deployed.mapValues { .number(Double($0)) }),
            ]),
            "protectedSites": .array(
                c.sites.map {
                    .object([
                        "id": .string($0.id), "kind": .string($0.kind.rawValue), "name": .string($0.name),
                        "location": .object(["lon": .number($0.location.lon), "lat": .number($0.location.lat)]),
                        "radiusMeters": .number($0.radiusMeters),
                    ])
                }),
        ])
        return value.prettyPrinted
    }

    /// A line's parts as a FeatureCollection of LineStrings (the agreement's unless another is given), each feature with
    /// `properties` (empty for the agreement's line; id and title for a candidate).
    func lineGeoJSON(_ line: CeasefireLine? = nil, properties: [(String, String)] = []) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("type"); w.string("FeatureCollection")
        w.key("features")
        w.beginArray()
        for part in (line ?? state.mission.line).parts {
            w.beginObject()
            w.key("type"); w.string("Feature")
            w.key("properties")
            w.beginObject()
            for (key, value) in properties { w.key(dynamic: key); w.string(value) }
            w.endObject()
            w.key("geometry")
            w.beginObject()
            w.key("type"); w.string("LineString")
            w.key("coordinates")
            w.beginArray()
            for p in part {
                w.beginArray(); w.number(p.lon); w.number(p.lat); w.endArray()
            }
            w.endArray()
            w.endObject()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// The candidate lines the mission keeps (lines.json), without a mission directory only the agreement's.
    func candidateLines() throws -> CandidateLines? {
        guard let directory = missionDirectory else { return nil }
        do {
            return try CandidateLines(directory: directory)
        } catch let error as ConfigurationError {
            throw APIError(.serviceUnavailable, "the mission's lines cannot be read: \(error)")
        }
    }

    /// `GET /lines`: each line's id, title, source, date and length, the agreement's first.
    func linesList() throws -> [UInt8] {
        guard let lines = try candidateLines() else {
            let value: JSONValue = .object([
                "lines": .array([
                    .object([
                        "id": .string(CandidateLines.agreementId), "title": .string(state.mission.agreement.title),
                        "lengthMeters": .number(state.mission.line.lengthMeters.rounded()), "agreement": .bool(true),
                    ])
                ])
            ])
            return Array(value.prettyPrinted.utf8)
        }
        do {
            return Array(try lines.listing(base: state.mission).prettyPrinted.utf8)
        } catch let error as ConfigurationError {
            throw APIError(.serviceUnavailable, "the mission's lines cannot be read: \(error)")
        }
    }

    /// `GET /lines/{id}`: a line as GeoJSON.
    func lineById(_ id: String) throws -> [UInt8] {
        if id == CandidateLines.agreementId {
            return lineGeoJSON(properties: [("id", id), ("title", state.mission.agreement.title)])
        }
        guard let lines = try candidateLines(), let entry = lines.entry(id) else {
            throw APIError(.notFound, "no line \(id)")
        }
        do {
            let mission = try lines.mission(id, base: state.mission)
            return lineGeoJSON(mission.line, properties: [("id", entry.id), ("title", entry.title)])
        } catch let error as ConfigurationError {
            throw APIError(.serviceUnavailable, "line \(id) cannot be read: \(error)")
        }
    }

    /// `GET /lines/compare?a=ID&b=ID`: summary.json of `guarantor lines compare` for two of the mission's lines, over
    /// the gazetteer the mission directory holds (settlements.tsv in GeoNames' format or settlements.geojson), and over
    /// the stored record as the caller may read it: only observations its member may read are replayed, so every count
    /// is one the reader could make itself.
    func linesCompare(_ request: Request, _ caller: EventStore.KeyHolder) async throws -> [UInt8] {
        try Self.allowParameters(request, ["a", "b"])
        let q = request.uri.queryParameters
        guard let a = q.get("a"), let b = q.get("b") else {
            throw APIError(.badRequest, "a and b: give the ids of the two lines to compare (GET /lines lists them)")
        }
        guard let lines = try candidateLines() else {
            throw APIError(.notFound, "the server was started without a mission directory: it keeps no candidate lines")
        }
        func candidate(_ id: String, _ name: String) throws -> LineComparison.Candidate {
            guard let entry = lines.entry(id) else {
                throw APIError(
                    .notFound, "\(name): no line \"\(id)\" (lines: \(lines.entries.map(\.id).joined(separator: ", ")))")
            }
            do {
                return .init(id: entry.id, title: entry.title, mission: try lines.mission(id, base: state.mission))
            } catch let error as ConfigurationError {
                throw APIError(.serviceUnavailable, "line \(id) cannot be read: \(error)")
            }
        }
        let lineA = try candidate(a, "a"), lineB = try candidate(b, "b")
        var places: [Settlement] = []
        for name in ["settlements.tsv", "settlements.geojson"] {
            guard let directory = missionDirectory,
                let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path)
            else { continue }
            do {
                places = try Gazetteer.read(Array(data))
            } catch let error as FieldError {
                throw APIError(.serviceUnavailable, "the mission's \(name) cannot be read: \(error)")
            }
            break
        }
        let store = state.store, member = caller.member
        /// Readable restricted observations, counted on one thread and read after both finished.
        final class RestrictedCount: @unchecked Sendable {
            private let lock = NSLock()
            private var count = 0
            func add() { lock.withLock { count += 1 } }
            var value: Int { lock.withLock { count } }
        }
        let result = try await lineComparisons.result(
            .init(a: a, b: b, member: member),
            isCurrent: { try !store.hasRecords(after: $0.through) }
        ) { [places] in
            // Up to the log's head as it is now; the two replays stream it from the store.
            let through = try store.writtenHead()
            let actions = try store.actions(upTo: through)
            let restricted = RestrictedCount()
            let readable: @Sendable (Observation) -> Bool = { Releasability.canRead(member: member, $0) }
            let record = try RecordComparison(
                a: lineA.mission, b: lineB.mission, actions: actions,
                records: { line, body in
                    try store.forEachRecord(upTo: through) { _, r in
                        // Counted once, on line A's pass.
                        if line == 0, case .observation(let o) = r, readable(o), Releasability.isRestricted(o) {
                            restricted.add()
                        }
                        body(r)
                    }
                }, readable: readable)
            let comparison = LineComparison(a: lineA, b: lineB, settlements: places, record: record)
            return .init(
                summary: Array(comparison.summary.prettyPrinted.utf8), through: through, restricted: restricted.value)
        }
        if result.restricted > 0 { try audit(caller, "/lines/compare", records: result.restricted) }
        return result.summary
    }

    /// The mission's sectors as GeoJSON: its sector polygons as the mission directory holds them, or, for sectors
    /// along the line, one LineString per stretch (cut at the first vertex past each boundary: a backdrop, not a
    /// measure) with its `name`.
    func sectorsGeoJSON() throws -> [UInt8] {
        switch state.mission.agreement.sectors {
        case .areas(let path):
            guard let directory = missionDirectory,
                let data = FileManager.default.contents(atPath: directory.appendingPathComponent(path).path)
            else {
                throw APIError(.notFound, "the sectors' file \(path) is not in a mission directory this server reads")
            }
            return Array(data)
        case .alongLine(let stretch):
            let names = state.mission.sectors.names
            var w = JSONWriter()
            w.beginObject()
            w.key("type"); w.string("FeatureCollection")
            w.key("features")
            w.beginArray()
            var along = 0.0
            var current: [GeoPoint] = []
            var index = 0
            func flush() {
                guard current.count >= 2 else { return }
                w.beginObject()
                w.key("type"); w.string("Feature")
                w.key("properties"); w.beginObject(); w.key("name"); w.string(names[min(index, names.count - 1)])
                w.endObject()
                w.key("geometry"); w.beginObject(); w.key("type"); w.string("LineString")
                w.key("coordinates"); w.beginArray()
                for p in current { w.beginArray(); w.number(p.lon); w.number(p.lat); w.endArray() }
                w.endArray(); w.endObject()
                w.endObject()
            }
            for part in state.mission.line.parts {
                current = [part[0]]
                for (p, q) in zip(part, part.dropFirst()) {
                    along += WGS84.distance(p, q)
                    current.append(q)
                    if Int(along / stretch) > index {
                        flush()
                        index = Int(along / stretch)
                        current = [q]
                    }
                }
                flush()
            }
            w.endArray()
            w.endObject()
            return w.bytes
        }
    }

    /// One Feature per zone: a MultiLineString of its left and right edges (each part of the line moved sideways by
    /// the half-width), with the zone's id, half-width and prohibitions as properties.
    func zonesGeoJSON() -> [UInt8] {
        let agreement = state.mission.agreement
        let line = state.mission.line
        var w = JSONWriter()
        w.beginObject()
        w.key("type"); w.string("FeatureCollection")
        w.key("features")
        w.beginArray()
        for zone in agreement.zones {
            w.beginObject()
            w.key("type"); w.string("Feature")
            w.key("id"); w.string(zone.id)
            w.key("properties")
            w.beginObject()
            w.key("id"); w.string(zone.id)
            w.key("halfWidthMeters"); w.number(zone.halfWidthMeters)
            w.key("prohibitedActivities")
            w.beginArray(); for a in zone.prohibitedActivities { w.string(a.rawValue) }; w.endArray()
            w.key("prohibitedWeaponClasses")
            w.beginArray(); for c in zone.prohibitedWeaponClasses { w.string(c.rawValue) }; w.endArray()
            w.endObject()
            w.key("geometry")
            w.beginObject()
            w.key("type"); w.string("MultiLineString")
            w.key("coordinates")
            w.beginArray()
            for edge in line.offset(by: zone.halfWidthMeters) + line.offset(by: -zone.halfWidthMeters) {
                w.beginArray()
                for p in edge { w.beginArray(); w.number(p.lon); w.number(p.lat); w.endArray() }
                w.endArray()
            }
            w.endArray()
            w.endObject()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

}
