import Foundation

/// Two candidate lines side by side under one agreement: how long each is, how far apart they run, and which
/// settlements would lie on another party's side. Sides follow the mission's rule (``Mission/classify(_:)``: the
/// nearest point of the line, and the parties' reference points), so a settlement changes side exactly when the
/// engine would classify it differently.
public struct LineComparison: Sendable {
    /// A line compared: its name, and the mission as it would be under it.
    public struct Candidate: Sendable {
        public var id: String
        public var title: String
        public var mission: Mission

        public init(id: String, title: String, mission: Mission) {
            self.id = id
            self.title = title
            self.mission = mission
        }
    }

    /// How far one line runs from the other: sampled every ``sampleSpacingMeters`` along it.
    public struct Separation: Sendable, Equatable {
        public var maximumMeters: Double
        public var meanMeters: Double
        /// Where the maximum is reached.
        public var farthestPoint: GeoPoint
    }

    /// A settlement that lies on one party's side under line A and on the other's under line B.
    public struct Change: Sendable, Equatable {
        public var settlement: Settlement
        /// Party ids.
        public var from: String
        public var to: String
        public var distanceToA: Double
        public var distanceToB: Double
        /// Its position along line A, metres (what the list is sorted by).
        public var alongA: Double
    }

    public let a: Candidate
    public let b: Candidate
    public let aToB: Separation
    public let bToA: Separation
    /// Settlements considered, and those that change side, by distance along line A (then name).
    public let settlementCount: Int
    public let changes: [Change]
    /// The region between the lines and what of it passes to each party (``AreaBetweenLines``).
    let area: AreaBetweenLines
    /// How a stored record reads under each line, when one was given.
    public let record: RecordComparison?

    /// Samples along a line are at most this far apart.
    public static let sampleSpacingMeters = 100.0

    /// Compares line A with line B (both missions of the same agreement) over `settlements`, and over a record
    /// already compared under both (``RecordComparison``).
    public init(a: Candidate, b: Candidate, settlements: [Settlement], record: RecordComparison? = nil) {
        self.record = record
        self.a = a
        self.b = b
        aToB = Self.separation(of: a.mission.line, from: b.mission.line)
        bToA = Self.separation(of: b.mission.line, from: a.mission.line)
        settlementCount = settlements.count
        let parties = a.mission.agreement.parties.map(\.id)
        var changes: [Change] = []
        for s in settlements {
            let underA = a.mission.classify(s.point), underB = b.mission.classify(s.point)
            guard underA.party != underB.party else { continue }
            changes.append(
                Change(
                    settlement: s, from: parties[underA.party], to: parties[underB.party],
                    distanceToA: underA.distanceToLineMeters, distanceToB: underB.distanceToLineMeters,
                    alongA: underA.alongLineMeters))
        }
        changes.sort { ($0.alongA, $0.settlement.name) < ($1.alongA, $1.settlement.name) }
        self.changes = changes
        area = AreaBetweenLines(a: a.mission, b: b.mission)
    }

    /// The area that passes to each party (lies on its side under B and on the other's under A), km², by party id.
    public var areaToPartyKm2: [String: Double] {
        let parties = a.mission.agreement.parties.map(\.id)
        return Dictionary(uniqueKeysWithValues: parties.indices.map { (parties[$0], area.toParty[$0] / 1e6) })
    }

    /// The polygons between the lines, as `(from, to, km²)`, in the order areas.geojson lists them.
    public var lobes: [(from: String, to: String, areaKm2: Double, ring: [GeoPoint])] {
        let parties = a.mission.agreement.parties.map(\.id)
        var out: [(from: String, to: String, areaKm2: Double, ring: [GeoPoint])] = []
        for lobe in area.lobes {
            for p in parties.indices where (lobe.toParty[p] / 1e6 * 1000).rounded() > 0 {
                out.append((parties[1 - p], parties[p], lobe.toParty[p] / 1e6, lobe.ring))
            }
        }
        return out
    }

