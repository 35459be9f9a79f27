/// A field that is missing, of the wrong type or out of range: where (`location.lat`, `zones[2].id`) and why.
public struct FieldError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path of the field, dotted, with `[i]` for array elements; empty for the whole value.
    public var path: String
    /// What is wrong, in words.
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}

/// Reads the members of a JSON object, naming the full path of any field that is wrong.
public struct JSONFields: Sendable {
    /// The object's members.
    public let members: [String: JSONValue]
    /// The object's own path (empty at the root).
    public let path: String

    /// Reads `value` as an object.
    public init(_ value: JSONValue, path: String = "") throws {
        guard case .object(let members) = value else {
            throw FieldError(path: path, reason: "expected an object, found \(value.typeName)")
        }
        self.members = members
        self.path = path
    }

    /// The path of a member.
    public func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Fails on any member not in `allowed`, naming the first one in alphabetical order.
    public func rejectUnknown(_ allowed: [String]) throws {
        // A linear scan: objects here have a handful of short keys, cheaper to compare than to hash.
        if let unknown = members.keys.filter({ !allowed.contains($0) }).sorted().first {
            throw FieldError(path: path(unknown), reason: "unknown field")
        }
    }

    public func required(_ key: String) throws -> JSONValue {
        guard let value = members[key], value != .null else { throw FieldError(path: path(key), reason: "is required") }
        return value
    }

    public func string(_ key: String) throws -> String {
        let value = try required(key)
        guard case .string(let s) = value else {
            throw FieldError(path: path(key), reason: "expected a string, found \(value.typeName)")
        }
        return s
    }

    public func optionalString(_ key: String) throws -> String? {
        members[key] == nil || members[key] == .null ? nil : try string(key)
    }

    public func number(_ key: String) throws -> Double {
        let value = try required(key)
        guard case .number(let n) = value else {
            throw FieldError(path: path(key), reason: "expected a number, found \(value.typeName)")
        }
        return n
    }

    public func optionalNumber(_ key: String) throws -> Double? {
        members[key] == nil || members[key] == .null ? nil : try number(key)
    }

    /// An integer-valued number within `range`.
    public func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int {
        let n = try number(key)
        guard n == n.rounded(), n >= Double(range.lowerBound), n <= Double(range.upperBound) else {
            throw FieldError(
                path: path(key),
                reason: "\(JSONFields.format(n)) is not a whole number in \(range.lowerBound)…\(range.upperBound)")
        }
        return Int(n)
    }

    public func optionalInteger(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        members[key] == nil || members[key] == .null ? nil : try integer(key, in: range)
    }

    /// A non-empty id not yet in `seen` (which it joins): configuration lists name each thing once.
    public func uniqueId(_ key: String = "id", in seen: inout Set<String>, of what: String) throws -> String {
        let id = try string(key)
        guard !id.isEmpty, seen.insert(id).inserted else {
            throw FieldError(path: path(key), reason: "empty or duplicate \(what) id \"\(id)\"")
        }
        return id
    }

    /// A number within a range.
    public func number(_ key: String, in range: ClosedRange<Double>) throws -> Double {
        let value = try number(key)
        guard range.contains(value) else {
            throw FieldError(
                path: path(key), reason: "must be in \(Self.format(range.lowerBound))…\(Self.format(range.upperBound))")
        }
        return value
    }

    public func optionalBool(_ key: String) throws -> Bool? {
        guard let value = members[key], value != .null else { return nil }
        guard case .bool(let b) = value else {
            throw FieldError(path: path(key), reason: "expected true or false, found \(value.typeName)")
        }
        return b
    }

    public func object(_ key: String) throws -> JSONFields { try JSONFields(required(key), path: path(key)) }

    public func optionalObject(_ key: String) throws -> JSONFields? {
        members[key] == nil || members[key] == .null ? nil : try object(key)
    }

    public func array(_ key: String) throws -> [JSONValue] {
        let value = try required(key)
        guard case .array(let items) = value else {
            throw FieldError(path: path(key), reason: "expected an array, found \(value.typeName)")
        }
        return items
    }

    /// An array of strings, or `nil` when absent or null.
    public func optionalStrings(_ key: String) throws -> [String]? {
        guard members[key] != nil, members[key] != .null else { return nil }
        return try array(key).enumerated().map { i, item in
            guard case .string(let s) = item else {
                throw FieldError(path: "\(path(key))[\(i)]", reason: "expected a string, found \(item.typeName)")
            }
            return s
        }
    }

    /// A string member that must be one of an enumeration's raw values.
    public func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, as type: E.Type) throws -> E
    where E.RawValue == String {
        let raw = try string(key)
        guard let value = E(rawValue: raw) else {
            throw FieldError(
                path: path(key),
                reason: "\"\(raw)\" is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    public func optionalEnumeration<E: RawRepresentable & CaseIterable>(_ key: String, as type: E.Type) throws -> E?
    where E.RawValue == String {
        members[key] == nil || members[key] == .null ? nil : try enumeration(key, as: type)
    }

    /// An array of strings that must each be one of an enumeration's raw values; `[]` when the member is absent.
    public func enumerationList<E: RawRepresentable & CaseIterable>(_ key: String, as type: E.Type) throws -> [E]
    where E.RawValue == String {
        guard members[key] != nil else { return [] }
        return try array(key).enumerated().map { i, item in
            guard case .string(let raw) = item, let value = E(rawValue: raw) else {
                throw FieldError(
                    path: path(key) + "[\(i)]",
                    reason: "not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return value
        }
    }

    /// An RFC 3339 time.
    public func timestamp(_ key: String) throws -> Timestamp {
        let raw = try string(key)
        guard let time = Timestamp(rfc3339: raw) else {
            throw FieldError(
                path: path(key), reason: "\"\(raw)\" is not an RFC 3339 date-time (e.g. 2026-03-01T12:00:00Z)")
        }
        return time
    }

    public func optionalTimestamp(_ key: String) throws -> Timestamp? {
        members[key] == nil || members[key] == .null ? nil : try timestamp(key)
    }

    /// A `{lon, lat}` object (plus any members listed in `extra`) as a point on the Earth.
    public func point(_ key: String, extra: [String] = []) throws -> (GeoPoint, JSONFields) {
        let fields = try object(key)
        try fields.rejectUnknown(["lon", "lat"] + extra)
        let lon = try fields.number("lon")
        let lat = try fields.number("lat")
        if let problem = GeoPoint.problem(lon: lon, lat: lat) {
            let field = (-180...180).contains(lon) ? "lat" : "lon"
            throw FieldError(path: fields.path(field), reason: problem)
        }
        return (GeoPoint(lon: lon, lat: lat), fields)
    }

    public static func format(_ n: Double) -> String {
        n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : n.description
    }
}
