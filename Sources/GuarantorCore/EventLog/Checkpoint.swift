import Crypto
import Foundation

/// A signed statement of the log's state: its size, its Merkle root, a digest of the results drawn from it, and when
/// it was made. The mission signs it (Ed25519); members' witnesses cosign it once they have checked that it extends
/// the last one they cosigned.
///
/// The signed bytes are the text ``body``:
///
///     guarantor checkpoint v1
///     mission <agreement id>
///     size <number of events>
///     root <hex Merkle root of the first `size` events>
///     results <hex SHA-256 of the result files drawn from those events>
///     time <RFC 3339, when it was made>
public struct Checkpoint: Sendable, Equatable {
    public var mission: String
    public var size: Int
    public var root: [UInt8]
    public var results: [UInt8]
    public var time: Timestamp

    public init(mission: String, size: Int, root: [UInt8], results: [UInt8], time: Timestamp) {
        self.mission = mission
        self.size = size
        self.root = root
        self.results = results
        self.time = time
    }

    /// The bytes that are signed.
    public var body: String {
        """
        guarantor checkpoint v1
        mission \(mission)
        size \(size)
        root \(EventChain.hex(root))
        results \(EventChain.hex(results))
        time \(time.rfc3339)

        """
    }

    /// Reads a body back.
    /// - Throws: ``FieldError`` naming the line that is wrong.
    public init(body: String) throws {
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count == 7, lines[0] == "guarantor checkpoint v1", lines[6].isEmpty else {
            throw FieldError(path: "checkpoint", reason: "not a guarantor checkpoint v1 body (6 lines)")
        }
        func value(_ i: Int, _ name: String) throws -> String {
            guard lines[i].hasPrefix(name + " ") else {
                throw FieldError(path: "checkpoint line \(i + 1)", reason: "expected \"\(name) …\"")
            }
            return String(lines[i].dropFirst(name.count + 1))
        }
        mission = try value(1, "mission")
        guard let size = Int(try value(2, "size")), size >= 0 else {
            throw FieldError(path: "checkpoint line 3", reason: "size must be a whole number")
        }
        self.size = size
        guard let root = Self.bytes(hex: try value(3, "root")), root.count == 32 else {
            throw FieldError(path: "checkpoint line 4", reason: "root must be 64 hexadecimal digits")
        }
        self.root = root
        guard let results = Self.bytes(hex: try value(4, "results")), results.count == 32 else {
            throw FieldError(path: "checkpoint line 5", reason: "results must be 64 hexadecimal digits")
        }
        self.results = results
        guard let time = Timestamp(rfc3339: try value(5, "time")) else {
            throw FieldError(path: "checkpoint line 6", reason: "time must be RFC 3339")
        }
        self.time = time
    }

    /// Bytes from lowercase or uppercase hexadecimal, or `nil`.
    public static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var i = 0
        while i < digits.count {
            guard let high = nibble(digits[i]), let low = nibble(digits[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The digest of result files: SHA-256 over `name ‖ 0x00 ‖ SHA-256(bytes)` for each file, in the order given.
    public static func digest(of files: [(name: String, bytes: [UInt8])]) -> [UInt8] {
        digest(ofFileDigests: files.map { ($0.name, Array(SHA256.hash(data: $0.bytes))) })
    }

    /// ``digest(of:)`` from each file's SHA-256, as stored beside a checkpoint.
    public static func digest(ofFileDigests files: [(name: String, sha256: [UInt8])]) -> [UInt8] {
        var hasher = SHA256()
        for file in files {
            hasher.update(data: Array(file.name.utf8) + [0])
            hasher.update(data: file.sha256)
        }
        return Array(hasher.finalize())
    }
}

/// A checkpoint and its signatures: the mission's, and the witnesses' cosignatures by member.
public struct SignedCheckpoint: Sendable, Equatable {
    public var checkpoint: Checkpoint
    public var signature: [UInt8]
    public var cosignatures: [String: [UInt8]]

    public init(checkpoint: Checkpoint, signature: [UInt8], cosignatures: [String: [UInt8]] = [:]) {
        self.checkpoint = checkpoint
        self.signature = signature
        self.cosignatures = cosignatures
    }

    /// As JSON: `{body, signature, cosignatures: {member: signature}}`, signatures in base64.
    public var json: JSONValue {
        .object([
            "size": .number(Double(checkpoint.size)),
            "body": .string(checkpoint.body),
            "signature": .string(Data(signature).base64EncodedString()),
            "cosignatures": .object(cosignatures.mapValues { .string(Data($0).base64EncodedString()) }),
        ])
    }

    /// Reads the JSON form.
    public init(json: JSONValue) throws {
        let f = try JSONFields(json)
        checkpoint = try Checkpoint(body: try f.string("body"))
        guard let signature = Data(base64Encoded: try f.string("signature")) else {
            throw FieldError(path: "signature", reason: "not base64")
        }
        self.signature = Array(signature)
        cosignatures = [:]
        if case .object(let object) = f.members["cosignatures"] {
            for (member, value) in object {
                guard case .string(let text) = value, let bytes = Data(base64Encoded: text) else {
                    throw FieldError(path: "cosignatures.\(member)", reason: "not base64")
                }
                cosignatures[member] = Array(bytes)
            }
        }
    }
}

/// Ed25519 keys as files: the mission's signing key and each witness's. A private key file holds one line,
/// `guarantor-ed25519-private <base64 of the 32-byte seed>`, and is written readable by its owner only; keys never go
/// into the store.
public enum SigningKeys {
    static let privatePrefix = "guarantor-ed25519-private "

    /// A new key, written to `path` (mode 0600; an existing file is never overwritten). Returns its public key.
    public static func create(at path: String) throws -> Curve25519.Signing.PublicKey {
        let key = Curve25519.Signing.PrivateKey()
        let text = privatePrefix + key.rawRepresentation.base64EncodedString() + "\n"
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw FieldError(path: path, reason: "cannot write the key file")
        }
        return key.publicKey
    }

    /// Reads a private key file.
    public static func load(_ path: String) throws -> Curve25519.Signing.PrivateKey {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw FieldError(path: path, reason: "cannot read the key file")
        }
        let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard line.hasPrefix(privatePrefix), let seed = Data(base64Encoded: String(line.dropFirst(privatePrefix.count)))
        else {
            throw FieldError(path: path, reason: "not a guarantor Ed25519 private key")
        }
        do {
            return try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        } catch {
            throw FieldError(path: path, reason: "not a valid Ed25519 key")
        }
    }

    /// A public key from base64 text.
    public static func publicKey(base64: String) throws -> Curve25519.Signing.PublicKey {
        guard let raw = Data(base64Encoded: base64),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
        else {
            throw FieldError(path: "publicKey", reason: "not a base64 Ed25519 public key")
        }
        return key
    }

    /// Whether `signature` is `key`'s over `message`.
    public static func isValid(_ signature: [UInt8], of message: String, by key: Curve25519.Signing.PublicKey) -> Bool {
        key.isValidSignature(signature, for: Data(message.utf8))
    }

    /// `key`'s signature over `message`.
    public static func sign(_ message: String, with key: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
        Array(try key.signature(for: Data(message.utf8)))
    }
}
