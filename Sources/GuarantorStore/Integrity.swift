import Crypto
import Foundation
import GuarantorCore

/// `integrity.json` in the mission directory: the mission's public signing key, the members' witness keys, how many
/// cosignatures publish a checkpoint, and how often the server makes one. Private keys are files of their own
/// (``SigningKeys``), never in the store.
public struct IntegrityConfiguration: Sendable {
    public static let file = "integrity.json"

    public var missionPublicKey: Curve25519.Signing.PublicKey?
    /// Witness public keys by member.
    public var witnesses: [String: Curve25519.Signing.PublicKey] = [:]
    /// Cosignatures that make a checkpoint published.
    public var quorum = 2
    /// The server's cadence (0: only on demand).
    public var checkpointEverySeconds = 60

    public init() {}

    /// Reads `integrity.json` from a mission directory; an empty configuration (no keys) when there is none.
    public static func load(_ directory: URL) throws -> IntegrityConfiguration {
        var c = IntegrityConfiguration()
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent(file).path) else { return c }
        let json = try MissionDirectory.readJSON(directory, file)
        do {
            let f = try JSONFields(json)
            try f.rejectUnknown(["missionPublicKey", "witnesses", "quorum", "checkpointEverySeconds"])
            c.missionPublicKey = try f.optionalString("missionPublicKey").map(SigningKeys.publicKey(base64:))
            for (i, value) in (f.members["witnesses"] == nil ? [] : try f.array("witnesses")).enumerated() {
                let w = try JSONFields(value, path: "witnesses[\(i)]")
                let member = try w.string("member")
                do {
                    c.witnesses[member] = try SigningKeys.publicKey(base64: try w.string("publicKey"))
                } catch let error as FieldError {
                    throw FieldError(path: w.path("publicKey"), reason: error.reason)
                }
            }
            c.quorum = try f.optionalInteger("quorum", in: 1...100) ?? 2
            c.checkpointEverySeconds = try f.optionalInteger("checkpointEverySeconds", in: 0...86_400) ?? 60
        } catch let error as FieldError {
            throw ConfigurationError(file: file, path: error.path, reason: error.reason)
        }
        return c
    }

    /// Writes it back to a mission directory.
    public func write(to directory: URL) throws {
        var members: [String: JSONValue] = [
            "witnesses": .array(
                witnesses.keys.sorted().map { member in
                    .object([
                        "member": .string(member),
                        "publicKey": .string(witnesses[member]!.rawRepresentation.base64EncodedString()),
                    ])
                }),
            "quorum": .number(Double(quorum)),
            "checkpointEverySeconds": .number(Double(checkpointEverySeconds)),
        ]
        if let missionPublicKey {
            members["missionPublicKey"] = .string(missionPublicKey.rawRepresentation.base64EncodedString())
        }
        try MissionDirectory.write(.object(members), to: directory.appendingPathComponent(Self.file))
    }
}

/// The Merkle tree of a store's log, kept in memory and brought up to date from the store when asked.
public final class MerkleIndex: @unchecked Sendable {
    private let store: EventStore
    private let lock = NSLock()
    private var tree = MerkleTree()

    public init(store: EventStore) { self.store = store }

    /// The tree over every event stored so far.
    public func current() throws -> MerkleTree {
        lock.lock()
        defer { lock.unlock() }
        for hash in try store.leafHashes(after: Int64(tree.size)) { tree.append(leafHash: hash) }
        return tree
    }
}

/// Making and storing signed checkpoints.
public enum Checkpoints {
    /// Signs a checkpoint of the first `size` events, whose result files have these SHA-256 digests, and stores it.
    public static func make(
        store: EventStore, tree: MerkleTree, size: Int, fileDigests: [(name: String, sha256: [UInt8])],
        key: Curve25519.Signing.PrivateKey, time: Timestamp
    ) throws -> SignedCheckpoint {
        let checkpoint = Checkpoint(
            mission: store.missionId, size: size, root: tree.root(size: size),
            results: Checkpoint.digest(ofFileDigests: fileDigests), time: time)
        let signed = SignedCheckpoint(
            checkpoint: checkpoint, signature: try SigningKeys.sign(checkpoint.body, with: key))
        try store.addCheckpoint(signed, resultFiles: fileDigests.map { ($0.name, EventChain.hex($0.sha256)) })
        return try store.checkpoints(size: size).first?.signed ?? signed
    }

    /// Signs a checkpoint of the first `size` events, whose results are `files`, and stores it.
    public static func make(
        store: EventStore, tree: MerkleTree, size: Int, files: [(name: String, bytes: [UInt8])],
        key: Curve25519.Signing.PrivateKey, time: Timestamp
    ) throws -> SignedCheckpoint {
        let checkpoint = Checkpoint(
            mission: store.missionId, size: size, root: tree.root(size: size),
            results: Checkpoint.digest(of: files), time: time)
        let signed = SignedCheckpoint(
            checkpoint: checkpoint, signature: try SigningKeys.sign(checkpoint.body, with: key))
        try store.addCheckpoint(
            signed, resultFiles: files.map { ($0.name, EventChain.hex(Array(SHA256.hash(data: $0.bytes)))) })
        return try store.checkpoints(size: size).first?.signed ?? signed
    }
}
