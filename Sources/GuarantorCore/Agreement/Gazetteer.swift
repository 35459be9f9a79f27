import Foundation

/// A named place: what a comparison of lines counts when it changes side.
public struct Settlement: Sendable, Equatable {
    public var name: String
    /// The region it is listed under (a GeoNames oblast and raion), if the gazetteer gives one.
    public var region: String?
    public var point: GeoPoint
    public var population: Int?

    public init(name: String, region: String? = nil, point: GeoPoint, population: Int? = nil) {
        self.name = name
        self.region = region
        self.point = point
        self.population = population
    }
}

/// Reading settlement lists: the GeoNames postal-code format (tab-separated) and GeoJSON points with a `name`.
public enum Gazetteer {
    /// Reads either format: GeoJSON when the text starts with `{`, else GeoNames postal codes.
    /// - Throws: ``FieldError`` naming the line (or the JSON path) and the reason.
    public static func read(_ bytes: [UInt8]) throws -> [Settlement] {
        let first = bytes.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
        if first == UInt8(ascii: "{") {
            let value: JSONValue
            do {
                value = try JSONValue.parse(bytes)
            } catch {
                throw FieldError(path: "", reason: error.description)
            }
            return try geoJSONPoints(value)
        }
        return try geoNamesPostal(String(decoding: bytes, as: UTF8.self))
    }

    /// The GeoNames postal-code format (12 tab-separated columns, no header: country, postal code, place name, admin
    /// name 1, code 1, admin name 2, code 2, admin name 3, code 3, latitude, longitude, accuracy), one entry per
    /// place: the rows of one (place name, admin name 1, admin name 2) are one settlement, placed at its most
    /// accurate row's point (accuracy 6, then 4, 3, 1, none; then the smallest postal code).
    public static func geoNamesPostal(_ text: String) throws -> [Settlement] {
        struct Row {
            var postal: String
            var rank: Int
            var point: GeoPoint
        }
        var best: [String: (settlement: Settlement, row: Row)] = [:]
        var order: [String] = []
        for (n, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            let at = "line \(n + 1)"
            guard columns.count >= 11 else {
                throw FieldError(path: at, reason: "expected 12 tab-separated columns, found \(columns.count)")
            }
            let name = columns[2].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw FieldError(path: at + ".placeName", reason: "is empty") }
            guard let lat = Double(columns[9]), (-90...90).contains(lat) else {
                throw FieldError(path: at + ".latitude", reason: "\"\(columns[9])\" is not a latitude")
            }
            guard let lon = Double(columns[10]), (-180...180).contains(lon) else {
                throw FieldError(path: at + ".longitude", reason: "\"\(columns[10])\" is not a longitude")
            }
            let accuracy = columns.count > 11 ? Int(columns[11].trimmingCharacters(in: .whitespaces)) : nil
            let rank = [6: 4, 4: 3, 3: 2, 1: 1][accuracy ?? 0] ?? 0
            let region = [columns[3], columns[5]].filter { !$0.isEmpty }.joined(separator: ", ")
            let key = [name, columns[3], columns[5]].joined(separator: "\u{1F}")
            let row = Row(postal: columns[1], rank: rank, point: GeoPoint(lon: lon, lat: lat))
            if let known = best[key] {
                guard (row.rank, known.row.postal) > (known.row.rank, row.postal) else { continue }
            } else {
                order.append(key)
            }
            best[key] = (Settlement(name: name, region: region.isEmpty ? nil : region, point: row.point), row)
        }
        return order.map { best[$0]!.settlement }
    }

    /// A FeatureCollection of Point features with a `name` property (and an optional `population`).
    public static func geoJSONPoints(_ value: JSONValue) throws -> [Settlement] {
        let root = try JSONFields(value)
        guard try root.string("type") == "FeatureCollection" else {
            throw FieldError(path: "type", reason: "expected a FeatureCollection of named points")
        }
        return try root.array("features").enumerated().map { i, item in
            let feature = try JSONFields(item, path: "features[\(i)]")
            let properties = try feature.object("properties")
            let name = try properties.string("name")
            let population = try properties.optionalInteger("population", in: 0...Int.max)
            let geometry = try feature.object("geometry")
            guard try geometry.string("type") == "Point" else {
                throw FieldError(path: geometry.path("type"), reason: "expected a Point")
            }
            let coordinates = try geometry.array("coordinates")
            guard coordinates.count >= 2, case .number(let lon) = coordinates[0],
                case .number(let lat) = coordinates[1],
                (-180...180).contains(lon), (-90...90).contains(lat)
            else {
                throw FieldError(path: geometry.path("coordinates"), reason: "expected [lon, lat] in range")
            }
            return Settlement(name: name, point: GeoPoint(lon: lon, lat: lat), population: population)
        }
    }
}
