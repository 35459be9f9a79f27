import Foundation

/// The region between two lines, and how much of it passes from one party's side to the other's.
///
/// **Closing the region.** Two candidate lines rarely end at the same places. The region between them is the ring
/// formed by line A, a straight connector from A's end to B's end, line B walked backwards, and a straight connector
/// from B's start back to A's start; B is turned round first when that makes the two connectors shorter. The parts of
/// a MultiLineString are joined in their order. Edges follow their own geodesic curves (densified to ≤ 1 km), then
/// count as straight in longitude and latitude.
///
/// **Lobes.** Where two edges of the ring cross (A with B, mostly; a connector with a line too), the ring is cut into
/// lobes (the polygons of areas.geojson): walking the ring, a crossing met a second time closes the loop since its
/// first visit. Lobes can overlap (where the ring winds round a place twice); the area is their union, each place
/// counted once, for one lobe.
///
/// **Area.** The lobes are scanned together in rows ``rowDegrees`` of latitude high; the inside of a row (even–odd) is cut
/// into pieces of at most ``pieceMeters``, and a piece counts where its midpoint lies on one party's side under A and
/// the other's under B (the mission's rule, ``Mission/classify(_:)``): toward B's party, in the sector of the
/// midpoint under A. Each piece's area is the ellipsoid's own (M·N·cos φ dφ dλ). So a part of the ring where both
/// lines give the same side — near a connector beyond one line's end — passes nothing.
struct AreaBetweenLines: Sendable {
    /// One loop of the ring, and what of it passes to each party (m², by party index).
    struct Lobe: Sendable {
        var ring: [GeoPoint]
        var toParty: [Double]
    }

    var lobes: [Lobe]
    /// m² by party index.
    var toParty: [Double]
    /// m² by sector index (the last entry: outside every sector), then party index.
    var bySector: [[Double]]

    /// Row height, degrees of latitude (about 100 m).
    static let rowDegrees = 0.0009
    /// The longest piece of a row classified as one.
    static let pieceMeters = 1_000.0
    /// Edges are densified to at most this length along their own curves.
    static let densifyMeters = 1_000.0

    init(a: Mission, b: Mission) {
        let ring = Self.ring(a.line, b.line)
        let lobes = Self.lobes(of: ring)
        let parties = a.agreement.parties.count
        var toParty = [Double](repeating: 0, count: parties)
        var bySector = [[Double]](
            repeating: [Double](repeating: 0, count: parties), count: a.sectors.names.count + 1)
        var own = [[Double]](repeating: [Double](repeating: 0, count: parties), count: lobes.count)
        Self.scan(lobes) { point, area, lobe in
            let underA = a.classify(point), underB = b.classify(point)
            guard underA.party != underB.party else { return }
            own[lobe][underB.party] += area
            toParty[underB.party] += area
            let sector = underA.sector >= 0 ? Int(underA.sector) : bySector.count - 1
            bySector[sector][underB.party] += area
        }
        let measured = zip(lobes, own).filter { $0.1.contains { $0 > 0 } }.map { Lobe(ring: $0.0, toParty: $0.1) }
        self.lobes = measured
        self.toParty = toParty
        self.bySector = bySector
    }

    // MARK: The ring

    /// A line's vertices, its parts joined in order, every edge densified along its own curve.
    static func densified(_ line: CeasefireLine) -> [GeoPoint] {
        var points: [GeoPoint] = []
        var part = 0
        for (i, segment) in line.segments.enumerated() {
            let steps = max(1, Int((segment.length / densifyMeters).rounded(.up)))
            for k in 0..<steps { points.append(segment.point(at: Double(k) / Double(steps))) }
            if line.isLastInPart[i] {
                points.append(line.parts[part].last!)
                part += 1
            }
        }
        return points
    }

    /// A, then B backwards (B turned round first when that makes the two connectors shorter); closed from its last
    /// vertex to its first.
    static func ring(_ a: CeasefireLine, _ b: CeasefireLine) -> [GeoPoint] {
        let pa = densified(a)
        var pb = densified(b)
        let kept = WGS84.distance(pa[0], pb[0]) + WGS84.distance(pa.last!, pb.last!)
        let turned = WGS84.distance(pa[0], pb.last!) + WGS84.distance(pa.last!, pb[0])
        if turned < kept { pb.reverse() }
        return pa + pb.reversed()
    }

