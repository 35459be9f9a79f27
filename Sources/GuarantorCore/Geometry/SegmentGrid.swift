import Foundation

/// A longitude/latitude grid over a line's surroundings; each cell lists the edges that can be nearest to a point in
/// it, with a lower bound of their distance, nearest first.
///
/// Built in two levels: for a block of 8 × 8 cells the edges that can be nearest anywhere in the block, then for each
/// cell the subset of those that can be nearest in the cell. For an edge s, a cell with centre c and radius r (the
/// farthest a point of the cell can be from c), and any point p in the cell: `d(p,s) ≥ d(c,s) − r` (triangle
/// inequality), so s is a candidate only if `d(c,s) − r ≤ min over edges of d(c,·) + r`.
struct SegmentGrid: Sendable {
    struct Candidate: Sendable {
        var segment: Int32
        /// The edge's geodesic distance from the cell's centre, less the safety margin: for a point p,
        /// `centreDistance − d(p, centre)` is a lower bound of its distance to the edge.
        var centreDistance: Double
    }

    let minLon: Double
    let minLat: Double
    let cellDegrees: Double
    let columns: Int
    let rows: Int
    /// `candidates[cellStart[k]..<cellStart[k+1]]` are cell k's candidates.
    let cellStart: [Int32]
    /// Each cell's centre in ECEF.
    let centres: [Vector3]
    let candidates: [Candidate]

    static let blockCells = 8
    /// Safety margin (metres) on every bound, far above the distance formula's centimetre error.
    static let margin = 1.0

    init(segments: [LineSegment], vertices: [GeoPoint], indexedDistance: Double) {
        var lo = GeoPoint(lon: .infinity, lat: .infinity)
        var hi = GeoPoint(lon: -.infinity, lat: -.infinity)
        for v in vertices {
            lo = GeoPoint(lon: min(lo.lon, v.lon), lat: min(lo.lat, v.lat))
            hi = GeoPoint(lon: max(hi.lon, v.lon), lat: max(hi.lat, v.lat))
        }
        let latMargin = indexedDistance / 110_000
        let south = max(-89.0, lo.lat - latMargin)
        let north = min(89.0, hi.lat + latMargin)
        let widestCos = max(0.05, min(cos(south * WGS84.degree), cos(north * WGS84.degree)))
        let lonMargin = latMargin / widestCos
        let west = max(-180.0, lo.lon - lonMargin)
        let east = min(180.0, hi.lon + lonMargin)
        // About 5 km cells, coarser for lines so large that the grid would pass 300,000 cells.
        var cell = 0.05
        while ((east - west) / cell) * ((north - south) / cell) > 300_000 { cell *= 2 }
        let block = Double(Self.blockCells) * cell
        let blockColumns = Int(((east - west) / block).rounded(.up))
        let blockRows = Int(((north - south) / block).rounded(.up))
        columns = blockColumns * Self.blockCells
        rows = blockRows * Self.blockCells
        minLon = west
        minLat = south
        cellDegrees = cell

        var perCell = [[Candidate]](repeating: [], count: columns * rows)
        var centres = [Vector3](repeating: Vector3(x: 0, y: 0, z: 0), count: columns * rows)
        var distances = [Double](repeating: 0, count: segments.count)
        for by in 0..<blockRows {
            for bx in 0..<blockColumns {
                let blockWest = west + Double(bx) * block
                let blockSouth = south + Double(by) * block
                let (center, radius) = Self.disc(west: blockWest, south: blockSouth, size: block)
                let c = WGS84.ecef(center)
                var nearest = Double.infinity
                for i in segments.indices {
                    distances[i] = Self.distance(c, segments[i])
                    nearest = min(nearest, distances[i])
                }
                let blockCandidates = segments.indices.filter { distances[$0] - radius <= nearest + radius }
                for cy in 0..<Self.blockCells {
                    for cx in 0..<Self.blockCells {
                        let (cellCenter, cellRadius) = Self.disc(
                            west: blockWest + Double(cx) * cell, south: blockSouth + Double(cy) * cell, size: cell)
                        let cc = WGS84.ecef(cellCenter)
                        let cellIndex = (by * Self.blockCells + cy) * columns + bx * Self.blockCells + cx
                        centres[cellIndex] = cc
                        var found: [(index: Int, distance: Double)] = []
                        found.reserveCapacity(blockCandidates.count)
                        var cellNearest = Double.infinity
                        for i in blockCandidates {
                            let d = Self.distance(cc, segments[i])
                            found.append((i, d))
                            cellNearest = min(cellNearest, d)
                        }
                        let kept = found.filter { $0.distance - cellRadius <= cellNearest + cellRadius }
                            .sorted { ($0.distance, $0.index) < ($1.distance, $1.index) }
                        perCell[cellIndex] = kept.map {
                            Candidate(segment: Int32($0.index), centreDistance: $0.distance - Self.margin)
                        }
                    }
                }
            }
        }
        var starts: [Int32] = [0]
        starts.reserveCapacity(perCell.count + 1)
        var flat: [Candidate] = []
        for list in perCell {
            flat.append(contentsOf: list)
            starts.append(Int32(flat.count))
        }
        cellStart = starts
        candidates = flat
        self.centres = centres
    }

    /// The centre of a cell and a radius that covers every point of it (the farthest corner, plus margins).
    private static func disc(west: Double, south: Double, size: Double) -> (GeoPoint, Double) {
        let center = GeoPoint(lon: west + size / 2, lat: south + size / 2)
        let corners = [
            GeoPoint(lon: west, lat: south), GeoPoint(lon: west + size, lat: south),
            GeoPoint(lon: west, lat: south + size), GeoPoint(lon: west + size, lat: south + size),
        ]
        let farthest = corners.map { WGS84.distance(center, $0) }.max()!
        return (center, farthest * 1.01 + margin)
    }

    private static func distance(_ p: Vector3, _ segment: LineSegment) -> Double {
        WGS84.arc(chord: segment.nearest(to: p).chordSquared.squareRoot(), radius: segment.radius)
    }

    /// The cell containing a point, or `nil` outside the grid.
    @inline(__always) func cell(lon: Double, lat: Double) -> Int? {
        let x = (lon - minLon) / cellDegrees
        let y = (lat - minLat) / cellDegrees
        guard x >= 0, y >= 0, x < Double(columns), y < Double(rows) else { return nil }
        return Int(y) * columns + Int(x)
    }

    @inline(__always) func withCandidates<R>(_ cell: Int, _ body: (UnsafeBufferPointer<Candidate>) -> R) -> R {
        candidates.withUnsafeBufferPointer { all in
            let start = Int(cellStart[cell])
            let end = Int(cellStart[cell + 1])
            return body(UnsafeBufferPointer(rebasing: all[start..<end]))
        }
    }
}
