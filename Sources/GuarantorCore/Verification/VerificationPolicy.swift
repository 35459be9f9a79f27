/// How observations are correlated and when incidents are promoted automatically (agreement.json `verification`).
public struct VerificationPolicy: Sendable, Equatable {
    /// How far two observations of one kind group may be apart and still describe one happening, before their own
    /// stated uncertainties are added (1.5 times the root-sum-square of both, in metres and in seconds: three standard
    /// deviations of their combined error).
    public struct Window: Sendable, Equatable {
        public var seconds: Double
        public var meters: Double
    }

    /// How late (in event time, behind the latest observation seen) an observation may arrive and still be correlated.
    public var allowedLatenessSeconds: Double
    /// Independent sources (party claims excluded) that make an incident `corroborated`.
    public var corroborateWith: Int
    /// Independent sources with a reliable grade (party claims excluded) that make it `verified`.
    public var verifyWith: Int
    /// The grades that count as reliable.
    public var reliableGrades: [Reliability]
    /// Grades of which one source alone verifies (default A: e.g. satellite imagery); party claims never do.
    public var verifyAloneGrades: [Reliability]
    /// Correlation windows per kind group.
    public var windows: [KindGroup: Window]
    /// How far off in time a report of each source kind may be when it states less (seconds): a report is correlated
    /// with the larger of its own `timeUncertaintySeconds` and its source's figure, or else its kind's from here. Open
    /// sources and party claims are often 10–30 minutes off and rarely say so.
    public var timeUncertaintyByKind: [SourceKind: Double]
    /// The probability that an origin lies on a party's side from which a violation is attributed to that party.
    public var attributionThreshold: Double
    /// The prior probability that fire landing on one party's side came from the other's, weighed with the origin
    /// estimates (0.5: where it lands says nothing). It must stay below ``attributionThreshold``, so that where fire
    /// lands never attributes it alone.
    public var crossLinePrior: Double

    /// The correlation window of a kind group (every group has one: parsing starts from ``standard``).
    public func window(for group: KindGroup) -> Window { windows[group] ?? Self.standard.windows[group]! }

    /// Link distances never exceed this, whatever the uncertainties (metres).
    public static let maximumLinkMeters = 25_000.0
    /// The time tolerance added for stated time uncertainties never exceeds this (seconds).
    public static let maximumTimeSlackSeconds = 7_200.0

    public static let standard = VerificationPolicy(
        allowedLatenessSeconds: 21_600, corroborateWith: 2, verifyWith: 2, reliableGrades: [.a, .b, .c],
        verifyAloneGrades: [.a],
        windows: [
            .fire: Window(seconds: 300, meters: 1_000), .heavyWeapons: Window(seconds: 3_600, meters: 300),
            .troops: Window(seconds: 1_800, meters: 1_000), .drone: Window(seconds: 900, meters: 2_000),
            .incursion: Window(seconds: 1_800, meters: 1_000), .effects: Window(seconds: 3_600, meters: 1_000),
            .impediment: Window(seconds: 3_600, meters: 2_000), .inspection: Window(seconds: 3_600, meters: 500),
        ], timeUncertaintyByKind: [.osint: 1_200, .partyClaim: 1_200, .patrol: 120], attributionThreshold: 0.95,
        crossLinePrior: 0.8)

    public init(
        allowedLatenessSeconds: Double, corroborateWith: Int, verifyWith: Int, reliableGrades: [Reliability],
        verifyAloneGrades: [Reliability], windows: [KindGroup: Window], timeUncertaintyByKind: [SourceKind: Double],
        attributionThreshold: Double, crossLinePrior: Double
    ) {
        self.crossLinePrior = crossLinePrior
        self.timeUncertaintyByKind = timeUncertaintyByKind
        self.attributionThreshold = attributionThreshold
        self.verifyAloneGrades = verifyAloneGrades
        self.allowedLatenessSeconds = allowedLatenessSeconds
        self.corroborateWith = corroborateWith
        self.verifyWith = verifyWith
        self.reliableGrades = reliableGrades
        self.windows = windows
    }

