/// A source of observations (sources.json, DESIGN §3.1).
public struct Source: Sendable, Equatable {
    public var id: String
    public var kind: SourceKind
    /// The organisation (usually a member state or a party) that runs the source.
    public var organisation: String
    public var reliability: Reliability
    /// How far off in time this source's reports may be when they state less (seconds); `nil`: its kind's default in
    /// the verification policy.
    public var timeUncertaintySeconds: Double?

    public init(
        id: String, kind: SourceKind, organisation: String, reliability: Reliability,
        timeUncertaintySeconds: Double? = nil
    ) {
        self.id = id
        self.kind = kind
        self.organisation = organisation
        self.reliability = reliability
        self.timeUncertaintySeconds = timeUncertaintySeconds
    }

    /// Sources are independent when their organisations or their kinds differ.
    public func isIndependent(of other: Source) -> Bool { organisation != other.organisation || kind != other.kind }
}

/// The mission's sources, by id.
public struct SourceRegistry: Sendable {
    public let sources: [Source]
    private let byId: [String: Int]

    public init(_ sources: [Source]) {
        self.sources = sources
        byId = Dictionary(uniqueKeysWithValues: sources.enumerated().map { ($1.id, $0) })
    }

    public subscript(id: String) -> Source? { byId[id].map { sources[$0] } }

    public func contains(_ id: String) -> Bool { byId[id] != nil }

    /// Reads and validates sources.json: `{"sources": [{"id", "kind", "organisation", "reliability",
    /// "timeUncertaintySeconds"?}, …]}`.
    public init(json: JSONValue) throws {
        let root = try JSONFields(json)
        try root.rejectUnknown(["sources"])
        var seen: Set<String> = []
        let list = try root.array("sources").enumerated().map { i, value in
            let s = try JSONFields(value, path: "sources[\(i)]")
            try s.rejectUnknown(["id", "kind", "organisation", "reliability", "timeUncertaintySeconds"])
            let id = try s.uniqueId(in: &seen, of: "source")
            let time = try s.optionalNumber("timeUncertaintySeconds")
            if let time, !(0...VerificationPolicy.maximumTimeSlackSeconds).contains(time) {
                throw FieldError(
                    path: s.path("timeUncertaintySeconds"),
                    reason: "\(JSONFields.format(time)) is outside 0…\(Int(VerificationPolicy.maximumTimeSlackSeconds))"
                )
            }
            return Source(
                id: id, kind: try s.enumeration("kind", as: SourceKind.self),
                organisation: try s.string("organisation"),
                reliability: try s.enumeration("reliability", as: Reliability.self), timeUncertaintySeconds: time)
        }
        self.init(list)
    }

    /// sources.json in the shape DESIGN gives.
    public var json: JSONValue {
        .object([
            "sources": .array(
                sources.map { source in
                    var fields: [String: JSONValue] = [
                        "id": .string(source.id), "kind": .string(source.kind.rawValue),
                        "organisation": .string(source.organisation),
                        "reliability": .string(source.reliability.rawValue),
                    ]
                    if let time = source.timeUncertaintySeconds { fields["timeUncertaintySeconds"] = .number(time) }
                    return .object(fields)
                })
        ])
    }
}
