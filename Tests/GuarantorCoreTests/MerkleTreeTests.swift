import Crypto
import Foundation
import Testing

@testable import GuarantorCore

/// The Merkle tree against RFC 9162's definitions, computed the slow way, and its proofs against the RFC's
/// verification algorithms.
@Suite struct MerkleTreeTests {
    static let leaves: [[UInt8]] = (0..<70).map { Array("event \($0)".utf8) }

    /// MTH(D[n]) exactly as RFC 9162 §2.1.1 defines it.
    static func referenceRoot(_ data: ArraySlice<[UInt8]>) -> [UInt8] {
        if data.isEmpty { return Array(SHA256.hash(data: [UInt8]())) }
        if data.count == 1 { return MerkleTree.leafHash(data.first!) }
        let k = MerkleTree.largestPowerOfTwo(below: data.count)
        return MerkleTree.nodeHash(
            referenceRoot(data.prefix(k)), referenceRoot(data.dropFirst(k)))
    }

    static func tree(_ count: Int) -> MerkleTree {
        var tree = MerkleTree()
        for leaf in leaves.prefix(count) { tree.append(leafHash: MerkleTree.leafHash(leaf)) }
        return tree
    }

    @Test func rootsMatchTheDefinitionForEverySize() {
        let tree = Self.tree(Self.leaves.count)
        for n in 0...Self.leaves.count {
            #expect(tree.root(size: n) == Self.referenceRoot(Self.leaves.prefix(n)[...]), "size \(n)")
        }
        // RFC 6962's empty-tree hash.
        #expect(
            EventChain.hex(MerkleTree.emptyRoot) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func everyInclusionProofVerifiesAndATamperedOneDoesNot() {
        let tree = Self.tree(40)
        for size in 1...40 {
            let root = tree.root(size: size)
            for index in 0..<size {
                let leaf = MerkleTree.leafHash(Self.leaves[index])
                let proof = tree.inclusionProof(index: index, size: size)
                #expect(MerkleTree.verifyInclusion(leafHash: leaf, index: index, size: size, proof: proof, root: root))
                // Another leaf, another position, or a changed step: refused.
                let other = MerkleTree.leafHash(Self.leaves[(index + 1) % 40])
                #expect(
                    !MerkleTree.verifyInclusion(leafHash: other, index: index, size: size, proof: proof, root: root))
                if size > 1 {
                    #expect(
                        !MerkleTree.verifyInclusion(
                            leafHash: leaf, index: (index + 1) % size, size: size, proof: proof, root: root))
                    var bent = proof
                    bent[0][0] ^= 1
                    #expect(
                        !MerkleTree.verifyInclusion(leafHash: leaf, index: index, size: size, proof: bent, root: root))
                }
            }
        }
    }

    @Test func everyConsistencyProofVerifiesAndARewrittenHistoryDoesNot() {
        let tree = Self.tree(40)
        var rewritten = MerkleTree()
        for (i, leaf) in Self.leaves.prefix(40).enumerated() {
            rewritten.append(leafHash: MerkleTree.leafHash(i == 5 ? Array("changed".utf8) : leaf))
        }
        for new in 1...40 {
            for old in 1...new {
                let proof = tree.consistencyProof(old: old, new: new)
                #expect(
                    MerkleTree.verifyConsistency(
                        old: old, new: new, oldRoot: tree.root(size: old), newRoot: tree.root(size: new),
                        proof: proof), "\(old) → \(new)")
                // A new tree whose history differs from the old one's (event 6 changed) cannot be proven consistent.
                if old > 5 && old < new {
                    let forged = rewritten.consistencyProof(old: old, new: new)
                    #expect(
                        !MerkleTree.verifyConsistency(
                            old: old, new: new, oldRoot: tree.root(size: old), newRoot: rewritten.root(size: new),
                            proof: forged), "\(old) → \(new) rewritten")
                }
            }
        }
    }

    @Test func aCheckpointSurvivesItsTextAndItsSignatureHolds() throws {
        let tree = Self.tree(12)
        let checkpoint = Checkpoint(
            mission: "example", size: 12, root: tree.root(size: 12),
            results: Checkpoint.digest(of: [("incidents.ndjson", Array("x".utf8))]),
            time: Timestamp(rfc3339: "2026-11-22T06:00:00Z")!)
        #expect(try Checkpoint(body: checkpoint.body) == checkpoint)
        let key = Curve25519.Signing.PrivateKey()
        let signature = try SigningKeys.sign(checkpoint.body, with: key)
        #expect(SigningKeys.isValid(signature, of: checkpoint.body, by: key.publicKey))
        var other = checkpoint
        other.size = 11
        #expect(!SigningKeys.isValid(signature, of: other.body, by: key.publicKey))
        #expect(throws: FieldError.self) {
            try Checkpoint(body: checkpoint.body.replacingOccurrences(of: "size 12", with: "size x"))
        }
    }
}
