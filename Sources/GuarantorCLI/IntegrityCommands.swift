import ArgumentParser
import Crypto
import Foundation
import GuarantorCore
import GuarantorStore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `guarantor keys signing --mission DIR --out FILE`: the mission's checkpoint-signing key.
public struct KeysSigningCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "signing",
        abstract:
            "Create the mission's Ed25519 signing key (a file, mode 0600) and record its public key in integrity.json.")

    @Option(help: "The mission directory.") var mission: String
    @Option(help: "Where to write the private key (never into the store).") var out: String

    public init() {}

    public func run() throws {
        _ = try Files.loadMission(mission)  // a mission directory, before any key is made
        var integrity = try Files.integrity(mission)
        let publicKey = try Files.createKey(at: out)
        integrity.missionPublicKey = publicKey
        try Files.write(integrity, to: mission)
        say("mission signing key written to \(out); public key in \(IntegrityConfiguration.file):")
        say(publicKey.rawRepresentation.base64EncodedString())
    }
}

/// `guarantor witness keygen|cosign`: a member's witness.
public struct WitnessCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "A member's witness: cosigns a checkpoint only if it extends the last one it cosigned.",
        subcommands: [WitnessKeygenCommand.self, WitnessCosignCommand.self])

    public init() {}
}

public struct WitnessKeygenCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "keygen", abstract: "Create a member's witness key and register its public key in integrity.json.")

    @Option(help: "The mission directory.") var mission: String
    @Option(help: "The member.") var member: String
    @Option(help: "Where to write the private key.") var out: String

    public init() {}

    public func run() throws {
        _ = try Files.loadMission(mission)  // a mission directory, before any key is made
        var integrity = try Files.integrity(mission)
        let publicKey = try Files.createKey(at: out)
        integrity.witnesses[member] = publicKey
        try Files.write(integrity, to: mission)
        say("\(member)'s witness key written to \(out); public key registered in \(IntegrityConfiguration.file):")
        say(publicKey.rawRepresentation.base64EncodedString())
    }
}

/// One round of a witness: fetch the latest checkpoint, check the mission's signature and the consistency proof from
/// the last checkpoint this witness cosigned, then cosign and remember it.
public struct WitnessCosignCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cosign",
        abstract: "Check the server's latest checkpoint against the last one cosigned, and cosign it if it holds.")

    @Option(help: "The API, e.g. http://127.0.0.1:8080") var url: String
    @Option(help: "An API key of the member (role auditor).") var apiKey: String
    @Option(help: "The witness's private key file.") var key: String
    @Option(help: "The mission's public signing key (base64), trusted from the start.") var missionPublicKey: String
    @Option(help: "Where the witness keeps the last checkpoint it cosigned (JSON; created if missing).") var state:
        String

    public init() {}

    public func run() async throws {
        let witnessKey = try Files.loadKey(key)
        let missionKey = try SigningKeys.publicKey(base64: missionPublicKey)
        let listing = try await get("/checkpoints")
        guard case .object(let members) = listing, let latest = members["latest"], latest != .null else {
            say("no checkpoint yet")
            return
        }
        let signed = try SignedCheckpoint(json: latest)
        let c = signed.checkpoint
        guard SigningKeys.isValid(signed.signature, of: c.body, by: missionKey) else {
            throw CLIError("checkpoint \(c.size) is not signed by the mission's key: not cosigned")
        }
        var last: Checkpoint?
        if let data = FileManager.default.contents(atPath: state) {
            last = try Checkpoint(body: String(decoding: data, as: UTF8.self))
        }
        if let last {
            guard last.mission == c.mission, last.size <= c.size else {
                throw CLIError(
                    "checkpoint \(c.size) does not extend the last one cosigned (\(last.size)): not cosigned")
            }
            let proof = try await get("/proofs/consistency?from=\(last.size)&to=\(c.size)")
            let hashes = try Self.hashes(proof)
            guard
                MerkleTree.verifyConsistency(
                    old: last.size, new: c.size, oldRoot: last.root, newRoot: c.root, proof: hashes)
            else {
                throw CLIError(
                    "the log of checkpoint \(c.size) does not extend the one of checkpoint \(last.size) cosigned "
                        + "before: history was rewritten; not cosigned")
            }
        }
        let signature = try SigningKeys.sign(c.body, with: witnessKey)
        let body = JSONValue.object(["signature": .string(Data(signature).base64EncodedString())]).prettyPrinted
        _ = try await send("/checkpoints/\(c.size)/cosignatures", method: "POST", body: Data(body.utf8))
        try Data(c.body.utf8).write(to: URL(fileURLWithPath: state), options: .atomic)
        say(
            "cosigned checkpoint \(c.size) (root \(EventChain.hex(c.root).prefix(16))…)"
                + (last.map { "; consistent with \($0.size)" } ?? "; the first this witness cosigns"))
    }

    static func hashes(_ proof: JSONValue) throws -> [[UInt8]] {
        guard case .object(let members) = proof, case .array(let items) = members["proof"] else {
            throw CLIError("the server's proof is not {\"proof\": [...]}")
        }
        return try items.map {
            guard case .string(let hex) = $0, let bytes = Checkpoint.bytes(hex: hex) else {
                throw CLIError("the server's proof holds something that is not a hex hash")
            }
            return bytes
        }
    }

    private func get(_ path: String) async throws -> JSONValue {
        try JSONValue.parse(try await send(path, method: "GET", body: nil))
    }

    private func send(_ path: String, method: String, body: Data?) async throws -> Data {
        guard let target = URL(string: url + path) else { throw CLIError("bad URL \(url)\(path)") }
        var request = URLRequest(url: target)
        request.httpMethod = method
        request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response): (Data, URLResponse) = try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let error {
                    continuation.resume(throwing: CLIError("\(method) \(path): \(error.localizedDescription)"))
                } else {
                    continuation.resume(returning: (data ?? Data(), response!))
                }
            }.resume()
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw CLIError("\(method) \(path): \(status) \(String(decoding: data, as: UTF8.self))")
        }
        return data
    }
}

