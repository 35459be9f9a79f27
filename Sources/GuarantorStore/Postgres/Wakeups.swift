import Foundation

/// Wake-ups from PostgreSQL's `LISTEN`/`NOTIFY`: a thread of its own LISTENs on one connection to the log's appends
/// (``log``) and the change table's publications (``changes``), and hands each subscriber a wake-up when its channel
/// is notified — and at least every `fallback`, notified or not. A notification carries nothing: what changed is
/// always read from the tables, so one lost (a restart of PostgreSQL, a dropped connection) costs at most `fallback`.
public final class Wakeups: @unchecked Sendable {
    /// Notified by every write transaction of the log.
    public static let log = "guarantor_log"
    /// Notified by every publication of changes.
    public static let changes = "guarantor_change"

    private let url: String
    private let fallback: Duration
    private let lock = NSLock()
    private var subscribers: [(channel: String, continuation: AsyncStream<Void>.Continuation)] = []
    private var stopped = false
    private var thread: Thread?

    init(url: String, fallback: Duration) {
        self.url = url
        self.fallback = fallback
    }

    deinit { stop() }

    /// Wake-ups for `channel` (``log`` or ``changes``), coalesced while the subscriber is busy; starts listening.
    public func subscribe(_ channel: String) -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        lock.lock()
        subscribers.append((channel, continuation))
        if thread == nil {
            let thread = Thread { [weak self] in self?.listen() }
            thread.name = "guarantor.wakeups"
            self.thread = thread
            thread.start()
        }
        lock.unlock()
        return stream
    }

    /// Stops listening and ends every subscriber's stream.
    public func stop() {
        lock.lock()
        stopped = true
        let ended = subscribers
        subscribers = []
        lock.unlock()
        for s in ended { s.continuation.finish() }
    }

    private var isStopped: Bool { lock.withLock { stopped } }
    /// The listening connection's server process, while it is connected (what a test cuts).
    var listenerProcess: Int64? { lock.withLock { process } }
    private var process: Int64?

    private func wake(_ channels: Set<String>?) {
        lock.lock()
        let woken = subscribers.filter { channels?.contains($0.channel) ?? true }
        lock.unlock()
        for s in woken { s.continuation.yield() }
    }

    private func listen() {
        let seconds = Double(fallback.components.seconds) + Double(fallback.components.attoseconds) / 1e18
        var connection: PostgresConnection?
        while !isStopped {
            do {
                if connection == nil {
                    let c = try PostgresConnection(url: url)
                    try c.execute("LISTEN \(Self.log)")
                    try c.execute("LISTEN \(Self.changes)")
                    let pid = try c.execute("SELECT pg_backend_pid()::bigint").int64(0, 0)
                    lock.withLock { process = pid }
                    connection = c
                    wake(nil)  // whatever was notified while no one listened
                }
                let channels = try connection!.notifications(waitingUpTo: seconds)
                wake(channels.isEmpty ? nil : channels)
            } catch {
                // Connected again shortly; meanwhile everyone is woken (they read the tables).
                connection = nil
                lock.withLock { process = nil }
                wake(nil)
                Thread.sleep(forTimeInterval: min(seconds, 0.5))
            }
        }
    }
}
