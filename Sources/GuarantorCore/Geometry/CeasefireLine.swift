import Foundation

/// Where a point lies relative to the ceasefire line.
public struct LinePosition: Sendable, Equatable {
    /// Geodesic distance on WGS84 to the nearest point of the line, in metres.
    public var distanceMeters: Double
    /// Geodesic length of the line from its start to that nearest point, in metres.
    public var alongLineMeters: Double
    /// Whether the point is on the left of the line, walking it from its start (seen from above).
    public var isLeft: Bool
}

/// A ceasefire line (one or more parts, each a polyline whose edges are WGS84 geodesics), indexed so that
/// `locate(_:)` answers "how far, how far along, which side" in a few hundred nanoseconds.
///
/// The index is a grid of small cells over the line's surroundings. Each cell keeps the edges that can be nearest to
/// any point inside it, sorted by a lower bound of their distance, so a query usually evaluates one or two edges.
/// Points outside the grid (farther than `indexedDistance` from the line's bounding box) are answered by
/// checking every edge: the same answer, only slower.
public struct CeasefireLine: Sendable {
    /// The parts of the line as given (after dropping repeated consecutive vertices).
    public let parts: [[GeoPoint]]
    /// The total geodesic length of all parts, in metres.
    public let lengthMeters: Double
    let segments: [LineSegment]
    let isFirstInPart: [Bool]
    let isLastInPart: [Bool]
    let turnsLeftAtEnd: [Bool]
    let grid: SegmentGrid

    /// The longest edge accepted; longer ones must be split into shorter ones first.
    public static let maximumEdgeMeters = 200_000.0

    /// Builds and indexes a line.
    /// - Parameters:
    ///   - parts: one array of vertices per part (a LineString has one part).
    ///   - indexedDistance: how far around the line the grid reaches (default 250 km); beyond it queries are slower.
    /// - Throws: ``GeometryError`` when a part has fewer than two distinct vertices, a coordinate is out of range,
    ///   an edge is longer than ``maximumEdgeMeters`` or the line crosses itself.
    public init(parts rawParts: [[GeoPoint]], indexedDistance: Double = 250_000) throws {
        if rawParts.isEmpty { throw GeometryError(path: "", reason: "the line has no parts") }
        var parts: [[GeoPoint]] = []
        for (partIndex, raw) in rawParts.enumerated() {
            var part: [GeoPoint] = []
            for (i, p) in raw.enumerated() {
                if let problem = GeoPoint.problem(lon: p.lon, lat: p.lat) {
                    throw GeometryError(path: "[\(partIndex)][\(i)]", reason: problem)
                }
                if part.last != p { part.append(p) }
            }
            if part.count < 2 {
                throw GeometryError(path: "[\(partIndex)]", reason: "a line part needs at least two distinct vertices")
            }
            parts.append(part)
        }
        try Self.checkSimple(parts)
        var segments: [LineSegment] = []
        var first: [Bool] = []
        var last: [Bool] = []
        var along = 0.0
        for (partIndex, part) in parts.enumerated() {
            for i in 0..<(part.count - 1) {
                let segment = LineSegment(from: part[i], to: part[i + 1], startAlong: along)
                if segment.length > Self.maximumEdgeMeters {
                    throw GeometryError(
                        path: "[\(partIndex)][\(i)]",
                        reason:
                            "edge of \(Int(segment.length)) m is longer than \(Int(Self.maximumEdgeMeters)) m; add vertices"
                    )
                }
                along += segment.length
                segments.append(segment)
                first.append(i == 0)
                last.append(i == part.count - 2)
            }
        }
        var turns = [Bool](repeating: false, count: segments.count)
        for i in segments.indices where !last[i] {
            turns[i] = segments[i].sideValue(segments[i + 1].end) > 0
        }
        self.parts = parts
        self.lengthMeters = along
        self.segments = segments
        self.isFirstInPart = first
        self.isLastInPart = last
        self.turnsLeftAtEnd = turns
        self.grid = SegmentGrid(segments: segments, vertices: parts.flatMap { $0 }, indexedDistance: indexedDistance)
    }

    /// Distance, position along the line and side of a point.
    public func locate(_ point: GeoPoint) -> LinePosition {
        let p = WGS84.ecef(point)
        var bestChordSquared = Double.infinity
        var bestIndex = 0
        var bestFoot = LineSegment.Foot.start
        segments.withUnsafeBufferPointer { segs in
            if let cell = grid.cell(lon: point.lon, lat: point.lat) {
                // d(p, edge) ≥ d(centre, edge) − d(p, centre); the chord to the centre, enlarged by a hair, bounds the
                // arc from above, and so does `bestUpper` for the best edge's distance so far.
                let fromCentre = (p - grid.centres[cell]).length * 1.000_001
                var bestUpper = Double.infinity
                grid.withCandidates(cell) { candidates in
                    for candidate in candidates {
                        if candidate.centreDistance - fromCentre >= bestUpper { break }
                        let index = Int(candidate.segment)
                        let (foot, chordSquared) = segs[index].nearest(to: p)
                        if chordSquared < bestChordSquared {
                            bestChordSquared = chordSquared
                            bestIndex = index
                            bestFoot = foot
                            // arc ≤ chord · (1 + chord² / (20 R²)) with R ≥ 6,300 km, far beyond the grid's reach.
                            bestUpper =
                                chordSquared.squareRoot() * (1 + chordSquared / (20 * 6_300_000.0 * 6_300_000.0))
                        }
                    }
                }
            } else {
                for index in segs.indices {
                    let (foot, chordSquared) = segs[index].nearest(to: p)
                    if chordSquared < bestChordSquared {
                        bestChordSquared = chordSquared
                        bestIndex = index
                        bestFoot = foot
                    }
                }
            }
        }
        let segment = segments[bestIndex]
        let distance = WGS84.arc(chord: bestChordSquared.squareRoot(), radius: segment.radius)
        return LinePosition(
            distanceMeters: distance,
            alongLineMeters: segment.startAlong + segment.along(bestFoot),
            isLeft: isLeft(p, segment: bestIndex, foot: bestFoot))
    }

