import Dispatch
import Foundation

/// The work behind `GET /lines/compare`: each comparison replays the whole log twice, so it runs off the server's
/// threads (on a dispatch thread of its own), one at a time (a second caller is told to come back: 503 with
/// Retry-After), and its summary is remembered per (a, b, member) until the log holds records it has not read.
actor LineComparisons {
    struct Key: Hashable {
        var a: String
        var b: String
        var member: String
    }

    /// A summary, the log position it read up to, and how many restricted records it counted (for the audit).
    struct Result: Sendable {
        var summary: [UInt8]
        var through: Int64
        var restricted: Int
    }

    private var running = false
    private var remembered: [Key: Result] = [:]
    /// The most summaries remembered (each a few kilobytes).
    static let capacity = 64

    /// The remembered summary for `key` if `isCurrent` says nothing was logged since, else `work`'s, computed now.
    func result(
        _ key: Key, isCurrent: @Sendable (Result) throws -> Bool, work: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        if let known = remembered[key], try isCurrent(known) { return known }
        guard !running else {
            throw APIError(
                .serviceUnavailable, "another comparison of lines is running; this one replays the whole log too",
                retryAfter: 30)
        }
        running = true
        defer { running = false }
        let result = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .utility).async { continuation.resume(with: Swift.Result { try work() }) }
        }
        if remembered.count >= Self.capacity { remembered.removeAll() }
        remembered[key] = result
        return result
    }
}
