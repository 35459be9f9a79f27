import Crypto

/// The hash chain of the event log: each event's hash covers the previous hash, its sequence number, its kind
/// and its payload, so changing, removing or reordering any event changes every hash after it.
///
/// `hash(n) = SHA-256(hash(n−1) ‖ u64be(n) ‖ u32be(len kind) ‖ kind ‖ u32be(len payload) ‖ payload)`, with
/// `hash(0)` = 32 zero bytes. Payloads are canonical JSON (e.g. ``Observation/canonicalJSON``).
public enum EventChain {
    /// The hash before the first event.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// The hash of event `sequence` following `previous`.
    public static func hash(previous: [UInt8], sequence: Int64, kind: String, payload: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        var header: [UInt8] = []
        header.reserveCapacity(12)
        for shift in stride(from: 56, through: 0, by: -8) {
            header.append(UInt8(truncatingIfNeeded: UInt64(sequence) >> UInt64(shift)))
        }
        hasher.update(data: header)
        let kindBytes = Array(kind.utf8)
        hasher.update(data: bigEndian32(kindBytes.count))
        hasher.update(data: kindBytes)
        hasher.update(data: bigEndian32(payload.count))
        hasher.update(data: payload)
        return Array(hasher.finalize())
    }

    private static func bigEndian32(_ n: Int) -> [UInt8] {
        [
            UInt8(truncatingIfNeeded: n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8),
            UInt8(truncatingIfNeeded: n),
        ]
    }

    /// The first `bytes` bytes of SHA-256 of `data`, in lowercase hexadecimal: short content-derived ids.
    public static func digestPrefix(_ data: [UInt8], bytes: Int = 8) -> String {
        hex(Array(SHA256.hash(data: data).prefix(bytes)))
    }

    /// Lowercase hexadecimal.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The kinds of event in the log.
public enum EventKind: String, Sendable, CaseIterable {
    /// An observation was accepted; the payload is its canonical JSON.
    case observation
    /// An analyst's, board member's or party's decision; the payload is the action's canonical JSON.
    case action
    /// A read of restricted records or an export through the API: who, what, when. Not an input of the engines.
    case audit
    /// Fields of an earlier observation hidden from every output (``Redaction``); that event keeps its leaf.
    case redaction
    /// An API key was created or revoked: its id, holder, role and time (never the key or its hash). Not an input
    /// of the engines.
    case key
    /// A report was issued (``IssuedReport``): what, for whom, and each file's SHA-256. Not an input of the engines.
    case report
}
