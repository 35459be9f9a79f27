import Crypto
import Foundation
import GuarantorCore

/// Everything a member can check on its own about a store: the hash chain, the Merkle tree against every signed
/// checkpoint and its cosignatures, a checkpoint the member holds, and the stored results against a fresh replay of
/// the log. `guarantor verify` prints its report.
public struct LogVerifier: Sendable {
    public let mission: Mission
    public let store: EventStore
    public let integrity: IntegrityConfiguration
    /// ``MissionDirectory/fingerprint(_:)`` of the mission (snapshots are checked against it).
    public let fingerprint: String

    public init(mission: Mission, store: EventStore, integrity: IntegrityConfiguration, fingerprint: String) {
        self.mission = mission
        self.store = store
        self.integrity = integrity
        self.fingerprint = fingerprint
    }

    /// What was checked: each line passed (`ok`) or names what failed, first failure first within each check.
    public struct Report: Sendable {
        public var passed: [String] = []
        public var failures: [String] = []
        public var isClean: Bool { failures.isEmpty }
    }

    /// Runs every check. `held` is a checkpoint the member keeps (e.g. one its witness cosigned).
    public func verify(held: SignedCheckpoint? = nil) throws -> Report {
        var report = Report()
        let events = try store.events()

        // 1. The hash chain: the first event that is missing, out of place or changed.
        var previous = EventChain.genesis
        var chainBroken = false
        for (i, event) in events.enumerated() {
            let expected = Int64(i + 1)
            let problem: String? =
                if event.sequence != expected {
                    "event \(expected) is missing (the log goes from \(expected - 1) to \(event.sequence))"
                } else if event.previousHash != previous {
                    "event \(expected) does not follow event \(expected - 1): the chain is broken there"
                } else if event.hash
                    != EventChain.hash(
                        previous: previous, sequence: event.sequence, kind: event.kind, payload: event.payload)
                {
                    "event \(expected) (\(event.kind)) does not match its hash: it was changed after it was written"
                } else {
                    nil
                }
            if let problem {
                report.failures.append(problem)
                chainBroken = true
                break
            }
            previous = event.hash
        }
        if !chainBroken { report.passed.append("hash chain: \(events.count) events, each follows the one before") }

        // Each redaction must carry the mission's signature (it hides content from every output).
        var redactions = 0
        for event in events where event.kind == EventKind.redaction.rawValue {
            redactions += 1
            let signed: Bool
            if let r = try? Redaction(json: JSONValue.parse(event.payload)), let key = integrity.missionPublicKey {
                signed = SigningKeys.isValid(r.signature, of: r.signedText, by: key)
            } else {
                signed = false
            }
            if !signed {
                report.failures.append("event \(event.sequence) (redaction) is not signed by the mission's key")
            }
        }
        if redactions > 0 && report.failures.isEmpty {
            report.passed.append("redactions: \(redactions), each signed by the mission")
        }

        // Each issued report's event reads, and names a part of the log before it.
        var issued = 0
        let failuresBefore = report.failures.count
        for event in events where event.kind == EventKind.report.rawValue {
            issued += 1
            guard let r = try? IssuedReport(json: JSONValue.parse(event.payload)) else {
                report.failures.append("event \(event.sequence) (report) cannot be read as an issued report")
                continue
            }
            if r.through >= event.sequence {
                report.failures.append(
                    "event \(event.sequence) (report) says it was drawn from events up to \(r.through), after itself")
            }
        }
        if issued > 0 && report.failures.count == failuresBefore {
            report.passed.append("reports: \(issued) issued, each file's SHA-256 in the log")
        }

        // 2. The Merkle tree against every checkpoint, the mission's signature and the witnesses' cosignatures.
        var tree = MerkleTree()
        for e in events { tree.append(leafHash: e.leafHash) }
        let stored = try store.checkpoints()
        var published = 0
        for c in stored {
            let problems = check(c.signed, against: tree, what: "checkpoint \(c.signed.checkpoint.size)")
            report.failures += problems
            if problems.isEmpty && c.signed.cosignatures.count >= integrity.quorum { published += 1 }
            let recorded = Checkpoint.digest(
                ofFileDigests: c.resultFiles.map { ($0.name, Checkpoint.bytes(hex: $0.sha256) ?? []) })
            if recorded != c.signed.checkpoint.results {
                report.failures.append(
                    "checkpoint \(c.signed.checkpoint.size): the stored result digests are not the ones it signed")
            }
        }
        if stored.isEmpty {
            report.passed.append("no checkpoint yet: the chain is all there is to check (guarantor checkpoint)")
        } else if report.failures.isEmpty {
            report.passed.append(
                "checkpoints: \(stored.count) signed by the mission, roots match the log; \(published) published "
                    + "(≥ \(integrity.quorum) valid cosignatures)")
        }
        if let held {
            let problems = check(held, against: tree, what: "your checkpoint \(held.checkpoint.size)")
            report.failures += problems
            if problems.isEmpty {
                report.passed.append("your checkpoint \(held.checkpoint.size): the log still has that history")
            }
        }

        // 3 and 4. A log with an event that cannot be read cannot be replayed: that is a failure too, named.
        do {
            try checkResults(against: stored, into: &report)
            try checkSnapshots(into: &report)
        } catch let error as StoreError where error.code == .corrupt {
            report.failures.append("results and snapshots: the log cannot be replayed: \(error)")
        }
        return report
    }

