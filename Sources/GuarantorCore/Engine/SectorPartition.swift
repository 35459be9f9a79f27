import Foundation

/// A part of the mission's work: a set of sectors, and the halo around them whose observations it needs too.
///
/// The engine's work is split by sector so that each sector can have one writer. A partition's engine is fed every
/// observation that lies in its sectors or within the halo of them (``feeds(_:)``), and is told of every other one
/// (``MissionEngine/noteElsewhere(_:)``), so that its watermark — and with it lateness and sealing — is the
/// mission's. An incident *belongs* to the partition that holds the sector of its earliest observation, the one its
/// id is made from (``owns(_:)``): every incident belongs to exactly one partition, and each partition publishes only
/// its own. Correlation reaches at most ``VerificationPolicy/maximumLinkMeters`` (25 km) plus stated uncertainties
/// per link, so a halo of 50 km holds every group that does not chain across more than that; a partition reports the
/// incidents it owns that come within 25 km of its halo's edge (``atEdge(_:)``), where that could fail.
public struct SectorPartition: Sendable {
    public let sectors: Set<Int32>
    public let haloMeters: Double
    private let mission: Mission
    /// Over a grid of cells: the sectors within the halo of each cell, and those within the halo less one link.
    private let minLon: Double, minLat: Double
    private let columns: Int, rows: Int
    private let near: [Bool]
    private let inner: [Bool]
    private static let cellDegrees = 0.05

    /// A partition of `sectors` (``Classification/sector`` indices; -1 stands for the points outside every sector).
    /// Its grid covers the line's surroundings (4° around it); a point beyond is fed by its own sector only.
    public init(mission: Mission, sectors: Set<Int32>, haloMeters: Double = 50_000) {
        self = Self.split(mission: mission, into: [sectors], haloMeters: haloMeters)[0]
    }

    /// The partitions of several sets of sectors (the grid's sectors are found once for all).
    public static func split(mission: Mission, into groups: [Set<Int32>], haloMeters: Double = 50_000)
        -> [SectorPartition]
    {
        let grid = Grid(mission: mission)
        return groups.map { SectorPartition(mission: mission, sectors: $0, haloMeters: haloMeters, grid: grid) }
    }

    /// The sector of each cell's centre over the line's surroundings.
    private struct Grid {
        var minLon: Double, minLat: Double, columns: Int, rows: Int
        var sectorOfCell: [Int32]

        init(mission: Mission) {
            let points = mission.line.parts.flatMap { $0 }
            minLon = (points.map(\.lon).min() ?? 0) - 4
            minLat = (points.map(\.lat).min() ?? 0) - 4
            let maxLon = (points.map(\.lon).max() ?? 0) + 4, maxLat = (points.map(\.lat).max() ?? 0) + 4
            columns = Int(((maxLon - minLon) / SectorPartition.cellDegrees).rounded(.up))
            rows = Int(((maxLat - minLat) / SectorPartition.cellDegrees).rounded(.up))
            sectorOfCell = []
            sectorOfCell.reserveCapacity(columns * rows)
            for r in 0..<rows {
                for c in 0..<columns {
                    let p = GeoPoint(
                        lon: minLon + (Double(c) + 0.5) * SectorPartition.cellDegrees,
                        lat: minLat + (Double(r) + 0.5) * SectorPartition.cellDegrees)
                    sectorOfCell.append(mission.classify(p).sector)
                }
            }
        }
    }

    private init(mission: Mission, sectors: Set<Int32>, haloMeters: Double, grid: Grid) {
        self.mission = mission
        self.sectors = sectors
        self.haloMeters = haloMeters
        let (minLon, minLat, columns, rows) = (grid.minLon, grid.minLat, grid.columns, grid.rows)
        self.minLon = minLon
        self.minLat = minLat
        self.columns = columns
        self.rows = rows
        // The cells whose centre lies in one of the sectors, then grown by the halo (and by one cell's diagonal,
        // so that no point of a cell is missed).
        let mine = grid.sectorOfCell.map { sectors.contains($0) }
        near = Self.grow(mine, by: haloMeters, columns: columns, rows: rows, minLat: minLat)
        inner = Self.grow(
            mine, by: max(haloMeters - VerificationPolicy.maximumLinkMeters, 0), columns: columns, rows: rows,
            minLat: minLat)
    }

    private static func grow(_ mine: [Bool], by meters: Double, columns: Int, rows: Int, minLat: Double) -> [Bool] {
        var out = mine
        let dLat = Int((meters / 110_000 / Self.cellDegrees).rounded(.up)) + 1
        for r in 0..<rows {
            let lat = minLat + (Double(r) + 0.5) * Self.cellDegrees
            let dLon =
                Int(
                    (meters / (110_000 * max(cos(min(abs(lat) + 1, 89) * .pi / 180), 0.01)) / Self.cellDegrees)
                        .rounded(.up)) + 1
            for c in 0..<columns where mine[r * columns + c] {
                for rr in max(0, r - dLat)...min(rows - 1, r + dLat) {
                    for cc in max(0, c - dLon)...min(columns - 1, c + dLon) { out[rr * columns + cc] = true }
                }
            }
        }
        return out
    }

    private func cell(_ p: GeoPoint) -> Int? {
        let c = Int(((p.lon - minLon) / Self.cellDegrees).rounded(.down))
        let r = Int(((p.lat - minLat) / Self.cellDegrees).rounded(.down))
        guard c >= 0, c < columns, r >= 0, r < rows else { return nil }
        return r * columns + c
    }

    /// Whether this partition's engine needs the observation: it lies in one of the sectors, or within the halo.
    public func feeds(_ observation: Observation) -> Bool {
        let p = observation.location.point
        guard let cell = cell(p) else { return sectors.contains(mission.classify(p).sector) }
        return near[cell] || sectors.contains(mission.classify(p).sector)
    }

    /// Whether an incident belongs to this partition: the sector of its earliest observation is one of its own.
    public func owns(_ record: IncidentRecord, earliest: Observation) -> Bool {
        sectors.contains(mission.classify(earliest.location.point).sector)
    }

    /// Whether an incident has an observation in the outer 25 km of the halo (where a chain of links might reach
    /// past what this partition sees).
    public func atEdge(_ members: [Observation]) -> Bool {
        members.contains { o in
            guard let cell = cell(o.location.point) else { return false }
            return !inner[cell]
        }
    }
}

extension MissionEngine {
    /// Tells a partition's engine of an observation fed to another partition: its watermark moves as if it had been
    /// fed (lateness and sealing follow the mission's watermark), nothing else.
    public mutating func noteElsewhere(_ observation: Observation) {
        let t = observation.observedAt.nanoseconds
        if t > latestTime { latestTime = t }
        if !correlator.isLate(t) {
            correlator.noteTimely(t)
            sealDueFromElsewhere()
        }
    }
}
