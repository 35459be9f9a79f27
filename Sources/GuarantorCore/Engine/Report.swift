import Crypto

/// One observation as the engine holds it: the record, and what is derived from it once on arrival.
struct Report: Sendable {
    var observation: Observation
    /// Earth-centred position of its location.
    var position: Vector3
    /// `observedAt` in nanoseconds.
    var time: Int64
    /// Arrived later than the allowed lateness: an incident of its own, never correlated.
    var late: Bool
    /// Where its own location lies (what observations.ndjson says of it).
    var classification: Classification
    /// A late report that describes an incident already sealed: that incident's id (``RecentlySealed``).
    var joins: String? = nil
    /// The time uncertainty it is correlated with (seconds, ``Mission/timeUncertainty(of:source:)``).
    var timeUncertainty: Double
    /// Set on the copy an incident is built from when two incidents explain this report about equally
    /// (``Correlator/ambiguityMargin``): the observation ids of their precise reports nearest to it.
    var ambiguousBetween: [String]? = nil

    /// Whether this report comes before `other` by (observedAt, id): the order of an incident's members.
    @inline(__always) func isEarlier(than other: Report) -> Bool {
        time != other.time ? time < other.time : observation.id < other.observation.id
    }
}

extension Mission {
    /// An observation as the engine holds it (`time`: its event time in nanoseconds).
    func report(_ o: Observation, late: Bool, joins: String? = nil) -> Report {
        let point = o.location.point
        return Report(
            observation: o, position: WGS84.ecef(point), time: o.observedAt.nanoseconds, late: late,
            classification: classify(point), joins: joins,
            timeUncertainty: timeUncertainty(of: o, source: sources[o.source]))
    }

    /// The time uncertainty a report is correlated with (seconds): the larger of what it states and what its source
    /// may be off by — the source's own `timeUncertaintySeconds`, else its kind's default in the verification policy.
    public func timeUncertainty(of o: Observation, source: Source?) -> Double {
        guard let source else { return o.timeUncertaintySeconds }
        let typical = source.timeUncertaintySeconds ?? agreement.verification.timeUncertaintyByKind[source.kind] ?? 0
        return max(o.timeUncertaintySeconds, typical)
    }

    /// Whether a report (of `source`, looked up once by the caller) is precise enough to found an incident: not a
    /// party's claim, located within 1 km and timed within 2 minutes.
    func isAnchor(_ report: Report, source: Source?) -> Bool {
        source?.kind != .partyClaim
            && report.observation.location.uncertaintyMeters <= Correlator.anchorMaximumUncertaintyMeters
            && report.timeUncertainty <= Correlator.anchorMaximumTimeUncertaintySeconds
    }
}

/// The 64-bit key behind an incident id: the first 8 bytes of the SHA-256 of the id of its earliest observation.
/// `I` and the key in 16 hexadecimal digits is the incident's id, the same on every replay.
public enum IncidentKey {
    /// The key of the incident whose earliest observation has this id.
    public static func of(observationId id: String) -> UInt64 {
        var id = id
        return id.withUTF8 { bytes in
            SHA256.hash(data: UnsafeRawBufferPointer(bytes)).withUnsafeBytes { digest in
                var key: UInt64 = 0
                for i in 0..<8 { key = key << 8 | UInt64(digest[i]) }
                return key
            }
        }
    }

    /// `I` and 16 lowercase hexadecimal digits.
    public static func incidentId(_ key: UInt64) -> String {
        var bytes = [UInt8](repeating: 0, count: 17)
        bytes[0] = UInt8(ascii: "I")
        hex(key, into: &bytes, at: 1)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes the key as 16 lowercase hexadecimal digits into `bytes` from `offset`.
    static func hex(_ key: UInt64, into bytes: inout [UInt8], at offset: Int) {
        let digits: StaticString = "0123456789abcdef"
        digits.withUTF8Buffer { d in
            for i in 0..<16 { bytes[offset + i] = d[Int((key >> UInt64(60 - 4 * i)) & 0xF)] }
        }
    }

    /// The key of an incident id `I` + 16 hexadecimal digits, or of the incident a finding id `V` + 16 digits + `-…`
    /// names; `nil` for anything else.
    public static func parse(_ id: String) -> UInt64? {
        let utf8 = Array(id.utf8)
        guard utf8.count >= 17, utf8[0] == UInt8(ascii: "I") || utf8[0] == UInt8(ascii: "V") else { return nil }
        if utf8[0] == UInt8(ascii: "I") && utf8.count != 17 { return nil }
        if utf8[0] == UInt8(ascii: "V") && (utf8.count < 19 || utf8[17] != UInt8(ascii: "-")) { return nil }
        var key: UInt64 = 0
        for b in utf8[1..<17] {
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            default: return nil
            }
            key = key << 4 | UInt64(digit)
        }
        return key
    }
}