    /// The largest and mean distance from points of `line` to `other`, sampled along every edge.
    static func separation(of line: CeasefireLine, from other: CeasefireLine) -> Separation {
        var maximum = 0.0, sum = 0.0, count = 0
        var farthest = line.parts[0][0]
        func sample(_ p: GeoPoint) {
            let d = other.locate(p).distanceMeters
            sum += d
            count += 1
            if d > maximum {
                maximum = d
                farthest = p
            }
        }
        for (i, segment) in line.segments.enumerated() {
            let steps = max(1, Int((segment.length / sampleSpacingMeters).rounded(.up)))
            for k in 0..<steps { sample(segment.point(at: Double(k) / Double(steps))) }
            if line.isLastInPart[i] { sample(segment.point(at: 1)) }
        }
        return Separation(
            maximumMeters: maximum, meanMeters: count > 0 ? sum / Double(count) : 0, farthestPoint: farthest)
    }

    // MARK: Files

    /// summary.json.
    public var summary: JSONValue {
        let parties = a.mission.agreement.parties.map(\.id)
        func line(_ c: Candidate) -> JSONValue {
            .object([
                "id": .string(c.id), "title": .string(c.title),
                "lengthMeters": .number((c.mission.line.lengthMeters).rounded()),
            ])
        }
        func separation(_ s: Separation) -> JSONValue {
            .object([
                "maximumMeters": .number(s.maximumMeters.rounded()), "meanMeters": .number(s.meanMeters.rounded()),
                "farthestPoint": .array([
                    .number(Self.round(s.farthestPoint.lon)), .number(Self.round(s.farthestPoint.lat)),
                ]),
            ])
        }
        var toParty: [String: JSONValue] = [:]
        var population: [String: JSONValue] = [:]
        for p in parties {
            let gained = changes.filter { $0.to == p }
            toParty[p] = .number(Double(gained.count))
            let known = gained.compactMap(\.settlement.population)
            population[p] = known.isEmpty ? .null : .number(Double(known.reduce(0, +)))
        }
        let sectorNames = a.mission.sectors.names
        var perSector: [JSONValue] = []
        for (i, row) in area.bySector.enumerated() where row.contains(where: { ($0 / 1e3).rounded() > 0 }) {
            perSector.append(
                .object([
                    "sector": i < sectorNames.count ? .string(sectorNames[i]) : .null,
                    "toPartyKm2": .object(
                        Dictionary(uniqueKeysWithValues: parties.indices.map { (parties[$0], Self.km2(row[$0])) })),
                ]))
        }
        var members: [String: JSONValue] = [
            "a": line(a), "b": line(b),
            "area": .object([
                "toPartyKm2": .object(
                    Dictionary(uniqueKeysWithValues: parties.indices.map { (parties[$0], Self.km2(area.toParty[$0])) })),
                "perSector": .array(perSector), "polygons": .number(Double(lobes.count)),
            ]),
            "distance": .object(["aToB": separation(aToB), "bToA": separation(bToA)]),
            "settlements": .object([
                "considered": .number(Double(settlementCount)), "changed": .number(Double(changes.count)),
                "toParty": .object(toParty), "populationToParty": .object(population),
            ]),
        ]
        if let record { members["record"] = record.summary(mission: a.mission) }
        return .object(members)
    }

    /// settlements.ndjson: one line per settlement that changes side, by distance along line A.
    public var settlementLines: [UInt8] {
        var w = JSONWriter()
        for c in changes {
            w.beginObject()
            w.key("name"); w.string(c.settlement.name)
            if let region = c.settlement.region { w.key("region"); w.string(region) }
            w.key("lon"); w.number(c.settlement.point.lon)
            w.key("lat"); w.number(c.settlement.point.lat)
            if let population = c.settlement.population { w.key("population"); w.int(population) }
            w.key("from"); w.string(c.from)
            w.key("to"); w.string(c.to)
            w.key("distanceToA"); w.number(c.distanceToA, decimals: 0)
            w.key("distanceToB"); w.number(c.distanceToB, decimals: 0)
            w.endObject()
            w.newline()
        }
        return w.bytes
    }

