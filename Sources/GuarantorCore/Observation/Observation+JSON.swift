extension Observation {
    static let fields: [String] = [
        "id", "source", "observedAt", "kind", "location", "reportedAt", "timeUncertaintySeconds", "origin",
        "bearingDegrees", "weaponClass",
        "count", "credibility", "tlp", "text", "evidence", "submittedBy", "originator", "recipients",
        "receivedAt",
    ]
    /// Longest accepted id and text, in characters.
    public static let maximumIdLength = 200
    public static let maximumTextLength = 10_000
    /// Largest accepted location uncertainty, metres.
    public static let maximumUncertaintyMeters = 1_000_000.0

    /// Reads and validates one observation.
    /// - Parameter isKnownSource: whether a source id is in the mission's sources.json.
    /// - Throws: ``FieldError`` naming the first field that is wrong.
    public init(json value: JSONValue, isKnownSource: (String) -> Bool) throws {
        let f = try JSONFields(value)
        try f.rejectUnknown(Self.fields)
        id = try f.string("id")
        if id.isEmpty || id.count > Self.maximumIdLength || id.unicodeScalars.contains(where: { $0.value < 0x20 }) {
            throw FieldError(
                path: "id", reason: "must be 1…\(Self.maximumIdLength) characters without control characters")
        }
        source = try f.string("source")
        guard isKnownSource(source) else {
            throw FieldError(path: "source", reason: "unknown source \"\(source)\" (not in sources.json)")
        }
        observedAt = try f.timestamp("observedAt")
        kind = try f.enumeration("kind", as: ObservationKind.self)
        location = try Self.location(f, "location")
        reportedAt = try f.optionalTimestamp("reportedAt")
        if let reportedAt, reportedAt < observedAt {
            throw FieldError(path: "reportedAt", reason: "\(reportedAt) is before observedAt \(observedAt)")
        }
        timeUncertaintySeconds = try f.optionalNumber("timeUncertaintySeconds") ?? 0
        if !(0...86_400).contains(timeUncertaintySeconds) {
            throw FieldError(
                path: "timeUncertaintySeconds",
                reason: "\(JSONFields.format(timeUncertaintySeconds)) is outside 0…86400")
        }
        origin = try f.members["origin"] == nil || f.members["origin"] == .null ? nil : Self.location(f, "origin")
        bearingDegrees = try f.optionalNumber("bearingDegrees")
        if let b = bearingDegrees, !(b >= 0 && b < 360) {
            throw FieldError(path: "bearingDegrees", reason: "\(JSONFields.format(b)) is outside 0…360 (360 excluded)")
        }
        weaponClass = try f.optionalEnumeration("weaponClass", as: WeaponClass.self)
        count = try f.optionalInteger("count", in: kind == .siteInspection ? 0...1_000_000 : 1...1_000_000)
        if kind == .siteInspection {
            guard weaponClass != nil else {
                throw FieldError(path: "weaponClass", reason: "an inspection counts one class")
            }
            guard count != nil else { throw FieldError(path: "count", reason: "an inspection states the count found") }
        }
        credibility = try f.optionalInteger("credibility", in: 1...6)
        tlp = try f.optionalEnumeration("tlp", as: TLP.self)
        text = try f.optionalString("text")
        if let text, text.count > Self.maximumTextLength {
            throw FieldError(path: "text", reason: "longer than \(Self.maximumTextLength) characters")
        }
        submittedBy = try f.optionalString("submittedBy")
        if let user = submittedBy, user.isEmpty || user.count > Self.maximumIdLength {
            throw FieldError(path: "submittedBy", reason: "must be 1…\(Self.maximumIdLength) characters")
        }
        originator = try f.optionalString("originator")
        if let member = originator, member.isEmpty || member.count > Self.maximumIdLength {
            throw FieldError(path: "originator", reason: "must be 1…\(Self.maximumIdLength) characters")
        }
        recipients = []
        if f.members["recipients"] != nil && f.members["recipients"] != .null {
            recipients = try f.array("recipients").enumerated().map { i, item in
                guard case .string(let member) = item, !member.isEmpty, member.count <= Self.maximumIdLength else {
                    throw FieldError(path: "recipients[\(i)]", reason: "expected a member id")
                }
                return member
            }
        }
        receivedAt = try f.optionalTimestamp("receivedAt")
        evidence = []
        if f.members["evidence"] != nil && f.members["evidence"] != .null {
            for (i, item) in try f.array("evidence").enumerated() {
                let e = try JSONFields(item, path: "evidence[\(i)]")
                try e.rejectUnknown(["sha256", "mediaType"])
                let hash = try e.string("sha256")
                guard hash.utf8.count == 64,
                    hash.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
                else {
                    throw FieldError(path: e.path("sha256"), reason: "must be 64 lowercase hexadecimal digits")
                }
                let mediaType = try e.string("mediaType")
                let parts = mediaType.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, mediaType.count <= 100 else {
                    throw FieldError(
                        path: e.path("mediaType"), reason: "\"\(mediaType)\" is not a media type like image/jpeg")
                }
                evidence.append(Evidence(sha256: hash, mediaType: mediaType))
            }
        }
    }

    private static func location(_ f: JSONFields, _ key: String) throws -> Location {
        let (point, fields) = try f.point(key, extra: ["uncertaintyMeters"])
        let uncertainty = try fields.number("uncertaintyMeters")
        guard uncertainty >= 0, uncertainty <= maximumUncertaintyMeters else {
            throw FieldError(
                path: fields.path("uncertaintyMeters"),
                reason: "\(JSONFields.format(uncertainty)) is outside 0…\(JSONFields.format(maximumUncertaintyMeters))")
        }
        return Location(point: point, uncertaintyMeters: uncertainty)
    }

    /// The observation in canonical JSON: fixed member order, UTC times, no absent members. Two observations are the
    /// same record exactly when their canonical forms are equal; the event log stores and hashes this form.
    public var canonicalJSON: [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("source"); w.string(source)
        w.key("observedAt"); w.timestamp(observedAt)
        w.key("kind"); w.string(kind.rawValue)
        w.key("location"); Self.write(location, to: &w)
        if let reportedAt { w.key("reportedAt"); w.timestamp(reportedAt) }
        if timeUncertaintySeconds > 0 { w.key("timeUncertaintySeconds"); w.number(timeUncertaintySeconds) }
        if let origin { w.key("origin"); Self.write(origin, to: &w) }
        if let bearingDegrees { w.key("bearingDegrees"); w.number(bearingDegrees) }
        if let weaponClass { w.key("weaponClass"); w.string(weaponClass.rawValue) }
        if let count { w.key("count"); w.int(count) }
        if let credibility { w.key("credibility"); w.int(credibility) }
        if let tlp { w.key("tlp"); w.string(tlp.rawValue) }
        if let text { w.key("text"); w.string(text) }
        if !evidence.isEmpty {
            w.key("evidence")
            w.beginArray()
            for e in evidence {
                w.beginObject()
                w.key("sha256"); w.string(e.sha256)
                w.key("mediaType"); w.string(e.mediaType)
                w.endObject()
            }
            w.endArray()
        }
        if let submittedBy { w.key("submittedBy"); w.string(submittedBy) }
        if let originator { w.key("originator"); w.string(originator) }
        if !recipients.isEmpty {
            w.key("recipients")
            w.beginArray()
            for r in recipients { w.string(r) }
            w.endArray()
        }
        if let receivedAt { w.key("receivedAt"); w.timestamp(receivedAt) }
        w.endObject()
        return w.bytes
    }

    private static func write(_ location: Location, to w: inout JSONWriter) {
        w.beginObject()
        w.key("lon"); w.number(location.point.lon)
        w.key("lat"); w.number(location.point.lat)
        w.key("uncertaintyMeters"); w.number(location.uncertaintyMeters)
        w.endObject()
    }
}
