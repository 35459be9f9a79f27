/// A point on the WGS84 ellipsoid in degrees: longitude east, latitude north (GeoJSON order).
public struct GeoPoint: Hashable, Sendable {
    /// Longitude in degrees, −180…180.
    public var lon: Double
    /// Latitude in degrees, −90…90.
    public var lat: Double

    /// Creates a point without checking its range; use ``validated(lon:lat:)`` for input.
    public init(lon: Double, lat: Double) {
        self.lon = lon
        self.lat = lat
    }

    /// Why a coordinate pair is not a point on the Earth, or `nil` when it is one.
    public static func problem(lon: Double, lat: Double) -> String? {
        if !lon.isFinite || !lat.isFinite { return "coordinates must be finite numbers" }
        if !(-180...180).contains(lon) { return "lon \(lon) is outside -180…180" }
        if !(-90...90).contains(lat) { return "lat \(lat) is outside -90…90" }
        return nil
    }
}

/// A vector in Earth-centred, Earth-fixed coordinates (metres).
struct Vector3: Sendable {
    var x: Double
    var y: Double
    var z: Double

    @inline(__always) static func - (l: Vector3, r: Vector3) -> Vector3 {
        Vector3(x: l.x - r.x, y: l.y - r.y, z: l.z - r.z)
    }
    @inline(__always) static func + (l: Vector3, r: Vector3) -> Vector3 {
        Vector3(x: l.x + r.x, y: l.y + r.y, z: l.z + r.z)
    }
    @inline(__always) static func * (l: Vector3, s: Double) -> Vector3 { Vector3(x: l.x * s, y: l.y * s, z: l.z * s) }
    @inline(__always) func dot(_ o: Vector3) -> Double { x * o.x + y * o.y + z * o.z }
    @inline(__always) func cross(_ o: Vector3) -> Vector3 {
        Vector3(x: y * o.z - z * o.y, y: z * o.x - x * o.z, z: x * o.y - y * o.x)
    }
    @inline(__always) var lengthSquared: Double { dot(self) }
    var length: Double { lengthSquared.squareRoot() }
    var normalized: Vector3 { self * (1 / length) }
}
