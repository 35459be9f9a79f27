import Crypto

/// The Merkle tree over the event log, hashed as RFC 9162 (Certificate Transparency 2.0) §2.1 prescribes:
/// `leaf = SHA-256(0x00 ‖ data)`, `node = SHA-256(0x01 ‖ left ‖ right)`, the left subtree of `n` leaves holding the
/// largest power of two below `n`. A leaf's data is the event's sequence number, kind and payload
/// (``leafData(sequence:kind:payload:)``).
///
/// Hashes of complete aligned subtrees are kept level by level, so a root, an inclusion proof or a consistency proof
/// for any size costs O(log n) hashes.
public struct MerkleTree: Sendable {
    /// `levels[k][i]`: the hash of leaves `i·2^k ..< (i+1)·2^k`.
    private var levels: [[[UInt8]]] = [[]]

    public init() {}

    /// Number of leaves.
    public var size: Int { levels[0].count }

    /// The bytes a log event contributes as a leaf: `u64be(sequence) ‖ u32be(len kind) ‖ kind ‖ u32be(len payload) ‖
    /// payload`.
    public static func leafData(sequence: Int64, kind: String, payload: [UInt8]) -> [UInt8] {
        var data: [UInt8] = []
        data.reserveCapacity(16 + kind.utf8.count + payload.count)
        for shift in stride(from: 56, through: 0, by: -8) {
            data.append(UInt8(truncatingIfNeeded: UInt64(sequence) >> UInt64(shift)))
        }
        appendLength(kind.utf8.count, to: &data)
        data += kind.utf8
        appendLength(payload.count, to: &data)
        data += payload
        return data
    }

    private static func appendLength(_ n: Int, to data: inout [UInt8]) {
        for shift in [24, 16, 8, 0] { data.append(UInt8(truncatingIfNeeded: n >> shift)) }
    }

    /// `SHA-256(0x00 ‖ data)`.
    public static func leafHash(_ data: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0])
        hasher.update(data: data)
        return Array(hasher.finalize())
    }

    /// `SHA-256(0x01 ‖ left ‖ right)`.
    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [1])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The root of the empty tree: SHA-256 of nothing.
    public static let emptyRoot = Array(SHA256.hash(data: [UInt8]()))

    /// Appends a leaf by its hash (``leafHash(_:)``).
    public mutating func append(leafHash: [UInt8]) {
        levels[0].append(leafHash)
        var level = 0
        // Each time a level gains the right half of a pair, the pair's parent is complete.
        while levels[level].count % 2 == 0 {
            let count = levels[level].count
            let parent = Self.nodeHash(levels[level][count - 2], levels[level][count - 1])
            if levels.count == level + 1 { levels.append([]) }
            levels[level + 1].append(parent)
            level += 1
        }
    }

    /// The root of the first `size` leaves (`size` ≤ ``size``).
    public func root(size: Int) -> [UInt8] {
        precondition(size >= 0 && size <= self.size)
        return size == 0 ? Self.emptyRoot : hash(0, size)
    }

    /// MTH of leaves `start ..< end`, where `start` is a multiple of the largest power of two below `end − start`
    /// (always true in RFC 9162's recursion from 0).
    private func hash(_ start: Int, _ end: Int) -> [UInt8] {
        let n = end - start
        if n & (n - 1) == 0 && start % n == 0 {
            let level = n.trailingZeroBitCount
            return levels[level][start >> level]
        }
        let k = Self.largestPowerOfTwo(below: n)
        return Self.nodeHash(hash(start, start + k), hash(start + k, end))
    }

    /// The largest power of two strictly below `n` (n ≥ 2).
    static func largestPowerOfTwo(below n: Int) -> Int {
        1 << (Int.bitWidth - 1 - (n - 1).leadingZeroBitCount)
    }

    /// The audit path of leaf `index` in the tree of the first `size` leaves (RFC 9162 §2.1.3.1).
    public func inclusionProof(index: Int, size: Int) -> [[UInt8]] {
        precondition(index >= 0 && index < size && size <= self.size)
        return path(index, 0, size)
    }

    private func path(_ m: Int, _ start: Int, _ end: Int) -> [[UInt8]] {
        let n = end - start
        if n == 1 { return [] }
        let k = Self.largestPowerOfTwo(below: n)
        if m < k { return path(m, start, start + k) + [hash(start + k, end)] }
        return path(m - k, start + k, end) + [hash(start, start + k)]
    }

    /// The proof that the tree of the first `old` leaves is a prefix of the tree of the first `new` (RFC 9162
    /// §2.1.4.1).
    public func consistencyProof(old: Int, new: Int) -> [[UInt8]] {
        precondition(old >= 0 && old <= new && new <= size)
        if old == 0 || old == new { return [] }
        return subproof(old, 0, new, true)
    }

    private func subproof(_ m: Int, _ start: Int, _ end: Int, _ complete: Bool) -> [[UInt8]] {
        let n = end - start
        if m == n { return complete ? [] : [hash(start, end)] }
        let k = Self.largestPowerOfTwo(below: n)
        if m <= k { return subproof(m, start, start + k, complete) + [hash(start + k, end)] }
        return subproof(m - k, start + k, end, false) + [hash(start, start + k)]
    }

    // MARK: - Verification (what a member checks on its own, RFC 9162 §2.1.3.2 and §2.1.4.2)

    /// Whether `proof` shows the leaf with hash `leafHash` at `index` in a tree of `size` leaves with root `root`.
    public static func verifyInclusion(
        leafHash: [UInt8], index: Int, size: Int, proof: [[UInt8]], root: [UInt8]
    ) -> Bool {
        guard index >= 0 && index < size else { return false }
        var fn = index, sn = size - 1
        var r = leafHash
        for p in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// Whether `proof` shows that the tree of `old` leaves with root `oldRoot` is a prefix of the tree of `new`
    /// leaves with root `newRoot`.
    public static func verifyConsistency(
        old: Int, new: Int, oldRoot: [UInt8], newRoot: [UInt8], proof: [[UInt8]]
    ) -> Bool {
        guard old >= 0 && old <= new else { return false }
        if old == new { return proof.isEmpty && oldRoot == newRoot }
        if old == 0 { return proof.isEmpty }
        guard !proof.isEmpty else { return false }
        var path = proof
        if old & (old - 1) == 0 { path.insert(oldRoot, at: 0) }
        var fn = old - 1, sn = new - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && fr == oldRoot && sr == newRoot
    }
}