    /// A point of the walk round the ring: a vertex, or a crossing of A and B (`node`).
    private struct Step {
        var point: GeoPoint
        var node: Int?
        /// Its place in the walk (lobes are listed by the first step they hold: along line A).
        var index: Int
    }

    /// The ring cut into loops where any two of its edges cross.
    static func lobes(of ring: [GeoPoint]) -> [[GeoPoint]] {
        let n = ring.count
        // Edge e runs from ring[e] to ring[(e + 1) % n]. Crossings are looked for between any two edges by a grid of
        // 0.05°, each found once (parameters in [0, 1) on both).
        let cell = 0.05
        func key(_ x: Int, _ y: Int) -> Int64 { Int64(x) << 32 | Int64(UInt32(bitPattern: Int32(y))) }
        var grid: [Int64: [Int32]] = [:]
        func cells(_ e: Int) -> (ClosedRange<Int>, ClosedRange<Int>) {
            let p = ring[e], q = ring[(e + 1) % n]
            let x0 = Int((min(p.lon, q.lon) / cell).rounded(.down)), x1 = Int((max(p.lon, q.lon) / cell).rounded(.down))
            let y0 = Int((min(p.lat, q.lat) / cell).rounded(.down)), y1 = Int((max(p.lat, q.lat) / cell).rounded(.down))
            return (x0...x1, y0...y1)
        }
        for e in 0..<n {
            let (xs, ys) = cells(e)
            for x in xs { for y in ys { grid[key(x, y), default: []].append(Int32(e)) } }
        }
        var crossings: [[(t: Double, node: Int, point: GeoPoint)]] = Array(repeating: [], count: n)
        var node = 0
        var seen = [Int](repeating: -1, count: n)
        for e in 0..<n {
            let (xs, ys) = cells(e)
            for x in xs {
                for y in ys {
                    for f32 in grid[key(x, y)] ?? [] {
                        let f = Int(f32)
                        // Each pair once; neighbours share a vertex and do not cross.
                        guard f > e + 1, !(e == 0 && f == n - 1), seen[f] != e else { continue }
                        seen[f] = e
                        guard let (t, u, point) = crossing(ring[e], ring[(e + 1) % n], ring[f], ring[(f + 1) % n])
                        else { continue }
                        crossings[e].append((t, node, point))
                        crossings[f].append((u, node, point))
                        node += 1
                    }
                }
            }
        }
        // Walk the ring; a crossing met again closes the loop since its first visit.
        var stack: [Step] = []
        var onStack: [Int: Int] = [:]
        var loops: [(first: Int, ring: [GeoPoint])] = []
        var walked = 0
        for e in 0..<n {
            var steps = [Step(point: ring[e], node: nil, index: walked)]
            for c in crossings[e].sorted(by: { ($0.t, $0.node) < ($1.t, $1.node) }) {
                steps.append(Step(point: c.point, node: c.node, index: walked + steps.count))
            }
            walked += steps.count
            for step in steps {
                if let k = step.node, let at = onStack[k] {
                    let loop = stack[at...]
                    for s in stack[(at + 1)...] { if let m = s.node { onStack[m] = nil } }
                    if loop.count >= 3 { loops.append((loop.first!.index, loop.map(\.point))) }
                    stack.removeSubrange((at + 1)...)
                } else {
                    if let k = step.node { onStack[k] = stack.count }
                    stack.append(step)
                }
            }
        }
        if stack.count >= 3 { loops.append((stack[0].index, stack.map(\.point))) }
        return loops.sorted { $0.first < $1.first }.map(\.ring)
    }

