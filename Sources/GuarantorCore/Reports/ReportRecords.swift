/// Who a report is for: the mission (every record), one member (what it may read), or the public (TLP:CLEAR only).
public enum ReportReader: Sendable, Equatable {
    case mission
    case member(String)
    case publicReader

    /// The member id the releasability filters take (`nil`: the whole record).
    public var member: String? {
        switch self {
        case .mission: nil
        case .member(let m): m
        case .publicReader: Releasability.publicReader
        }
    }

    /// The reader from a member id as the API knows it (`PUBLIC`, a member, or `nil` for the whole record).
    public init(member: String?) {
        switch member {
        case nil: self = .mission
        case Releasability.publicReader?: self = .publicReader
        case let m?: self = .member(m)
        }
    }

    /// How the reader is written in the log's report events.
    public var id: String { member ?? "MISSION" }
}

/// The languages of reports' fixed text.
public enum ReportLanguage: String, CaseIterable, Sendable {
    case en, uk
}

/// A span of event time `[from, to)`.
public struct ReportPeriod: Sendable, Equatable {
    public var from: Timestamp
    public var to: Timestamp
    /// The local date the period ends on (YYYY-MM-DD), which charts label it with; `nil`: the UTC date of `to`.
    public var date: String?

    public init(from: Timestamp, to: Timestamp, date: String? = nil) {
        self.from = from
        self.to = to
        self.date = date
    }

    public func contains(_ t: Timestamp) -> Bool { t >= from && t < to }
}

/// A finding as a report needs it, read from its line of violations.ndjson as the reader sees it.
public struct ReportFinding: Sendable, Equatable {
    public var id: String
    public var rule: String
    public var severity: Severity
    public var party: String
    public var zone: String?
    public var status: IncidentStatus
    public var endorsedBy: [String]
    public var endorsed: Bool
    /// The parties that contested it.
    public var contestedBy: [String]
    public var detail: String?

    /// Whether it counts as a violation (its incident is not rejected).
    public var counts: Bool { status != .rejected }
}

/// An incident as a report needs it, read from its line of incidents.ndjson as the reader sees it.
public struct ReportIncident: Sendable, Equatable {
    public var id: String
    public var kind: ObservationKind
    public var weaponClass: WeaponClass?
    public var status: IncidentStatus
    public var start: Timestamp
    /// The last report's time, and when the incident was verified (if it was).
    public var end: Timestamp?
    public var verifiedAt: Timestamp?
    public var point: GeoPoint
    public var uncertaintyMeters: Double
    public var sector: String?
    public var side: String
    public var count: Int
    public var sources: [String]
    public var findings: [ReportFinding]

    /// Reads an incident's line and its findings' lines (each ended by a newline), as ``Replay`` writes them.
    public init(line: [UInt8], findings: [UInt8]) throws {
        let f = try JSONFields(JSONValue.parse(line))
        id = try f.string("id")
        kind = try f.enumeration("kind", as: ObservationKind.self)
        weaponClass = try f.optionalEnumeration("weaponClass", as: WeaponClass.self)
        status = try f.enumeration("status", as: IncidentStatus.self)
        start = try f.timestamp("start")
        end = try f.optionalTimestamp("end")
        verifiedAt = try f.optionalTimestamp("verifiedAt")
        let location = try f.object("location")
        point = GeoPoint(lon: try location.number("lon"), lat: try location.number("lat"))
        uncertaintyMeters = try location.number("uncertaintyMeters")
        sector = try f.optionalString("sector")
        side = try f.string("side")
        count = try f.integer("count", in: 0...Int.max)
        sources = try f.optionalStrings("sources") ?? []
        self.findings = try findings.split(separator: 0x0A).map { line in
            let v = try JSONFields(JSONValue.parse(Array(line)))
            let contests = try (v.members["contests"] == nil ? [] : v.array("contests")).map {
                try JSONFields($0).string("party")
            }
            return ReportFinding(
                id: try v.string("id"), rule: try v.string("rule"),
                severity: try v.enumeration("severity", as: Severity.self), party: try v.string("attributedTo"),
                zone: try v.optionalString("zone"),
                status: try v.enumeration("incidentStatus", as: IncidentStatus.self),
                endorsedBy: try v.optionalStrings("endorsedBy") ?? [],
                endorsed: try v.optionalBool("endorsed") ?? false,
                contestedBy: contests, detail: try v.optionalString("detail"))
        }
    }

    /// The findings that count as violations.
    public var violations: [ReportFinding] { findings.filter(\.counts) }
}
