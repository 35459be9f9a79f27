/// Reads an observation straight from the bytes of one NDJSON line, without generic JSON values: the hot path of
/// replay and ingest.
///
/// It takes only what is plain — ASCII strings without escapes, the usual members, valid values — and returns `nil`
/// for anything else (an escape, an unknown or repeated member, a value out of range, evidence or recipients): the
/// general reader (``Observation/init(json:isKnownSource:)``) then decides, and names the error. What it returns is
/// exactly what the general reader would (a test compares them on valid and broken lines).
struct ObservationDecoder: ~Copyable {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// The observation on `line`, or `nil` when the general reader must decide.
    static func decode(_ line: UnsafeBufferPointer<UInt8>, isKnownSource: (String) -> Bool) -> Observation? {
        var decoder = ObservationDecoder(line)
        return decoder.observation(isKnownSource: isKnownSource)
    }

    private enum Member: CaseIterable {
        case id, source, observedAt, kind, location, reportedAt, timeUncertaintySeconds, origin, bearingDegrees,
            weaponClass, count, credibility, tlp, text, submittedBy, originator, receivedAt
    }

    private static let names: [(Member, [UInt8])] = Member.allCases.map { ($0, Array("\($0)".utf8)) }

    private mutating func observation(isKnownSource: (String) -> Bool) -> Observation? {
        var id: String?, source: String?, observedAt: Timestamp?, kind: ObservationKind?, location: Location?
        var reportedAt: Timestamp?, timeUncertainty: Double?, origin: Location?, bearing: Double?
        var weapon: WeaponClass?, count: Double?, credibility: Double?, tlp: TLP?, text: String?
        var submittedBy: String?, originator: String?, receivedAt: Timestamp?
        var seen: UInt32 = 0
        skipSpace()
        guard take(UInt8(ascii: "{")) else { return nil }
        skipSpace()
        if !take(UInt8(ascii: "}")) {
            while true {
                skipSpace()
                guard let name = plainString(), let member = Self.member(name) else { return nil }
                let bit = UInt32(1) << UInt32(Member.allCases.firstIndex(of: member)!)
                guard seen & bit == 0 else { return nil }
                seen |= bit
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                let isNull = peekNull()
                switch member {
                case .id: guard let s = string() else { return nil }; id = s
                case .source: guard let s = string() else { return nil }; source = s
                case .observedAt: guard let t = timestamp() else { return nil }; observedAt = t
                case .kind: guard let k = enumeration(ObservationKind.self) else { return nil }; kind = k
                case .location: guard let l = self.location() else { return nil }; location = l
                case .reportedAt:
                    if isNull { break }
                    guard let t = timestamp() else { return nil }
                    reportedAt = t
                case .timeUncertaintySeconds:
                    if isNull { break }
                    guard let n = number() else { return nil }
                    timeUncertainty = n
                case .origin:
                    if isNull { break }
                    guard let l = self.location() else { return nil }
                    origin = l
                case .bearingDegrees:
                    if isNull { break }
                    guard let n = number() else { return nil }
                    bearing = n
                case .weaponClass:
                    if isNull { break }
                    guard let w = enumeration(WeaponClass.self) else { return nil }
                    weapon = w
                case .count:
                    if isNull { break }
                    guard let n = number() else { return nil }
                    count = n
                case .credibility:
                    if isNull { break }
                    guard let n = number() else { return nil }
                    credibility = n
                case .tlp:
                    if isNull { break }
                    guard let t = enumeration(TLP.self) else { return nil }
                    tlp = t
                case .text:
                    if isNull { break }
                    guard let s = string() else { return nil }
                    text = s
                case .submittedBy:
                    if isNull { break }
                    guard let s = string() else { return nil }
                    submittedBy = s
                case .originator:
                    if isNull { break }
                    guard let s = string() else { return nil }
                    originator = s
                case .receivedAt:
                    if isNull { break }
                    guard let t = timestamp() else { return nil }
                    receivedAt = t
                }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                guard take(UInt8(ascii: "}")) else { return nil }
                break
            }
        }
        skipSpace()
        guard index == bytes.count else { return nil }
        // The general reader's checks, in its order; any failure goes back to it for the message.
        guard let id, !id.isEmpty, id.utf8.count <= Observation.maximumIdLength else { return nil }
        guard let source, isKnownSource(source), let observedAt, let kind, let location else { return nil }
        if let reportedAt, reportedAt < observedAt { return nil }
        let tu = timeUncertainty ?? 0
        guard (0...86_400).contains(tu) else { return nil }
        if let b = bearing, !(b >= 0 && b < 360) { return nil }
        var countValue: Int?
        if let c = count {
            let range = kind == .siteInspection ? 0...1_000_000 : 1...1_000_000
            guard c == c.rounded(), c >= Double(range.lowerBound), c <= Double(range.upperBound) else { return nil }
            countValue = Int(c)
        }
        if kind == .siteInspection && (weapon == nil || countValue == nil) { return nil }
        var credibilityValue: Int?
        if let c = credibility {
            guard c == c.rounded(), c >= 1, c <= 6 else { return nil }
            credibilityValue = Int(c)
        }
        if let text, text.utf8.count > Observation.maximumTextLength { return nil }
        if let user = submittedBy, user.isEmpty || user.utf8.count > Observation.maximumIdLength { return nil }
        if let member = originator, member.isEmpty || member.utf8.count > Observation.maximumIdLength { return nil }
        var o = Observation(
            id: id, source: source, observedAt: observedAt, kind: kind, location: location, reportedAt: reportedAt,
            timeUncertaintySeconds: tu, origin: origin, bearingDegrees: bearing, weaponClass: weapon,
            count: countValue, credibility: credibilityValue, tlp: tlp, text: text, submittedBy: submittedBy)
        o.originator = originator
        o.receivedAt = receivedAt
        return o
    }

