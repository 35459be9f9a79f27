import Foundation

/// One edge of the ceasefire line between two vertices, precomputed for the nearest-point query.
///
/// Between its vertices the line follows the geodesic on WGS84. Up to a few hundred kilometres a geodesic is
/// indistinguishable (well under a millimetre for the line's ≤ 20 km edges) from the normal section: the curve cut
/// from the ellipsoid by the plane through both vertices and the point `origin` where the ellipsoid normal at the
/// edge's midpoint meets the polar axis. The nearest point of that curve to a point P is found by projecting P onto
/// the plane and back onto the ellipsoid from `origin`; P's geodesic distance to it follows from the chord.
struct LineSegment: Sendable {
    /// Start and end in ECEF metres.
    let start: Vector3
    let end: Vector3
    /// z of the plane's origin `(0, 0, originZ)` on the polar axis.
    let originZ: Double
    /// Unit normal of the section plane; a point is left of the edge (seen from above, walking start → end)
    /// when `(P − origin) · normal > 0`.
    let normal: Vector3
    /// `(P − origin) · pastStart ≥ 0` when P's projection lies beyond the start towards the end.
    let pastStart: Vector3
    /// `(P − origin) · beforeEnd ≥ 0` when P's projection lies before the end.
    let beforeEnd: Vector3
    /// Gaussian radius at the edge's latitude, to turn chords into arcs.
    let radius: Double
    /// Geodesic length of the edge and distance from the line's start to the edge's start, in metres.
    let length: Double
    let startAlong: Double

    /// The point of the edge a `fraction` (0…1) of the way along its chord, seen from `origin`: on the ellipsoid and
    /// on the edge's curve.
    func point(at fraction: Double) -> GeoPoint {
        let origin = Vector3(x: 0, y: 0, z: originZ)
        let d = start + (end - start) * fraction - origin
        // |origin + s d| on the ellipsoid: (s dx)² / a² + (s dy)² / a² + (oz + s dz)² / b² = 1.
        let a2 = WGS84.a * WGS84.a, b2 = a2 * (1 - WGS84.e2)
        let qa = (d.x * d.x + d.y * d.y) / a2 + d.z * d.z / b2
        let qb = 2 * originZ * d.z / b2
        let qc = originZ * originZ / b2 - 1
        let s = (-qb + (qb * qb - 4 * qa * qc).squareRoot()) / (2 * qa)
        return WGS84.geodetic(origin + d * s)
    }

    init(from a: GeoPoint, to b: GeoPoint, startAlong: Double) {
        start = WGS84.ecef(a)
        end = WGS84.ecef(b)
        let mid = WGS84.geodetic((start + end) * 0.5)
        let sinMid = sin(mid.lat * WGS84.degree)
        let nMid = WGS84.a / (1 - WGS84.e2 * sinMid * sinMid).squareRoot()
        originZ = -WGS84.e2 * nMid * sinMid
        let origin = Vector3(x: 0, y: 0, z: originZ)
        let a0 = start - origin
        let b0 = end - origin
        normal = a0.cross(b0).normalized
        pastStart = normal.cross(a0)
        beforeEnd = b0.cross(normal)
        radius = WGS84.gaussianRadius(latitude: mid.lat)
        length = WGS84.arc(chord: (end - start).length, radius: radius)
        self.startAlong = startAlong
    }

    /// Geodesic distance from a surface point to the nearest point of the edge, metres.
    func distance(to p: GeoPoint) -> Double {
        WGS84.arc(chord: nearest(to: WGS84.ecef(p)).chordSquared.squareRoot(), radius: radius)
    }

    /// Where the nearest point of this edge to `p` lies.
    enum Foot { case start, interior(Vector3), end }

    /// The nearest point of the edge to the surface point `p` (ECEF) and the squared chord to it.
    @inline(__always) func nearest(to p: Vector3) -> (foot: Foot, chordSquared: Double) {
        let rel = Vector3(x: p.x, y: p.y, z: p.z - originZ)
        if rel.dot(pastStart) < 0 { return (.start, (p - start).lengthSquared) }
        if rel.dot(beforeEnd) < 0 { return (.end, (p - end).lengthSquared) }
        let q = rel - normal * rel.dot(normal)
        // Scale q from the origin onto the ellipsoid: |(λqx, λqy, z0 + λqz)|_ellipsoid = 1.
        let inverseA2 = 1 / (WGS84.a * WGS84.a)
        let inverseB2 = 1 / (WGS84.b * WGS84.b)
        let qa = (q.x * q.x + q.y * q.y) * inverseA2 + q.z * q.z * inverseB2
        let qb = 2 * originZ * q.z * inverseB2
        let qc = originZ * originZ * inverseB2 - 1
        let lambda = (-qb + (qb * qb - 4 * qa * qc).squareRoot()) / (2 * qa)
        let foot = Vector3(x: lambda * q.x, y: lambda * q.y, z: originZ + lambda * q.z)
        return (.interior(foot), (p - foot).lengthSquared)
    }

    /// Signed side of `p`: positive left of the edge, negative right.
    @inline(__always) func sideValue(_ p: Vector3) -> Double {
        Vector3(x: p.x, y: p.y, z: p.z - originZ).dot(normal)
    }

    /// Distance along the edge from its start to an ECEF point on it.
    func along(_ foot: Foot) -> Double {
        switch foot {
        case .start: return 0
        case .end: return length
        case .interior(let f): return min(length, WGS84.arc(chord: (f - start).length, radius: radius))
        }
    }
}