/// `guarantor checkpoint --mission DIR --store FILE --signing-key FILE`: a checkpoint made offline from a store.
public struct CheckpointCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign a checkpoint of a store's log (size, Merkle root, digest of the replayed results).")

    @Option(help: "The mission directory.") var mission: String
    @Option(help: "The store.") var store: String
    @Option(help: "The mission's private signing key.") var signingKey: String

    public init() {}

    public func run() throws {
        let mission = try Files.loadMission(self.mission)
        let store = try Files.openStore(self.store, mission: mission)
        let key = try Files.loadKey(signingKey)
        do {
            var engine = try Files.openEngine(missionDirectory: self.mission, mission: mission, store: self.store)
            let size = engine.position
            let signed = try Checkpoints.make(
                store: store, tree: try MerkleIndex(store: store).current(), size: Int(size),
                fileDigests: try engine.resultDigests(), key: key, time: WallClock.now())
            Files.snapshotIfLong(&engine)
            say(signed.checkpoint.body, terminator: "")
        } catch let error as StoreError {
            throw CLIError("\(error)")
        }
    }
}

/// `guarantor verify --mission DIR --store FILE [--checkpoint FILE]`.
public struct VerifyCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Recompute every hash, check every signature and cosignature, replay the log and compare with the stored results."
    )

    @Option(help: "The mission directory (integrity.json holds the public keys).") var mission: String
    @Option(help: "The store.") var store: String
    @Option(help: "A checkpoint you hold (JSON, as GET /checkpoints/{size} returns it).") var checkpoint: String?
    @Option(
        name: .customLong("report"),
        help: "A report file you hold (html, md or pdf): checked against the reports issued in the log (repeatable).")
    var reports: [String] = []

    public init() {}

    public func run() throws {
        let mission = try Files.loadMission(self.mission)
        let store = try Files.openStore(self.store, mission: mission)
        var held: SignedCheckpoint?
        if let checkpoint {
            guard let data = FileManager.default.contents(atPath: checkpoint) else {
                throw CLIError("cannot read \(checkpoint)")
            }
            do {
                held = try SignedCheckpoint(json: JSONValue.parse(data))
            } catch {
                throw CLIError("\(checkpoint): \(error)")
            }
        }
        var report: LogVerifier.Report
        do {
            report = try LogVerifier(
                mission: mission, store: store, integrity: try Files.integrity(self.mission),
                fingerprint: try MissionDirectory.fingerprint(URL(fileURLWithPath: self.mission, isDirectory: true))
            )
            .verify(held: held)
        } catch let error as StoreError {
            throw CLIError("\(error)")
        }
        for path in reports {
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
            let verifier = LogVerifier(
                mission: mission, store: store, integrity: try Files.integrity(self.mission), fingerprint: "")
            let found = try verifier.issuedReports(matching: Array(data))
            if found.isEmpty {
                report.failures.append(
                    "\(path): no report issued in this log has its SHA-256: it was edited, or never issued")
            }
            for (sequence, r, file) in found {
                let what = r.kind == "daily" ? "daily report \(r.subject)" : "spot report on alert \(r.subject)"
                report.passed.append(
                    "\(path) is \(file) of the \(what) for \(r.reader) (\(r.language)), issued \(r.issuedAt) as event "
                        + "\(sequence), drawn from events 1…\(r.through)")
            }
        }
        for line in report.passed { say("ok: \(line)") }
        for line in report.failures { say("FAILED: \(line)") }
        if !report.isClean { throw ExitCode(1) }
    }
}

