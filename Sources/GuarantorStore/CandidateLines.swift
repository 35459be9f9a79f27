import Foundation
import GuarantorCore

/// The candidate ceasefire lines a mission keeps beside the agreement's (lines.json and lines/ID.geojson in the
/// mission directory). The agreement's own line is always the candidate ``agreementId``. Candidates do not change
/// the mission's results, so they are not part of its fingerprint; a what-if replay names one.
public struct CandidateLines: Sendable {
    public static let indexFile = "lines.json"
    public static let folder = "lines"
    /// The id of the agreement's own line.
    public static let agreementId = "agreement"

    /// One candidate as lines.json lists it.
    public struct Entry: Sendable, Equatable {
        public var id: String
        public var title: String
        /// Where the line comes from (a negotiating text, a map of a date, …), if given.
        public var source: String?
        /// The date it stands for (YYYY-MM-DD), if given.
        public var date: String?
        /// The GeoJSON file, relative to the mission directory.
        public var file: String

        public init(id: String, title: String, source: String?, date: String?, file: String) {
            self.id = id
            self.title = title
            self.source = source
            self.date = date
            self.file = file
        }
    }

    public let directory: URL
    /// The agreement's line first, then the others by id.
    public private(set) var entries: [Entry]

    /// Reads lines.json (none: only the agreement's line).
    public init(directory: URL) throws {
        self.directory = directory
        var entries: [Entry] = []
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent(Self.indexFile).path) {
            let root = try MissionDirectory.readJSON(directory, Self.indexFile)
            do {
                var seen: Set<String> = [Self.agreementId]
                for (i, item) in try JSONFields(root).array("lines").enumerated() {
                    let f = try JSONFields(item, path: "lines[\(i)]")
                    try f.rejectUnknown(["id", "title", "source", "date", "file"])
                    let id = try f.uniqueId(in: &seen, of: "line")
                    entries.append(
                        Entry(
                            id: id, title: try f.string("title"), source: try f.optionalString("source"),
                            date: try f.optionalString("date"), file: try f.string("file")))
                }
            } catch let error as FieldError {
                throw ConfigurationError(file: Self.indexFile, path: error.path, reason: error.reason)
            }
        }
        let agreement = try Agreement(json: MissionDirectory.readJSON(directory, MissionDirectory.agreementFile))
        let agreementFile: String
        if case .file(let path) = agreement.line { agreementFile = path } else { agreementFile = "agreement.json" }
        self.entries =
            [Entry(id: Self.agreementId, title: agreement.title, source: nil, date: nil, file: agreementFile)]
            + entries.sorted { $0.id < $1.id }
    }

    /// The candidate with this id.
    public func entry(_ id: String) -> Entry? { entries.first { $0.id == id } }

    /// The mission under a candidate (the agreement's line for ``agreementId``).
    public func mission(_ id: String, base: Mission) throws -> Mission {
        guard let entry = entry(id) else {
            throw ConfigurationError(
                file: Self.indexFile, path: "lines",
                reason: "no line \"\(id)\" (known: \(entries.map(\.id).joined(separator: ", ")))")
        }
        if id == Self.agreementId { return base }
        return try Self.mission(base, lineAt: directory.appendingPathComponent(entry.file), name: entry.file)
    }

    /// The mission under the line in a GeoJSON file, validated like the agreement's line.
    public static func mission(_ base: Mission, lineAt url: URL, name: String) throws -> Mission {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ConfigurationError(file: name, path: "", reason: "cannot read \(url.path)")
        }
        let parts: [[GeoPoint]]
        do {
            parts = try GeoJSON.lineParts(JSONValue.parse(data))
        } catch let error as FieldError {
            throw ConfigurationError(file: name, path: error.path, reason: error.reason)
        } catch {
            throw ConfigurationError(file: name, path: "", reason: "\(error)")
        }
        do {
            return try base.replacingLine(parts, file: name)
        } catch let problem as Mission.Problem {
            throw ConfigurationError(file: problem.file, path: problem.error.path, reason: problem.error.reason)
        }
    }

    /// The GeoJSON text of a candidate (the file as stored).
    public func geoJSON(_ id: String) throws -> [UInt8]? {
        guard let entry = entry(id) else { return nil }
        if id == Self.agreementId, entry.file == "agreement.json" {
            let agreement = try MissionDirectory.readJSON(directory, MissionDirectory.agreementFile)
            guard case .object(let members) = agreement, let line = members["line"] else { return nil }
            return Array(line.prettyPrinted.utf8)
        }
        return FileManager.default.contents(atPath: directory.appendingPathComponent(entry.file).path).map(Array.init)
    }

    /// Adds a candidate: the line is checked against the mission (a valid line, each party's reference point
    /// clearly on its side) and copied to lines/ID.geojson; lines.json is written last, so a refused line leaves
    /// nothing behind.
    public mutating func add(
        id: String, title: String, source: String?, date: String?, geoJSON url: URL, base: Mission
    ) throws {
        guard id.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"#, options: .regularExpression) != nil else {
            throw ConfigurationError(
                file: Self.indexFile, path: "id", reason: "\"\(id)\" must be 1–64 letters, digits, . _ or -")
        }
        guard entry(id) == nil else {
            throw ConfigurationError(file: Self.indexFile, path: "id", reason: "a line \"\(id)\" already exists")
        }
        if let date, Timestamp(rfc3339: date + "T00:00:00Z") == nil {
            throw ConfigurationError(file: Self.indexFile, path: "date", reason: "\"\(date)\" is not YYYY-MM-DD")
        }
        _ = try Self.mission(base, lineAt: url, name: url.lastPathComponent)
        let file = "\(Self.folder)/\(id).geojson"
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent(Self.folder), withIntermediateDirectories: true)
        let target = directory.appendingPathComponent(file)
        try Data(contentsOf: url).write(to: target, options: .atomic)
        entries.append(Entry(id: id, title: title, source: source, date: date, file: file))
        entries = [entries[0]] + entries.dropFirst().sorted { $0.id < $1.id }
        try MissionDirectory.write(index, to: directory.appendingPathComponent(Self.indexFile))
    }

    /// lines.json (the candidates other than the agreement's).
    var index: JSONValue {
        .object([
            "lines": .array(
                entries.dropFirst().map { e in
                    var m: [String: JSONValue] = [
                        "id": .string(e.id), "title": .string(e.title), "file": .string(e.file),
                    ]
                    if let s = e.source { m["source"] = .string(s) }
                    if let d = e.date { m["date"] = .string(d) }
                    return .object(m)
                })
        ])
    }

    /// What `lines list` prints and `GET /lines` returns: each candidate without its geometry, with its length.
    public func listing(base: Mission) throws -> JSONValue {
        .object([
            "lines": .array(
                try entries.map { e in
                    var m: [String: JSONValue] = ["id": .string(e.id), "title": .string(e.title)]
                    if let s = e.source { m["source"] = .string(s) }
                    if let d = e.date { m["date"] = .string(d) }
                    m["lengthMeters"] = .number(try mission(e.id, base: base).line.lengthMeters.rounded())
                    m["agreement"] = .bool(e.id == Self.agreementId)
                    return .object(m)
                })
        ])
    }
}
