/// Reading the geometries the agreement needs out of GeoJSON (RFC 7946).
public enum GeoJSON {
    /// The parts of a LineString or MultiLineString given as a geometry, a Feature, or a FeatureCollection with
    /// exactly one feature.
    public static func lineParts(_ value: JSONValue, path: String = "") throws -> [[GeoPoint]] {
        let geometry = try singleGeometry(value, path: path)
        let type = try geometry.string("type")
        let coordinates = try geometry.array("coordinates")
        switch type {
        case "LineString":
            return [try positions(coordinates, path: geometry.path("coordinates"))]
        case "MultiLineString":
            return try coordinates.enumerated().map { i, part in
                guard case .array(let items) = part else {
                    throw FieldError(
                        path: geometry.path("coordinates") + "[\(i)]", reason: "expected an array of positions")
                }
                return try positions(items, path: geometry.path("coordinates") + "[\(i)]")
            }
        default:
            throw FieldError(path: geometry.path("type"), reason: "\"\(type)\" is not a LineString or MultiLineString")
        }
    }

    /// A named polygon or multipolygon: its rings, outer ring first for each polygon.
    public struct NamedArea: Sendable {
        public var name: String
        /// Polygons, each a list of rings (the first the outer boundary, the rest holes).
        public var polygons: [[[GeoPoint]]]
    }

    /// The Polygon and MultiPolygon features of a FeatureCollection, named by the first of `nameProperties` present.
    public static func namedAreas(_ value: JSONValue, nameProperties: [String] = ["name", "shapeName"]) throws
        -> [NamedArea]
    {
        let root = try JSONFields(value)
        guard try root.string("type") == "FeatureCollection" else {
            throw FieldError(path: "type", reason: "expected a FeatureCollection of named polygons")
        }
        var seen: Set<String> = []
        return try root.array("features").enumerated().map { i, item in
            let feature = try JSONFields(item, path: "features[\(i)]")
            let properties = try feature.object("properties")
            guard
                let name = nameProperties.lazy.compactMap({ key -> String? in
                    if case .string(let s)? = properties.members[key], !s.isEmpty { return s }
                    return nil
                }).first
            else {
                throw FieldError(
                    path: properties.path, reason: "no name (one of \(nameProperties.joined(separator: ", ")))")
            }
            guard seen.insert(name).inserted else {
                throw FieldError(path: properties.path, reason: "duplicate sector name \"\(name)\"")
            }
            let geometry = try feature.object("geometry")
            let type = try geometry.string("type")
            let coordinates = try geometry.array("coordinates")
            let cpath = geometry.path("coordinates")
            switch type {
            case "Polygon": return NamedArea(name: name, polygons: [try rings(coordinates, path: cpath)])
            case "MultiPolygon":
                return NamedArea(
                    name: name,
                    polygons: try coordinates.enumerated().map { j, polygon in
                        guard case .array(let r) = polygon else {
                            throw FieldError(path: cpath + "[\(j)]", reason: "expected an array of rings")
                        }
                        return try rings(r, path: cpath + "[\(j)]")
                    })
            default:
                throw FieldError(path: geometry.path("type"), reason: "\"\(type)\" is not a Polygon or MultiPolygon")
            }
        }
    }

    private static func singleGeometry(_ value: JSONValue, path: String) throws -> JSONFields {
        let root = try JSONFields(value, path: path)
        switch try root.string("type") {
        case "FeatureCollection":
            let features = try root.array("features")
            guard features.count == 1 else {
                throw FieldError(
                    path: root.path("features"),
                    reason: "expected exactly one feature with the line, found \(features.count)")
            }
            return try JSONFields(features[0], path: root.path("features") + "[0]").object("geometry")
        case "Feature": return try root.object("geometry")
        default: return root
        }
    }

    private static func rings(_ items: [JSONValue], path: String) throws -> [[GeoPoint]] {
        try items.enumerated().map { i, ring in
            guard case .array(let positions) = ring else {
                throw FieldError(path: path + "[\(i)]", reason: "expected an array of positions")
            }
            let points = try self.positions(positions, path: path + "[\(i)]")
            guard points.count >= 4, points.first == points.last else {
                throw FieldError(
                    path: path + "[\(i)]", reason: "a ring needs at least 4 positions and must end where it starts")
            }
            return points
        }
    }

    static func positions(_ items: [JSONValue], path: String) throws -> [GeoPoint] {
        try items.enumerated().map { i, item in
            guard case .array(let xy) = item, xy.count >= 2, case .number(let lon) = xy[0],
                case .number(let lat) = xy[1]
            else {
                throw FieldError(path: path + "[\(i)]", reason: "expected a position [lon, lat]")
            }
            if let problem = GeoPoint.problem(lon: lon, lat: lat) {
                throw FieldError(path: path + "[\(i)]", reason: problem)
            }
            return GeoPoint(lon: lon, lat: lat)
        }
    }
}