    private static func member(_ name: UnsafeBufferPointer<UInt8>) -> Member? {
        for (member, bytes) in names where bytes.count == name.count && bytes.elementsEqual(name) { return member }
        return nil
    }

    // MARK: Values

    @inline(__always) private mutating func skipSpace() {
        while index < bytes.count {
            let b = bytes[index]
            guard b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D else { return }
            index += 1
        }
    }

    @inline(__always) private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Takes a `null` if one comes next.
    private mutating func peekNull() -> Bool {
        guard index + 4 <= bytes.count, bytes[index] == UInt8(ascii: "n"), bytes[index + 1] == UInt8(ascii: "u"),
            bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l")
        else { return false }
        index += 4
        return true
    }

    /// A string of printable ASCII without escapes, as the bytes between its quotes.
    private mutating func plainString() -> UnsafeBufferPointer<UInt8>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                return slice
            }
            guard b >= 0x20, b < 0x80, b != UInt8(ascii: "\\") else { return nil }
            index += 1
        }
        return nil
    }

    private mutating func string() -> String? {
        plainString().map { String(decoding: $0, as: UTF8.self) }
    }

    private mutating func timestamp() -> Timestamp? { plainString().flatMap(Timestamp.parse) }

    private mutating func enumeration<E: RawRepresentable & CaseIterable>(_: E.Type) -> E? where E.RawValue == String {
        guard let raw = plainString() else { return nil }
        for value in E.allCases {
            var name = value.rawValue
            if name.withUTF8({ $0.count == raw.count && $0.elementsEqual(raw) }) { return value }
        }
        return nil
    }

    /// `{lon, lat, uncertaintyMeters}`, valid.
    private mutating func location() -> Location? {
        guard take(UInt8(ascii: "{")) else { return nil }
        var lon: Double?, lat: Double?, uncertainty: Double?
        skipSpace()
        guard !take(UInt8(ascii: "}")) else { return nil }
        while true {
            skipSpace()
            guard let name = plainString() else { return nil }
            skipSpace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            guard let value = number() else { return nil }
            switch name.count {
            case 3 where name[0] == UInt8(ascii: "l") && name[1] == UInt8(ascii: "o") && name[2] == UInt8(ascii: "n"):
                guard lon == nil else { return nil }
                lon = value
            case 3 where name[0] == UInt8(ascii: "l") && name[1] == UInt8(ascii: "a") && name[2] == UInt8(ascii: "t"):
                guard lat == nil else { return nil }
                lat = value
            case 17 where name.elementsEqual("uncertaintyMeters".utf8):
                guard uncertainty == nil else { return nil }
                uncertainty = value
            default: return nil
            }
            skipSpace()
            if take(UInt8(ascii: ",")) { continue }
            guard take(UInt8(ascii: "}")) else { return nil }
            break
        }
        guard let lon, let lat, let uncertainty, GeoPoint.problem(lon: lon, lat: lat) == nil,
            uncertainty >= 0, uncertainty <= Observation.maximumUncertaintyMeters
        else { return nil }
        return Location(point: GeoPoint(lon: lon, lat: lat), uncertaintyMeters: uncertainty)
    }

    private static let powers: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { r, _ in r * 10 } }

    /// A JSON number. Up to 15 significant digits and a small exponent it is exact by one division or
    /// multiplication (both operands are exact doubles, so the result is correctly rounded, as `Double(String)` is);
    /// otherwise `Double(String)` decides.
    private mutating func number() -> Double? {
        let start = index
        var negative = false
        if take(UInt8(ascii: "-")) { negative = true }
        guard index < bytes.count else { return nil }
        var mantissa: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if isDigit(bytes[index]) {
            while index < bytes.count && isDigit(bytes[index]) {
                mantissa = mantissa &* 10 &+ UInt64(bytes[index] - 0x30)
                digits += 1
                index += 1
            }
        } else {
            return nil
        }
        if take(UInt8(ascii: ".")) {
            guard index < bytes.count, isDigit(bytes[index]) else { return nil }
            while index < bytes.count && isDigit(bytes[index]) {
                mantissa = mantissa &* 10 &+ UInt64(bytes[index] - 0x30)
                if mantissa != 0 || digits > 0 { digits += 1 }
                fractionDigits += 1
                index += 1
            }
        }
        var exponent = 0
        var hasExponent = false
        if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            hasExponent = true
            index += 1
            var negativeExponent = false
            if take(UInt8(ascii: "-")) { negativeExponent = true } else { _ = take(UInt8(ascii: "+")) }
            guard index < bytes.count, isDigit(bytes[index]) else { return nil }
            while index < bytes.count && isDigit(bytes[index]) {
                exponent = min(exponent * 10 + Int(bytes[index] - 0x30), 100_000)
                index += 1
            }
            if negativeExponent { exponent = -exponent }
        }
        let scale = exponent - fractionDigits
        if digits <= 15 && !hasExponent && scale >= -22 && scale <= 0 {
            let value = Double(mantissa) / Self.powers[-scale]
            return negative ? -value : value
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    @inline(__always) private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
}