    /// Where segments pq and rs cross: the parameters along each, in [0, 1), and the point.
    static func crossing(_ p: GeoPoint, _ q: GeoPoint, _ r: GeoPoint, _ s: GeoPoint) -> (Double, Double, GeoPoint)? {
        let dx1 = q.lon - p.lon, dy1 = q.lat - p.lat, dx2 = s.lon - r.lon, dy2 = s.lat - r.lat
        let denominator = dx1 * dy2 - dy1 * dx2
        // Nearly parallel edges (shared stretches of two lines) do not cross.
        guard abs(denominator) > 1e-12 * (dx1 * dx1 + dy1 * dy1).squareRoot() * (dx2 * dx2 + dy2 * dy2).squareRoot()
        else { return nil }
        let ex = r.lon - p.lon, ey = r.lat - p.lat
        let t = (ex * dy2 - ey * dx2) / denominator
        let u = (ex * dy1 - ey * dx1) / denominator
        guard t >= 0, t < 1, u >= 0, u < 1 else { return nil }
        return (t, u, GeoPoint(lon: p.lon + t * dx1, lat: p.lat + t * dy1))
    }

    // MARK: Scanning

    /// Calls `piece` with the midpoint, area (m²) and lobe of every piece of the loops' union, row by row. Each loop's
    /// inside is even–odd; where loops overlap, a piece counts once, for the loop whose inside starts farther west on
    /// that row (the lower index on a tie).
    static func scan(_ loops: [[GeoPoint]], piece: (GeoPoint, Double, Int) -> Void) {
        var edges: [(y0: Double, y1: Double, p: GeoPoint, q: GeoPoint, loop: Int)] = []
        for (l, loop) in loops.enumerated() {
            let n = loop.count
            for i in 0..<n {
                let p = loop[i], q = loop[(i + 1) % n]
                guard p.lat != q.lat else { continue }
                edges.append((min(p.lat, q.lat), max(p.lat, q.lat), p, q, l))
            }
        }
        guard !edges.isEmpty else { return }
        edges.sort { $0.y0 < $1.y0 }
        let top = edges.map(\.y1).max()!
        var row = Int((edges[0].y0 / rowDegrees).rounded(.down))
        var next = 0
        var active: [Int] = []
        var crossings: [(loop: Int, x: Double)] = []
        var insides: [(x0: Double, x1: Double, loop: Int)] = []
        let degree = Double.pi / 180
        while true {
            let y = (Double(row) + 0.5) * rowDegrees
            if y >= top { break }
            while next < edges.count && edges[next].y0 <= y {
                active.append(next)
                next += 1
            }
            active.removeAll { edges[$0].y1 <= y }
            crossings.removeAll(keepingCapacity: true)
            for i in active {
                let e = edges[i]
                crossings.append((e.loop, e.p.lon + (y - e.p.lat) / (e.q.lat - e.p.lat) * (e.q.lon - e.p.lon)))
            }
            crossings.sort { ($0.loop, $0.x) < ($1.loop, $1.x) }
            insides.removeAll(keepingCapacity: true)
            var k = 0
            while k + 1 < crossings.count {
                // A loop crosses a row an even number of times; its insides are pairs from the west.
                if crossings[k].loop == crossings[k + 1].loop {
                    insides.append((crossings[k].x, crossings[k + 1].x, crossings[k].loop))
                    k += 2
                } else {
                    k += 1
                }
            }
            insides.sort { ($0.x0, $0.loop) < ($1.x0, $1.loop) }
            // The ellipsoid's radii of curvature at this latitude: M along the meridian, N across it.
            let sinPhi = sin(y * degree)
            let w = 1 - WGS84.e2 * sinPhi * sinPhi
            let metresPerDegreeLon = WGS84.a / w.squareRoot() * cos(y * degree) * degree
            let rowMetres = WGS84.a * (1 - WGS84.e2) / (w * w.squareRoot()) * degree * rowDegrees
            var covered = -Double.infinity
            for inside in insides {
                let x0 = max(inside.x0, covered), x1 = inside.x1
                guard x1 > x0 else { continue }
                covered = x1
                let width = (x1 - x0) * metresPerDegreeLon
                let count = max(1, Int((width / pieceMeters).rounded(.up)))
                let step = (x1 - x0) / Double(count)
                for j in 0..<count {
                    piece(
                        GeoPoint(lon: x0 + (Double(j) + 0.5) * step, lat: y), step * metresPerDegreeLon * rowMetres,
                        inside.loop)
                }
            }
            row += 1
        }
    }
}