    /// summary.md: the same for people, with the ten largest changes named (by population where the gazetteer
    /// gives one, else by how deep inside the other side they lie: the distance to line B).
    public var markdown: String {
        let parties = a.mission.agreement.parties.map(\.id)
        func km(_ m: Double) -> String { String(format: "%.1f km", m / 1000) }
        var text = "# \(a.title) against \(b.title)\n\n"
        text += "| | \(a.id) | \(b.id) |\n| --- | --- | --- |\n"
        text += "| length | \(km(a.mission.line.lengthMeters)) | \(km(b.mission.line.lengthMeters)) |\n"
        text += "| farthest from the other line | \(km(aToB.maximumMeters)) | \(km(bToA.maximumMeters)) |\n"
        text += "| mean distance from the other line | \(km(aToB.meanMeters)) | \(km(bToA.meanMeters)) |\n\n"
        let areas = areaToPartyKm2
        text += "Between the lines, "
        text += parties.map { p in String(format: "**%.1f km²** pass to %@", areas[p] ?? 0, p) }
            .joined(separator: ", ")
        text += " (\(lobes.count) polygon\(lobes.count == 1 ? "" : "s") in areas.geojson).\n\n"
        text += "Of \(settlementCount) settlements, **\(changes.count)** lie on another party's side under \(b.id)"
        text += " than under \(a.id): "
        text += parties.map { p in "\(changes.filter { $0.to == p }.count) pass to \(p)" }.joined(separator: ", ")
        text += ".\n\n"
        if let record {
            let r = record.observations, i = record.incidents
            func sides(_ p: RecordComparison.Placement) -> String {
                parties.indices.map { "\(p.sideChangedTo[$0]) to \(parties[$0])" }.joined(separator: ", ")
            }
            text += "Of the stored record, \(r.compared) observations and \(i.compared) incidents were replayed under"
            text += " both lines: observations on another side \(sides(r)); incidents \(sides(i)).\n\n"
            text += "| rule | findings under \(a.id) | under \(b.id) | only under \(a.id) | only under \(b.id) |"
            text += " attributed otherwise |\n| --- | --- | --- | --- | --- | --- |\n"
            for (rule, c) in record.rules {
                text += "| \(rule) | \(c.underA) | \(c.underB) | \(c.onlyUnderA) | \(c.onlyUnderB) |"
                text += " \(c.attributionChanged) |\n"
            }
            text += "\n"
        }
        let largest = changes.sorted {
            ($0.settlement.population ?? -1, $0.distanceToB, $1.settlement.name)
                > ($1.settlement.population ?? -1, $1.distanceToB, $0.settlement.name)
        }.prefix(10)
        if !largest.isEmpty {
            text += "The ten largest changes:\n\n| settlement | region | from | to | to \(a.id) | to \(b.id) |\n"
            text += "| --- | --- | --- | --- | --- | --- |\n"
            for c in largest {
                text += "| \(c.settlement.name) | \(c.settlement.region ?? "") | \(c.from) | \(c.to) |"
                text += " \(km(c.distanceToA)) | \(km(c.distanceToB)) |\n"
            }
        }
        return text
    }

    private static func round(_ degrees: Double) -> Double { (degrees * 1e6).rounded() / 1e6 }
    /// Square metres as km², to 0.001 km².
    private static func km2(_ m2: Double) -> JSONValue { .number((m2 / 1e3).rounded() / 1e3) }

    /// areas.geojson: one Polygon feature per region between the lines and party it passes to, with `from`, `to`
    /// and `areaKm2` (what of it passes; 0.001 km²), in the order of the walk along line A.
    public var areasGeoJSON: [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("type"); w.string("FeatureCollection")
        w.key("features")
        w.beginArray()
        for lobe in lobes {
            w.beginObject()
            w.key("type"); w.string("Feature")
            w.key("properties")
            w.beginObject()
            w.key("from"); w.string(lobe.from)
            w.key("to"); w.string(lobe.to)
            w.key("areaKm2"); w.number(lobe.areaKm2, decimals: 3)
            w.endObject()
            w.key("geometry")
            w.beginObject()
            w.key("type"); w.string("Polygon")
            w.key("coordinates")
            w.beginArray()
            w.beginArray()
            // RFC 7946: an exterior ring runs counter-clockwise, and closes on its first position.
            var ring = lobe.ring
            var twiceArea = 0.0
            for i in ring.indices {
                let p = ring[i], q = ring[(i + 1) % ring.count]
                twiceArea += p.lon * q.lat - q.lon * p.lat
            }
            if twiceArea < 0 { ring.reverse() }
            for p in ring + [ring[0]] {
                w.beginArray(); w.number(p.lon, decimals: 6); w.number(p.lat, decimals: 6); w.endArray()
            }
            w.endArray()
            w.endArray()
            w.endObject()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.newline()
        return w.bytes
    }
}
