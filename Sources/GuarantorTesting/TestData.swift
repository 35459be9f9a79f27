import Foundation
import GuarantorCore

/// Where tests find their inputs: the repository, and the real data set beside it.
public enum TestData {
    /// The repository's root directory.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The real data set: `$GUARANTOR_DATA`, or `../shared/data` beside the repository.
    public static var sharedData: URL {
        if let path = ProcessInfo.processInfo.environment["GUARANTOR_DATA"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
    }

    /// The real front line of 2025-12-01 (1,240 km), if the data set is present.
    public static var realFrontLine: URL {
        sharedData.appendingPathComponent("front-line-derived/front_line_20251201.geojson")
    }

    /// The oblasts (ADM1) of Ukraine, if the data set is present.
    public static var oblasts: URL {
        sharedData.appendingPathComponent("ukraine-admin-boundaries/geoBoundaries-UKR-ADM1_simplified.geojson")
    }

    /// Whether the real data set is present; tests that need it are disabled with this message otherwise.
    /// The PostgreSQL database the store's tests also run against (`GUARANTOR_TEST_POSTGRES`, e.g.
    /// `postgres://postgres@127.0.0.1:54329/guarantor_test`; `scripts/test.sh` starts one), or `nil` when unset.
    public static var postgresBase: String? {
        ProcessInfo.processInfo.environment["GUARANTOR_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A store location of its own in the test database: a new schema (the store creates it), or `nil`.
    public static func postgresStore() -> String? {
        guard let base = postgresBase else { return nil }
        let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        return base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D" + schema
    }

    /// Where the server and command tests keep their store: a PostgreSQL schema of its own when
    /// `GUARANTOR_TEST_STORE=postgres` (and `GUARANTOR_TEST_POSTGRES` is set), else `sqlitePath`.
    public static func storeLocation(sqlitePath: String) -> String {
        ProcessInfo.processInfo.environment["GUARANTOR_TEST_STORE"] == "postgres"
            ? (postgresStore() ?? sqlitePath) : sqlitePath
    }

    public static var hasSharedData: Bool { FileManager.default.fileExists(atPath: realFrontLine.path) }

    /// The message shown when the real data set is missing.
    public static var missingDataMessage: String {
        "real data not found at \(sharedData.path): set GUARANTOR_DATA to the shared/data directory"
    }

    /// The demo line shipped with the tool.
    public static var demoLine: URL {
        repositoryRoot.appendingPathComponent("Sources/GuarantorCLI/Demo/demo-line.geojson")
    }

    /// Reads the vertices of the first LineString in a GeoJSON file.
    public static func lineVertices(_ url: URL) throws -> [GeoPoint] {
        let value = try JSONValue.parse(Data(contentsOf: url))
        guard case .object(let root) = value, case .array(let features)? = root["features"],
            case .object(let feature)? = features.first, case .object(let geometry)? = feature["geometry"],
            case .array(let coordinates)? = geometry["coordinates"]
        else { throw CocoaError(.fileReadCorruptFile) }
        return coordinates.compactMap { item in
            guard case .array(let pair) = item, case .number(let lon) = pair[0], case .number(let lat) = pair[1] else {
                return nil
            }
            return GeoPoint(lon: lon, lat: lat)
        }
    }

    /// Rows of a CSV file with a header line, as dictionaries.
    public static func csvRows(_ url: URL) throws -> [[String: String]] {
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",").map(String.init)
        return lines.dropFirst().map { line in
            Dictionary(uniqueKeysWithValues: zip(header, line.split(separator: ",").map(String.init)))
        }
    }
}

extension JSONValue {
    /// The members, if an object.
    public var object: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    /// The text, if a string.
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    /// The value, if a number.
    public var number: Double? { if case .number(let n) = self { n } else { nil } }
    /// The items, if an array.
    public var items: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
}