    /// Reads the `verification` object of agreement.json; every member is optional and defaults to ``standard``.
    public init(json: JSONValue, path: String) throws {
        let f = try JSONFields(json, path: path)
        try f.rejectUnknown([
            "allowedLatenessSeconds", "corroborateWithIndependentSources", "verifyWithIndependentReliableSources",
            "reliableGrades", "verifyAloneGrades", "correlation", "timeUncertaintySeconds", "attributionThreshold",
            "crossLinePrior",
        ])
        var policy = Self.standard
        if let v = try f.optionalNumber("allowedLatenessSeconds") {
            guard v >= 0, v <= 30 * 86_400 else {
                throw FieldError(path: f.path("allowedLatenessSeconds"), reason: "must be in 0…2592000")
            }
            policy.allowedLatenessSeconds = v
        }
        policy.corroborateWith =
            try f.optionalInteger("corroborateWithIndependentSources", in: 1...20) ?? policy.corroborateWith
        policy.verifyWith =
            try f.optionalInteger("verifyWithIndependentReliableSources", in: 1...20) ?? policy.verifyWith
        func grades(_ key: String) throws -> [Reliability]? {
            f.members[key] == nil ? nil : try f.enumerationList(key, as: Reliability.self)
        }
        policy.reliableGrades = try grades("reliableGrades") ?? policy.reliableGrades
        policy.verifyAloneGrades = try grades("verifyAloneGrades") ?? policy.verifyAloneGrades
        if let correlation = try f.optionalObject("correlation") {
            try correlation.rejectUnknown(KindGroup.allCases.map(\.rawValue))
            for group in KindGroup.allCases {
                guard let w = try correlation.optionalObject(group.rawValue) else { continue }
                try w.rejectUnknown(["seconds", "meters"])
                let seconds = try w.number("seconds"), meters = try w.number("meters")
                guard seconds >= 0, seconds <= 86_400 else {
                    throw FieldError(path: w.path("seconds"), reason: "must be in 0…86400")
                }
                guard meters >= 0, meters <= Self.maximumLinkMeters else {
                    throw FieldError(path: w.path("meters"), reason: "must be in 0…\(Int(Self.maximumLinkMeters))")
                }
                policy.windows[group] = Window(seconds: seconds, meters: meters)
            }
        }
        if let byKind = try f.optionalObject("timeUncertaintySeconds") {
            try byKind.rejectUnknown(SourceKind.allCases.map(\.rawValue))
            for kind in SourceKind.allCases {
                guard let v = try byKind.optionalNumber(kind.rawValue) else { continue }
                guard v >= 0, v <= Self.maximumTimeSlackSeconds else {
                    throw FieldError(
                        path: byKind.path(kind.rawValue), reason: "must be in 0…\(Int(Self.maximumTimeSlackSeconds))")
                }
                policy.timeUncertaintyByKind[kind] = v
            }
        }
        if let v = try f.optionalNumber("attributionThreshold") {
            guard v >= 0.5, v < 1 else {
                throw FieldError(path: f.path("attributionThreshold"), reason: "must be at least 0.5 and below 1")
            }
            policy.attributionThreshold = v
        }
        if let v = try f.optionalNumber("crossLinePrior") {
            guard v >= 0.5, v < 1 else {
                throw FieldError(path: f.path("crossLinePrior"), reason: "must be at least 0.5 and below 1")
            }
            policy.crossLinePrior = v
        }
        // Where fire lands must never attribute it alone, whichever of the two was given.
        guard policy.crossLinePrior < policy.attributionThreshold else {
            let key = f.members["crossLinePrior"] != nil ? "crossLinePrior" : "attributionThreshold"
            throw FieldError(
                path: f.path(key),
                reason:
                    "crossLinePrior (\(JSONFields.format(policy.crossLinePrior))) must be below attributionThreshold (\(JSONFields.format(policy.attributionThreshold)))"
            )
        }
        self = policy
    }

    /// The policy as written into agreement.json.
    public var json: JSONValue {
        .object([
            "allowedLatenessSeconds": .number(allowedLatenessSeconds),
            "corroborateWithIndependentSources": .number(Double(corroborateWith)),
            "verifyWithIndependentReliableSources": .number(Double(verifyWith)),
            "reliableGrades": .array(reliableGrades.map { .string($0.rawValue) }),
            "verifyAloneGrades": .array(verifyAloneGrades.map { .string($0.rawValue) }),
            "correlation": .object(
                Dictionary(
                    uniqueKeysWithValues: KindGroup.allCases.map { group in
                        let w = window(for: group)
                        return (
                            group.rawValue,
                            JSONValue.object(["seconds": .number(w.seconds), "meters": .number(w.meters)])
                        )
                    })),
            "timeUncertaintySeconds": .object(
                Dictionary(
                    uniqueKeysWithValues: timeUncertaintyByKind.map { ($0.key.rawValue, JSONValue.number($0.value)) })),
            "attributionThreshold": .number(attributionThreshold), "crossLinePrior": .number(crossLinePrior),
        ])
    }
}
