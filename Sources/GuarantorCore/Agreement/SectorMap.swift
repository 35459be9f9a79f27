import Foundation

/// How points are assigned to sectors: named polygons (e.g. oblasts), or stretches of the line of a fixed length.
public enum SectorMap: Sendable {
    /// Stretches along the line, named by kilometre range (`km 0-50`, `km 50-100`, …) by the nearest point's position.
    case alongLine(stretchMeters: Double, names: [String])
    /// Named polygons; a point in none of them has no sector.
    case areas(AreaIndex)

    /// Stretches of `stretchMeters` covering a line of `lineLength` metres.
    public static func stretches(of stretchMeters: Double, lineLength: Double) -> SectorMap {
        let count = max(1, Int((lineLength / stretchMeters).rounded(.up)))
        let km = stretchMeters / 1000
        func label(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
        return .alongLine(
            stretchMeters: stretchMeters,
            names: (0..<count).map { "km \(label(Double($0) * km))-\(label(Double($0 + 1) * km))" })
    }

    /// All sector names, in order.
    public var names: [String] {
        switch self {
        case .alongLine(_, let names): names
        case .areas(let index): index.names
        }
    }

    /// The index of the sector of a point at `alongLineMeters`, or `nil` for none.
    @inline(__always) public func sector(of point: GeoPoint, alongLineMeters: Double) -> Int? {
        switch self {
        case .alongLine(let stretch, let names): min(names.count - 1, Int(alongLineMeters / stretch))
        case .areas(let index): index.area(containing: point)
        }
    }
}

/// Point-in-polygon for a set of named areas, in longitude/latitude (GeoJSON's straight edges), with a grid.
///
/// Each cell of a 0.1° grid knows which area contains its centre and which edges pass through it. A point's area
/// follows from its cell's centre by counting the edges crossed on the way from the centre to the point, per area.
public struct AreaIndex: Sendable {
    public let names: [String]
    struct Edge: Sendable { var a: GeoPoint; var b: GeoPoint; var area: Int32 }
    let minLon: Double
    let minLat: Double
    let cell: Double
    let columns: Int
    let rows: Int
    /// Lowest-indexed area containing each cell's centre, or -1.
    let centerArea: [Int32]
    /// For each cell, the areas with edges in it and whether the centre is inside each.
    let cellAreaStart: [Int32]
    let cellAreas: [(area: Int32, centerInside: Bool)]
    let cellEdgeStart: [Int32]
    let cellEdges: [Edge]

