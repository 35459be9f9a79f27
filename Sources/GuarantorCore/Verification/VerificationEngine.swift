import Foundation

/// Verification over complete inputs — observations in arrival order and people's decisions — and then the results:
/// ``MissionEngine`` fed everything and finished, for the callers that have it all at once.
///
/// How the engine correlates, grades, adjudicates and attributes is described on ``Correlator`` and
/// ``IncidentBuilder``, and for analysts in docs/VERIFICATION.md.
public struct VerificationEngine: Sendable {
    public let mission: Mission
    private var observations: [Observation] = []
    private var actions: [ReviewAction] = []

    private var indexOfId: [String: Int] = [:]

    public init(mission: Mission, indexingIds: Bool = false) { self.mission = mission }

    /// Feeds one observation (its id must be new).
    public mutating func add(_ observation: Observation) {
        indexOfId[observation.id] = observations.count
        observations.append(observation)
    }

    /// Whether an observation with this id has been fed.
    public func contains(_ id: String) -> Bool { indexOfId[id] != nil }

    /// What a reader may see of an incident: the incident itself when every observation is readable; when only some
    /// are, an incident of the same id, kind and status rebuilt from those alone; `nil` when none is.
    public func visiblePart(of incident: Incident, readable: (Observation) -> Bool) -> Incident? {
        let members = incident.observationIds.compactMap { indexOfId[$0].map { observations[$0] } }
        return IncidentBuilder(mission: mission).visiblePart(of: incident, members: members, readable: readable)
    }

    /// Records a decision by an analyst, a board member or a party; whether it applies is decided in ``results()``.
    public mutating func add(_ action: ReviewAction) { actions.append(action) }

    /// The incidents so far, by (start, id), the violations they make, by (at, id), and what became of each action.
    public func results() -> VerificationResults {
        var options = MissionEngine.Options()
        for a in actions {
            options.pinnedIncidents.formUnion([a.target] + a.mergedIncidents)
            options.pinnedObservations.formUnion(a.splitObservations)
        }
        var verification = mission
        verification.coalition = nil
        var engine = MissionEngine(mission: verification, options: options)
        for o in observations { engine.add(o) }
        for a in actions { engine.add(.review(a)) }
        engine.finish()
        var fold = ResultFold(standingFindings: engine.standingFindings)
        fold.apply(engine.takeChanges())
        return fold.verification
    }

    /// `I` and 16 hexadecimal digits of the SHA-256 of the id of the incident's earliest observation.
    public static func incidentId(firstObservation id: String) -> String {
        IncidentKey.incidentId(IncidentKey.of(observationId: id))
    }

    /// Records sorted by a (time, id) key. Sorting indices and then gathering moves each large record once, where
    /// sorting the records themselves would move them many times.
    static func sorted<T>(_ records: [T], by key: (T) -> (Timestamp, String)) -> [T] {
        let keys = records.map(key)
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        return order.map { records[$0] }
    }

    /// The most frequent of `cases` by `tally` (same order), ties to the later case (the more specific); `nil` when
    /// every count is 0.
    static func mostCommon<T>(_ tally: ArraySlice<Int>, of cases: [T]) -> T? {
        var best = 0, bestIndex = -1
        for (offset, n) in tally.enumerated() where n >= best && n > 0 {
            best = n
            bestIndex = offset
        }
        return bestIndex < 0 ? nil : cases[bestIndex]
    }

    /// Inverse-variance weighted mean of points with stated uncertainties (floor 1 m).
    static func fuse(_ points: [(Vector3, Double)]) -> Location {
        var sum = Vector3(x: 0, y: 0, z: 0)
        var weights = 0.0
        for (p, u) in points {
            let w = 1 / (max(u, 1) * max(u, 1))
            sum = sum + p * w
            weights += w
        }
        let point = WGS84.geodetic(sum * (1 / weights))
        return Location(
            point: GeoPoint(lon: (point.lon * 1e7).rounded() / 1e7, lat: (point.lat * 1e7).rounded() / 1e7),
            uncertaintyMeters: ((1 / weights).squareRoot() * 10).rounded() / 10)
    }

    /// P(distance ≤ halfWidth) when the stated uncertainty is a 95 % radius (≈ 2σ) across the line.
    static func probabilityInside(distance: Double, uncertainty: Double, halfWidth: Double) -> Double {
        let sigma = max(uncertainty, 1) / 2
        return 0.5 * erfc(-(halfWidth - distance) / (sigma * 2.0.squareRoot()))
    }

    /// The probability that a point estimated `distance` metres from the line lies on the side the estimate is on,
    /// when the stated uncertainty is a 95 % radius (≈ 2σ) across the line.
    static func sideProbability(distance: Double, uncertainty: Double) -> Double {
        // The estimate's error must stay within `distance` across the line.
        probabilityInside(distance: 0, uncertainty: uncertainty, halfWidth: distance)
    }

    /// The error of a reported bearing, at 95 % (degrees): it widens a crossing's uncertainty with the range.
    static let bearingUncertaintyDegrees = 10.0

    /// Least-squares crossing of bearing lines in a local plane, if at least two differ by 15° or more.
    static func intersect(_ rays: [(GeoPoint, Double)]) -> GeoPoint? {
        let angles = rays.map(\.1)
        guard
            angles.contains(where: { a in
                angles.contains { b in
                    let d = abs((a - b).truncatingRemainder(dividingBy: 180))
                    return min(d, 180 - d) >= 15
                }
            })
        else { return nil }
        let origin = rays[0].0
        let kx = 111_320 * cos(origin.lat * .pi / 180), ky = 110_574.0
        // Minimise the sum of squared distances to the lines through (x, y) with direction (sin θ, cos θ).
        var a11 = 0.0, a12 = 0.0, a22 = 0.0, b1 = 0.0, b2 = 0.0
        for (p, bearing) in rays {
            let x = (p.lon - origin.lon) * kx, y = (p.lat - origin.lat) * ky
            let dx = sin(bearing * .pi / 180), dy = cos(bearing * .pi / 180)
            // Projector onto the line's normal: I − d dᵀ.
            let m11 = 1 - dx * dx, m12 = -dx * dy, m22 = 1 - dy * dy
            a11 += m11; a12 += m12; a22 += m22
            b1 += m11 * x + m12 * y; b2 += m12 * x + m22 * y
        }
        let det = a11 * a22 - a12 * a12
        guard abs(det) > 1e-9 else { return nil }
        let x = (a22 * b1 - a12 * b2) / det, y = (a11 * b2 - a12 * b1) / det
        // The crossing must lie ahead of every observer, not behind.
        for (p, bearing) in rays {
            let px = (p.lon - origin.lon) * kx, py = (p.lat - origin.lat) * ky
            if (x - px) * sin(bearing * .pi / 180) + (y - py) * cos(bearing * .pi / 180) <= 0 { return nil }
        }
        return GeoPoint(lon: origin.lon + x / kx, lat: origin.lat + y / ky)
    }
}