    /// The issued reports a file is a copy of: those that recorded its SHA-256 (none: edited, or never issued).
    public func issuedReports(matching bytes: [UInt8]) throws -> [(sequence: Int64, report: IssuedReport, file: String)]
    {
        let digest = EventChain.hex(Array(SHA256.hash(data: bytes)))
        return try store.issuedReports(sha256: digest).compactMap { found in
            found.report.files.first { $0.sha256 == digest }.map { (found.sequence, found.report, $0.name) }
        }
    }

    /// 3. The results: a fresh replay of the log up to the latest checkpoint, file by file.
    private func checkResults(against stored: [EventStore.StoredCheckpoint], into report: inout Report) throws {
        if let latest = stored.last {
            let size = latest.signed.checkpoint.size
            let (batch, actions) = try store.replayInputs(upTo: Int64(size))
            let output = Replay.run(mission: mission, batch: batch, actions: actions)
            let files = Replay.resultFiles(mission: mission, output.verification, output.guarantee)
            var differing: [String] = []
            for file in files {
                let digest = EventChain.hex(Array(SHA256.hash(data: file.bytes)))
                if latest.resultFiles.first(where: { $0.name == file.name })?.sha256 != digest {
                    differing.append(file.name)
                }
            }
            if differing.isEmpty && Checkpoint.digest(of: files) == latest.signed.checkpoint.results {
                report.passed.append(
                    "results: a replay of events 1…\(size) gives exactly the results of checkpoint \(size)")
            } else {
                report.failures.append(
                    "results: a replay of events 1…\(size) differs from the stored results of checkpoint \(size) in "
                        + (differing.isEmpty ? "the signed digest" : differing.joined(separator: ", ")))
            }
        }
    }

    /// 4. Snapshots of the engine: each is what a replay from the first event gives at its position.
    private func checkSnapshots(into report: inout Report) throws {
        let snapshots = try store.snapshots().sorted { $0.position < $1.position }
        if let first = snapshots.first {
            var replayed = try StoredEngine(
                mission: mission, store: store, fingerprint: fingerprint, dry: true, upTo: first.position)
            var good = 0
            for snapshot in snapshots {
                try replayed.feedLog(upTo: snapshot.position)
                let (engine, view) = replayed.snapshotBytes()
                if !snapshot.isIntact {
                    report.failures.append(
                        "snapshot at event \(snapshot.position): its digest does not match its content")
                } else if snapshot.mission != fingerprint {
                    report.passed.append(
                        "snapshot at event \(snapshot.position): made with another mission configuration (not used)")
                } else if try store.hash(ofEvent: snapshot.position) != snapshot.headHash {
                    report.failures.append(
                        "snapshot at event \(snapshot.position): made at another event \(snapshot.position)")
                } else if engine != snapshot.engine || view != snapshot.view {
                    report.failures.append(
                        "snapshot at event \(snapshot.position): differs from a replay of events 1…\(snapshot.position)"
                    )
                } else {
                    good += 1
                }
            }
            if good == snapshots.count {
                report.passed.append(
                    "snapshots: \(good), each equal to a replay from the first event to its position")
            }
        }
    }

    /// Problems with one checkpoint: signatures, and its root against the log.
    private func check(_ signed: SignedCheckpoint, against tree: MerkleTree, what: String) -> [String] {
        var problems: [String] = []
        let c = signed.checkpoint
        if c.mission != store.missionId { problems.append("\(what) is for mission \(c.mission)") }
        if let key = integrity.missionPublicKey {
            if !SigningKeys.isValid(signed.signature, of: c.body, by: key) {
                problems.append("\(what): the mission's signature is not valid")
            }
        } else {
            problems.append("\(what): no missionPublicKey in \(IntegrityConfiguration.file) to check it with")
        }
        for (member, signature) in signed.cosignatures.sorted(by: { $0.key < $1.key }) {
            guard let key = integrity.witnesses[member] else {
                problems.append("\(what): cosigned by \(member), which is not a witness")
                continue
            }
            if !SigningKeys.isValid(signature, of: c.body, by: key) {
                problems.append("\(what): \(member)'s cosignature is not valid")
            }
        }
        if c.size > tree.size {
            problems.append("\(what) covers \(c.size) events; the log has only \(tree.size): events were removed")
        } else if tree.root(size: c.size) != c.root {
            problems.append("\(what): the log's first \(c.size) events do not have its root: the log was rewritten")
        }
        return problems
    }
}