    /// Side of `p` whose nearest point is on `segment`; at a shared vertex both edges and the turn decide.
    private func isLeft(_ p: Vector3, segment index: Int, foot: LineSegment.Foot) -> Bool {
        let own = segments[index].sideValue(p) > 0
        let (incoming, outgoing): (Int, Int)
        switch foot {
        case .interior: return own
        case .start:
            if isFirstInPart[index] { return own }
            (incoming, outgoing) = (index - 1, index)
        case .end:
            if isLastInPart[index] { return own }
            (incoming, outgoing) = (index, index + 1)
        }
        let leftOfIncoming = segments[incoming].sideValue(p) > 0
        let leftOfOutgoing = segments[outgoing].sideValue(p) > 0
        // Turning left, the left side is the inner wedge; turning right, it is the outer one.
        return turnsLeftAtEnd[incoming] ? (leftOfIncoming && leftOfOutgoing) : (leftOfIncoming || leftOfOutgoing)
    }

    /// Rejects a line that crosses or touches itself (in longitude/latitude), apart from shared vertices of
    /// consecutive edges.
    private static func checkSimple(_ parts: [[GeoPoint]]) throws {
        struct Edge {
            var a: GeoPoint; var b: GeoPoint; var part: Int; var index: Int; var minLon: Double; var maxLon: Double
        }
        var edges: [Edge] = []
        for (p, part) in parts.enumerated() {
            for i in 0..<(part.count - 1) {
                let a = part[i], b = part[i + 1]
                edges.append(Edge(a: a, b: b, part: p, index: i, minLon: min(a.lon, b.lon), maxLon: max(a.lon, b.lon)))
            }
        }
        edges.sort { ($0.minLon, $0.part, $0.index) < ($1.minLon, $1.part, $1.index) }
        func orient(_ p: GeoPoint, _ q: GeoPoint, _ r: GeoPoint) -> Double {
            (q.lon - p.lon) * (r.lat - p.lat) - (q.lat - p.lat) * (r.lon - p.lon)
        }
        func onSegment(_ p: GeoPoint, _ q: GeoPoint, _ r: GeoPoint) -> Bool {
            min(p.lon, q.lon) <= r.lon && r.lon <= max(p.lon, q.lon) && min(p.lat, q.lat) <= r.lat
                && r.lat <= max(p.lat, q.lat)
        }
        for i in edges.indices {
            let e = edges[i]
            var j = i + 1
            while j < edges.count && edges[j].minLon <= e.maxLon {
                let f = edges[j]
                j += 1
                if max(e.a.lat, e.b.lat) < min(f.a.lat, f.b.lat) || max(f.a.lat, f.b.lat) < min(e.a.lat, e.b.lat) {
                    continue
                }
                let adjacent = e.part == f.part && abs(e.index - f.index) == 1
                let d1 = orient(e.a, e.b, f.a), d2 = orient(e.a, e.b, f.b)
                let d3 = orient(f.a, f.b, e.a), d4 = orient(f.a, f.b, e.b)
                var crosses = false
                if adjacent {
                    // Consecutive edges share one vertex; they may not fold back along each other.
                    let shared = e.index < f.index ? e.b : e.a
                    let eOther = e.index < f.index ? e.a : e.b
                    let fOther = e.index < f.index ? f.b : f.a
                    let dx1 = eOther.lon - shared.lon, dy1 = eOther.lat - shared.lat
                    let dx2 = fOther.lon - shared.lon, dy2 = fOther.lat - shared.lat
                    crosses = dx1 * dy2 - dy1 * dx2 == 0 && dx1 * dx2 + dy1 * dy2 > 0
                } else if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
                    crosses = true
                } else {
                    crosses =
                        (d1 == 0 && onSegment(e.a, e.b, f.a)) || (d2 == 0 && onSegment(e.a, e.b, f.b))
                        || (d3 == 0 && onSegment(f.a, f.b, e.a)) || (d4 == 0 && onSegment(f.a, f.b, e.b))
                }
                if crosses {
                    let (x, y) = e.part == f.part ? (min(e.index, f.index), max(e.index, f.index)) : (e.index, f.index)
                    let where_ =
                        e.part == f.part
                        ? "edges \(x) and \(y) of part \(e.part)"
                        : "edge \(e.index) of part \(e.part) and edge \(f.index) of part \(f.part)"
                    throw GeometryError(
                        path: "", reason: "the line crosses itself: \(where_) meet near lon \(f.a.lon), lat \(f.a.lat)")
                }
            }
        }
    }
}

/// A geometry that cannot be used, with the JSON-path-like location of the offending element.
public struct GeometryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where in the coordinates (e.g. `[0][17]` = part 0, vertex 17); empty for the whole geometry.
    public var path: String
    /// What is wrong, in words.
    public var reason: String
    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}
