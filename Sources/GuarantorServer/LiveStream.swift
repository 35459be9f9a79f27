import Foundation
import GuarantorCore

/// What the live stream carries: new alerts and incidents that changed.
public enum StreamEvent: Sendable {
    /// A new alert (a reader sees the findings whose incidents it may read; a finding with no incident, such as a
    /// missing declaration, is seen by all).
    case alert(Alert)
    /// An incident that is new or changed in status or size, by id: a reader gets the part it may read, as it
    /// stands when sent.
    case incident(String)
    /// Sent every second to each client, as an SSE comment: it finds clients that have gone.
    case heartbeat

    var name: String {
        switch self {
        case .alert: "alert"
        case .incident: "incident"
        case .heartbeat: "heartbeat"
        }
    }
}

/// The live stream's memory: every event numbered 1, 2, 3, … (the SSE `id`), the latest ones kept so that a client
/// reconnecting with `Last-Event-ID` gets what it missed, and the connected clients.
public final class LiveStream: Sendable {
    private struct State {
        var events: [(id: Int, event: StreamEvent)] = []
        var next = 1
        var subscribers: [UUID: Subscriber] = [:]
    }

    /// A connected client: its events, and the kind it asked for (`nil`: every kind).
    private struct Subscriber {
        var continuation: AsyncStream<(Int, StreamEvent)>.Continuation
        var only: String?

        func wants(_ event: StreamEvent) -> Bool { only == nil || event.name == only }
    }

    private let state = Mutex(State())
    /// Events a client may fall behind by; beyond that its stream ends, and it resumes with `Last-Event-ID`.
    public static let clientBuffer = 10_000
    /// How many past events are kept for clients that reconnect.
    public static let retained = 10_000

    public init() {}

    /// Numbers `event` next, or `id` (a change of the shared store, numbered alike on every node; ids only grow).
    func publish(_ event: StreamEvent, id given: Int? = nil) {
        state.withLock { s in
            let id = given ?? s.next
            s.next = id + 1
            s.events.append((id, event))
            // Trimmed in chunks, so that each publish costs O(1) on average.
            if s.events.count >= 2 * Self.retained { s.events.removeFirst(s.events.count - Self.retained) }
            for (key, subscriber) in s.subscribers where subscriber.wants(event) {
                // A client too far behind is not skipped ahead silently: its stream ends where it stopped reading,
                // and it reconnects with Last-Event-ID for the rest (kept for `retained` events).
                if case .dropped = subscriber.continuation.yield((id, event)) {
                    s.subscribers[key] = nil
                    subscriber.continuation.finish()
                }
            }
        }
    }

    /// The events after `lastId` still kept, then every new one, until the client goes; only events named `only`
    /// (`alert`, `incident`) if given.
    public func subscribe(after lastId: Int?, only: String? = nil) -> AsyncStream<(Int, StreamEvent)> {
        let key = UUID()
        let (stream, continuation) = AsyncStream<(Int, StreamEvent)>.makeStream(
            bufferingPolicy: .bufferingOldest(Self.clientBuffer))
        let subscriber = Subscriber(continuation: continuation, only: only)
        state.withLock { s in
            if let lastId {
                for (id, event) in s.events.suffix(Self.retained) where id > lastId && subscriber.wants(event) {
                    continuation.yield((id, event))
                }
            }
            s.subscribers[key] = subscriber
        }
        let heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                continuation.yield((0, .heartbeat))
            }
        }
        continuation.onTermination = { [weak self] _ in
            heartbeat.cancel()
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: key) }
        }
        return stream
    }

    /// Connected clients.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }
}

/// A value behind a lock.
final class Mutex<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
