/// A report handed out (by `guarantor report` or the API), as the `report` event of the log records it: what it was,
/// for whom, what part of the log it was drawn from, and the SHA-256 of each file, so that anyone holding a copy can
/// later show that it was issued and not edited (`guarantor verify --report FILE`).
public struct IssuedReport: Sendable, Equatable {
    /// `daily` or `spot`.
    public var kind: String
    /// The date of a daily report, the alert id of a spot report.
    public var subject: String
    /// ``ReportReader/id``: `MISSION`, `PUBLIC` or a member.
    public var reader: String
    public var language: String
    /// The log position the report's results include.
    public var through: Int64
    /// When it was issued, by the issuer's clock (RFC 3339; not part of the report).
    public var issuedAt: String
    /// Each file's name and lowercase hex SHA-256.
    public var files: [(name: String, sha256: String)]

    public init(
        kind: String, subject: String, reader: String, language: String, through: Int64, issuedAt: String,
        files: [(name: String, sha256: String)]
    ) {
        self.kind = kind
        self.subject = subject
        self.reader = reader
        self.language = language
        self.through = through
        self.issuedAt = issuedAt
        self.files = files
    }

    public static func == (l: IssuedReport, r: IssuedReport) -> Bool {
        l.kind == r.kind && l.subject == r.subject && l.reader == r.reader && l.language == r.language
            && l.through == r.through && l.issuedAt == r.issuedAt && l.files.map(\.name) == r.files.map(\.name)
            && l.files.map(\.sha256) == r.files.map(\.sha256)
    }

    /// The same report and files, whenever and from whichever log position it was issued.
    public func hasSameFiles(as other: IssuedReport) -> Bool {
        kind == other.kind && subject == other.subject && reader == other.reader && language == other.language
            && files.map(\.name) == other.files.map(\.name) && files.map(\.sha256) == other.files.map(\.sha256)
    }

    /// The event's payload.
    public var canonicalJSON: [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("kind"); w.string(kind)
        w.key("subject"); w.string(subject)
        w.key("reader"); w.string(reader)
        w.key("language"); w.string(language)
        w.key("through"); w.int(Int(through))
        w.key("issuedAt"); w.string(issuedAt)
        w.key("files")
        w.beginArray()
        for f in files {
            w.beginObject()
            w.key("name"); w.string(f.name)
            w.key("sha256"); w.string(f.sha256)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// Reads an event's payload; every field is required.
    public init(json: JSONValue) throws {
        let f = try JSONFields(json)
        try f.rejectUnknown(["kind", "subject", "reader", "language", "through", "issuedAt", "files"])
        kind = try f.string("kind")
        guard kind == "daily" || kind == "spot" else {
            throw FieldError(path: "kind", reason: "\"\(kind)\" is not daily or spot")
        }
        subject = try f.string("subject")
        reader = try f.string("reader")
        language = try f.string("language")
        through = Int64(try f.integer("through", in: 0...Int.max))
        issuedAt = try f.string("issuedAt")
        files = try f.array("files").enumerated().map { i, value in
            let file = try JSONFields(value, path: "files[\(i)]")
            let sha = try file.string("sha256")
            guard sha.utf8.count == 64, sha.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
            else {
                throw FieldError(path: file.path("sha256"), reason: "not a lowercase hex SHA-256")
            }
            return (try file.string("name"), sha)
        }
        guard !files.isEmpty else { throw FieldError(path: "files", reason: "no file") }
    }
}
