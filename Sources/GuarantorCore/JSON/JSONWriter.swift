/// Writes JSON text byte for byte the same on every machine: members in the order written, numbers in Swift's
/// shortest round-trip form, strings escaped minimally. Used for every output the engine makes.
public struct JSONWriter: Sendable {
    /// The text written so far.
    public private(set) var bytes: [UInt8] = []
    /// Whether the next value at each open nesting level needs a comma first: bit `depth` of `commas`.
    private var commas: UInt64 = 0
    private var depth = 0

    public init() {}

    /// A writer with room for `capacity` bytes before it has to grow.
    public init(capacity: Int) { bytes.reserveCapacity(capacity) }

    /// The text as a string.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Ends a line of NDJSON: writes a newline and starts a fresh top-level value.
    public mutating func newline() {
        bytes.append(0x0A)
        commas = 0
        depth = 0
    }

    /// Starts an object (as a value, or as a member's value after ``key(_:)``).
    public mutating func beginObject() { open(UInt8(ascii: "{")) }
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { open(UInt8(ascii: "[")) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    /// Nesting deeper than this is refused (the engine's outputs nest three levels).
    public static let maximumDepth = 63

    private mutating func open(_ bracket: UInt8) {
        separate()
        bytes.append(bracket)
        depth += 1
        precondition(depth <= Self.maximumDepth, "JSON nested too deeply")
        commas &= ~(1 << UInt64(depth))
    }

    private mutating func close(_ bracket: UInt8) {
        depth -= 1
        bytes.append(bracket)
    }

    /// Writes a member name; the next value written is its value.
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }  // names in the source need no escaping
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        commas &= ~(1 << UInt64(depth))
    }

    /// Writes a member name known only at run time.
    public mutating func key(dynamic name: String) {
        separate()
        writeString(name)
        bytes.append(UInt8(ascii: ":"))
        commas &= ~(1 << UInt64(depth))
    }

    public mutating func string(_ value: String) { separate(); writeString(value) }

    /// Writes a value that is already JSON text (a record's canonical form), as it is.
    public mutating func raw(_ json: [UInt8]) {
        separate()
        bytes += json
    }
    public mutating func bool(_ value: Bool) { separate(); bytes.append(contentsOf: (value ? "true" : "false").utf8) }
    public mutating func null() { separate(); bytes.append(contentsOf: "null".utf8) }
    public mutating func int(_ value: Int) {
        separate()
        writeInteger(Int64(value))
    }

    /// Writes a time as RFC 3339 in UTC (``Timestamp/rfc3339``), without building a string.
    public mutating func timestamp(_ t: Timestamp) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        t.writeRFC3339(into: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func writeInteger(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8
            ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[i]) }
        }
    }

    /// Writes a finite number; integers without a fraction (`12`), others in shortest round-trip form.
    public mutating func number(_ value: Double) {
        precondition(value.isFinite, "JSON numbers must be finite")
        separate()
        if value == value.rounded() && abs(value) < 1e15 {
            writeInteger(Int64(value))
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    /// Writes a number rounded to a number of decimal places (e.g. centimetres for metres with 2).
    public mutating func number(_ value: Double, decimals: Int) {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        number((value * scale).rounded() / scale)
    }

    /// Writes any parsed JSON value, with object members in sorted order.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let n): number(n)
        case .string(let s): string(s)
        case .array(let items):
            beginArray()
            for item in items { self.value(item) }
            endArray()
        case .object(let members):
            beginObject()
            for name in members.keys.sorted() {
                key(dynamic: name)
                self.value(members[name]!)
            }
            endObject()
        }
    }

    @inline(__always) private mutating func separate() {
        let bit: UInt64 = 1 << UInt64(depth)
        if commas & bit != 0 { bytes.append(UInt8(ascii: ",")) }
        commas |= bit
    }

    private mutating func writeString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        let plain = s.withUTF8 { buffer in
            for byte in buffer where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                return false
            }
            bytes.append(contentsOf: buffer)
            return true
        }
        if plain {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [
                    0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)],
                ])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
