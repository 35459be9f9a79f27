/// A location with its stated uncertainty (radius, metres).
public struct Location: Sendable, Equatable {
    public var point: GeoPoint
    public var uncertaintyMeters: Double

    public init(point: GeoPoint, uncertaintyMeters: Double) {
        self.point = point
        self.uncertaintyMeters = uncertaintyMeters
    }
}

/// The hash and media type of a file attached to an observation.
public struct Evidence: Sendable, Equatable {
    /// SHA-256 of the file, 64 lowercase hexadecimal digits.
    public var sha256: String
    /// Media type, e.g. `image/jpeg`.
    public var mediaType: String
}

/// One report from one source (DESIGN §3.2): the input of the whole engine.
public struct Observation: Sendable, Equatable {
    /// The sender's id; the idempotency key.
    public var id: String
    /// The id of a source in sources.json.
    public var source: String
    public var observedAt: Timestamp
    public var kind: ObservationKind
    public var location: Location
    public var reportedAt: Timestamp?
    /// How precise `observedAt` is, seconds (a stated ± range; 0 when exact or not stated).
    public var timeUncertaintySeconds: Double
    /// An estimated point of fire.
    public var origin: Location?
    /// Bearing from the observer towards the origin, degrees clockwise from north, 0 ≤ b < 360.
    public var bearingDegrees: Double?
    public var weaponClass: WeaponClass?
    public var count: Int?
    /// Admiralty credibility 1–6 as stated by the sender.
    public var credibility: Int?
    public var tlp: TLP?
    public var text: String?
    public var evidence: [Evidence]
    /// The user who filed it (set by the server from the API key); such a user cannot verify its incident.
    public var submittedBy: String?
    /// The member state the record comes from (set by the server from the API key); it decides, with `tlp` and
    /// `recipients`, who may read it.
    public var originator: String?
    /// Members named as recipients beyond what the TLP marking allows (TLP 2.0 "explicit list").
    public var recipients: [String] = []
    /// When the store received it: set by the store on receipt (never by the sender), part of the stored and hashed
    /// record, so a replay sees the same. Absent in files that were never stored.
    public var receivedAt: Timestamp?

    public init(
        id: String, source: String, observedAt: Timestamp, kind: ObservationKind, location: Location,
        reportedAt: Timestamp? = nil, timeUncertaintySeconds: Double = 0, origin: Location? = nil,
        bearingDegrees: Double? = nil,
        weaponClass: WeaponClass? = nil, count: Int? = nil, credibility: Int? = nil, tlp: TLP? = nil,
        text: String? = nil, evidence: [Evidence] = [], submittedBy: String? = nil
    ) {
        self.submittedBy = submittedBy
        self.id = id
        self.source = source
        self.observedAt = observedAt
        self.kind = kind
        self.location = location
        self.reportedAt = reportedAt
        self.timeUncertaintySeconds = timeUncertaintySeconds
        self.origin = origin
        self.bearingDegrees = bearingDegrees
        self.weaponClass = weaponClass
        self.count = count
        self.credibility = credibility
        self.tlp = tlp
        self.text = text
        self.evidence = evidence
    }
}

extension Observation {
    /// How far after its receipt an observation may be dated by default: five minutes of clock error.
    public static let defaultMaximumSkewSeconds = 300.0
    /// The largest skew that may be configured: a day.
    public static let maximumSkewSeconds = 86_400.0

    /// The same observation, received at `time` (`nil`: with no receipt time).
    public func received(at time: Timestamp?) -> Observation {
        var o = self
        o.receivedAt = time
        return o
    }

    /// Why a store must refuse this observation: dated more than `maximumSkewSeconds` after its receipt (a sender's
    /// clock ahead of the mission's), or `nil`.
    public func receiptProblem(maximumSkewSeconds: Double) -> String? {
        let skew = maximumSkewSeconds.isNaN ? 0 : min(max(maximumSkewSeconds, 0), Self.maximumSkewSeconds)
        guard let receivedAt, observedAt > receivedAt.adding(Timestamp.seconds(skew)) else { return nil }
        return "observedAt \(observedAt) is more than \(JSONFields.format(maximumSkewSeconds)) s after its receipt "
            + "\(receivedAt): the sender's clock is ahead"
    }
}
