import Dispatch
import Foundation
import GuarantorCore
import GuarantorStore
import Hummingbird

/// `guarantor verify`, run by the server for auditors (`POST /verification`): one run at a time, on a thread of its
/// own (it replays the log, which takes seconds to minutes), and the last result kept for `GET /verification` and
/// the dashboard's auditor view. A member's own check is still `guarantor verify` on a copy of the store; this one
/// tells whoever looks what the server found last, and when.
actor Verifications {
    /// One run: when it started and ended, how many events the log had, and the verifier's report.
    struct Run: Sendable {
        var startedAt: Timestamp
        var finishedAt: Timestamp?
        var events: Int64
        var report: LogVerifier.Report?
        /// The run could not finish (the store could not be read).
        var error: String?
    }

    private(set) var running: Run?
    private(set) var last: Run?

    /// Starts a run unless one is under way; returns the run under way.
    func start(_ verifier: LogVerifier) throws -> Run {
        if let running { return running }
        let run = Run(startedAt: WallClock.now(), events: try verifier.store.head().count)
        running = run
        DispatchQueue.global().async {
            var done = run
            do {
                done.report = try verifier.verify()
            } catch {
                done.error = "\(error)"
            }
            done.finishedAt = WallClock.now()
            Task { await self.finish(done) }
        }
        return run
    }

    private func finish(_ run: Run) {
        last = run
        running = nil
    }

    /// Waits for the run under way (tests and `guarantor verify`'s callers; polls every 50 ms).
    func settled() async -> Run? {
        while running != nil { try? await Task.sleep(for: .milliseconds(50)) }
        return last
    }
}

extension GuarantorAPI {
    /// `GET /verification`: the last run and the one under way, if any.
    func verification() async -> Response {
        Self.json(Self.verificationJSON(running: await verifications.running, last: await verifications.last))
    }

    /// `POST /verification`: starts a run (or names the one under way); 202.
    func startVerification() async throws -> Response {
        let verifier = LogVerifier(
            mission: state.mission, store: state.store, integrity: integrity, fingerprint: state.fingerprint)
        let running = try await verifications.start(verifier)
        return Self.json(
            Self.verificationJSON(running: running, last: await verifications.last), status: .accepted)
    }

    static func verificationJSON(running: Verifications.Run?, last: Verifications.Run?) -> [UInt8] {
        func run(_ r: Verifications.Run, into w: inout JSONWriter) {
            w.beginObject()
            w.key("startedAt"); w.string(r.startedAt.rfc3339)
            if let finished = r.finishedAt { w.key("finishedAt"); w.string(finished.rfc3339) }
            w.key("events"); w.int(Int(r.events))
            if let report = r.report {
                w.key("clean"); w.bool(report.isClean)
                w.key("passed"); w.beginArray()
                for line in report.passed { w.string(line) }
                w.endArray()
                w.key("failures"); w.beginArray()
                for line in report.failures { w.string(line) }
                w.endArray()
            }
            if let error = r.error {
                w.key("clean"); w.bool(false)
                w.key("error"); w.string(error)
            }
            w.endObject()
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("running")
        if let running { run(running, into: &w) } else { w.null() }
        w.key("last")
        if let last { run(last, into: &w) } else { w.null() }
        w.endObject()
        return w.bytes
    }
}