/// `guarantor redact --mission DIR --store FILE --signing-key FILE --event N --field text --reason WHY --member M --user U`.
public struct RedactCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "redact",
        abstract: "Hide fields of an observation from every output, by a new signed event; the log is not rewritten.")

    @Option(help: "The mission directory.") var mission: String
    @Option(help: "The store.") var store: String
    @Option(help: "The mission's private signing key.") var signingKey: String
    @Option(help: "The sequence number of the observation's event.") var event: Int64
    @Option(help: "A field to hide: text or evidence (repeat for both).") var field: [String]
    @Option(help: "Why (kept in the log).") var reason: String
    @Option(help: "The deciding member.") var member: String
    @Option(help: "The deciding user.") var user: String

    public init() {}

    public func run() throws {
        guard !field.isEmpty, field.allSatisfy(Redaction.redactableFields.contains) else {
            throw CLIError("--field must be one of \(Redaction.redactableFields.joined(separator: ", "))")
        }
        let mission = try Files.loadMission(self.mission)
        let store = try Files.openStore(self.store, mission: mission)
        let key = try Files.loadKey(signingKey)
        let now = WallClock.now()
        var redaction = Redaction(
            id: "R\(event)-\(now.nanoseconds)", at: now, member: member, user: user, event: event, fields: field,
            reason: reason)
        redaction.signature = try SigningKeys.sign(redaction.signedText, with: key)
        do {
            let sequence = try store.redact(redaction)
            say(
                "event \(event): \(field.joined(separator: ", ")) hidden from every output (redaction event \(sequence))"
            )
        } catch let error as StoreError {
            throw CLIError("\(error)")
        }
    }
}

extension Files {
    /// The mission's integrity.json (empty when there is none).
    static func integrity(_ directory: String) throws -> IntegrityConfiguration {
        do {
            return try IntegrityConfiguration.load(URL(fileURLWithPath: directory, isDirectory: true))
        } catch let error as ConfigurationError {
            throw CLIError("mission \(directory): \(error)")
        }
    }

    static func write(_ integrity: IntegrityConfiguration, to directory: String) throws {
        do {
            try integrity.write(to: URL(fileURLWithPath: directory, isDirectory: true))
        } catch {
            throw CLIError("cannot write \(directory)/\(IntegrityConfiguration.file): \(error.localizedDescription)")
        }
    }

    static func createKey(at path: String) throws -> Curve25519.Signing.PublicKey {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw CLIError("\(path) exists: a key is never overwritten")
        }
        do {
            return try SigningKeys.create(at: path)
        } catch let error as FieldError {
            throw CLIError("\(error)")
        }
    }

    static func loadKey(_ path: String) throws -> Curve25519.Signing.PrivateKey {
        do {
            return try SigningKeys.load(path)
        } catch let error as FieldError {
            throw CLIError("\(error)")
        }
    }
}
