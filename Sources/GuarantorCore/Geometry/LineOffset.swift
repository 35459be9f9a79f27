import Foundation

extension CeasefireLine {
    /// The line moved sideways by `meters` (positive: to the left of the direction of travel, negative: to the right),
    /// one polyline per part: each vertex moves along the bisector of its two edges' normals, in the local tangent
    /// plane (a mitre join, limited to twice the distance at sharp turns).
    ///
    /// For drawing the edges of a zone on a map; the engine never uses it — it classifies by the exact geodesic
    /// distance to the line (``locate(_:)``).
    public func offset(by meters: Double) -> [[GeoPoint]] {
        parts.map { part in
            guard part.count >= 2 else { return part }
            // Unit normals (left of travel) of each edge, in local east/north metres.
            let normals = zip(part, part.dropFirst()).map { a, b -> (Double, Double) in
                let east = (b.lon - a.lon) * cos((a.lat + b.lat) / 2 * .pi / 180)
                let north = b.lat - a.lat
                let length = (east * east + north * north).squareRoot()
                return length == 0 ? (0, 0) : (-north / length, east / length)
            }
            return part.indices.map { i in
                let before = normals[max(i - 1, 0)], after = normals[min(i, normals.count - 1)]
                var (x, y) = (before.0 + after.0, before.1 + after.1)
                let length = (x * x + y * y).squareRoot()
                guard length > 0 else { return part[i] }
                (x, y) = (x / length, y / length)
                // The mitre: the distance along the bisector that keeps both edges `meters` away.
                let cosine = x * after.0 + y * after.1
                let reach = meters / max(cosine, 0.5)
                let radius = WGS84.gaussianRadius(latitude: part[i].lat)
                let lat = part[i].lat + y * reach / radius * 180 / .pi
                let lon = part[i].lon + x * reach / (radius * cos(part[i].lat * .pi / 180)) * 180 / .pi
                return GeoPoint(lon: lon, lat: lat)
            }
        }
    }
}