    public init(areas: [GeoJSON.NamedArea], cellDegrees: Double = 0.1) {
        names = areas.map(\.name)
        var edges: [Edge] = []
        var lo = GeoPoint(lon: .infinity, lat: .infinity)
        var hi = GeoPoint(lon: -.infinity, lat: -.infinity)
        for (k, area) in areas.enumerated() {
            for polygon in area.polygons {
                for ring in polygon {
                    for i in 0..<(ring.count - 1) where ring[i] != ring[i + 1] {
                        edges.append(Edge(a: ring[i], b: ring[i + 1], area: Int32(k)))
                        lo = GeoPoint(lon: min(lo.lon, ring[i].lon), lat: min(lo.lat, ring[i].lat))
                        hi = GeoPoint(lon: max(hi.lon, ring[i].lon), lat: max(hi.lat, ring[i].lat))
                    }
                }
            }
        }
        if edges.isEmpty { lo = GeoPoint(lon: 0, lat: 0); hi = lo }
        minLon = lo.lon
        minLat = lo.lat
        cell = cellDegrees
        columns = max(1, Int(((hi.lon - lo.lon) / cellDegrees).rounded(.up)) + 1)
        rows = max(1, Int(((hi.lat - lo.lat) / cellDegrees).rounded(.up)) + 1)
        var perCell = [[Int32]](repeating: [], count: columns * rows)
        for (e, edge) in edges.enumerated() {
            let x0 = Int((min(edge.a.lon, edge.b.lon) - lo.lon) / cellDegrees),
                x1 = Int((max(edge.a.lon, edge.b.lon) - lo.lon) / cellDegrees)
            let y0 = Int((min(edge.a.lat, edge.b.lat) - lo.lat) / cellDegrees),
                y1 = Int((max(edge.a.lat, edge.b.lat) - lo.lat) / cellDegrees)
            for y in y0...min(y1, rows - 1) {
                for x in x0...min(x1, columns - 1) { perCell[y * columns + x].append(Int32(e)) }
            }
        }
        // Which areas contain each cell centre: a ray cast over every edge crossing the centre's latitude.
        var centre = [Int32](repeating: -1, count: columns * rows)
        var areaStart: [Int32] = [0]
        var areaList: [(area: Int32, centerInside: Bool)] = []
        var edgeStart: [Int32] = [0]
        var edgeList: [Edge] = []
        var rowEdges = [[Int32]](repeating: [], count: rows)
        for (e, edge) in edges.enumerated() {
            for y in 0..<rows {
                let lat = lo.lat + (Double(y) + 0.5) * cellDegrees
                if (edge.a.lat > lat) != (edge.b.lat > lat) { rowEdges[y].append(Int32(e)) }
            }
        }
        for y in 0..<rows {
            let lat = lo.lat + (Double(y) + 0.5) * cellDegrees
            for x in 0..<columns {
                let lon = lo.lon + (Double(x) + 0.5) * cellDegrees
                var inside = [Bool](repeating: false, count: areas.count)
                for e in rowEdges[y] {
                    let edge = edges[Int(e)]
                    let crossLon =
                        edge.a.lon + (lat - edge.a.lat) / (edge.b.lat - edge.a.lat) * (edge.b.lon - edge.a.lon)
                    if crossLon > lon { inside[Int(edge.area)].toggle() }
                }
                let k = y * columns + x
                centre[k] = Int32(inside.firstIndex(of: true) ?? -1)
                let cellEdgeIds = perCell[k]
                let areasHere = Set(cellEdgeIds.map { edges[Int($0)].area }).sorted()
                for area in areasHere { areaList.append((area, inside[Int(area)])) }
                areaStart.append(Int32(areaList.count))
                for e in cellEdgeIds.sorted(by: { (edges[Int($0)].area, $0) < (edges[Int($1)].area, $1) }) {
                    edgeList.append(edges[Int(e)])
                }
                edgeStart.append(Int32(edgeList.count))
            }
        }
        centerArea = centre
        cellAreaStart = areaStart
        cellAreas = areaList
        cellEdgeStart = edgeStart
        cellEdges = edgeList
    }

    /// The index of the lowest-numbered area containing the point, or `nil`.
    public func area(containing p: GeoPoint) -> Int? {
        let fx = (p.lon - minLon) / cell, fy = (p.lat - minLat) / cell
        guard fx >= 0, fy >= 0, fx < Double(columns), fy < Double(rows) else { return nil }
        let x = Int(fx), y = Int(fy)
        let k = y * columns + x
        let c = GeoPoint(lon: minLon + (Double(x) + 0.5) * cell, lat: minLat + (Double(y) + 0.5) * cell)
        let areaRange = Int(cellAreaStart[k])..<Int(cellAreaStart[k + 1])
        if areaRange.isEmpty { return centerArea[k] < 0 ? nil : Int(centerArea[k]) }
        // Parity of crossings of the segment point→centre, per area with edges in this cell.
        var best = Int.max
        let centreOwner = Int(centerArea[k])
        var edgeIndex = Int(cellEdgeStart[k])
        let edgeEnd = Int(cellEdgeStart[k + 1])
        var centreOwnerHasEdges = false
        for slot in areaRange {
            let (area, centreInside) = cellAreas[slot]
            if Int(area) == centreOwner { centreOwnerHasEdges = true }
            var inside = centreInside
            while edgeIndex < edgeEnd && cellEdges[edgeIndex].area == area {
                if Self.crosses(p, c, cellEdges[edgeIndex].a, cellEdges[edgeIndex].b) { inside.toggle() }
                edgeIndex += 1
            }
            if inside { best = min(best, Int(area)) }
        }
        if centreOwner >= 0 && !centreOwnerHasEdges { best = min(best, centreOwner) }
        return best == Int.max ? nil : best
    }

    @inline(__always) static func crosses(_ p: GeoPoint, _ q: GeoPoint, _ a: GeoPoint, _ b: GeoPoint) -> Bool {
        func orient(_ o: GeoPoint, _ u: GeoPoint, _ v: GeoPoint) -> Double {
            (u.lon - o.lon) * (v.lat - o.lat) - (u.lat - o.lat) * (v.lon - o.lon)
        }
        return (orient(p, q, a) > 0) != (orient(p, q, b) > 0) && (orient(a, b, p) > 0) != (orient(a, b, q) > 0)
    }
}
