import Foundation
import GuarantorCore

/// What the live stream carries: new alerts and incidents that changed.
public enum StreamEvent: Sendable {
    case alert(Alert)
    case incident(Incident)
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
        var subscribers: [UUID: AsyncStream<(Int, StreamEvent)>.Continuation] = [:]
    }

    private let state = Mutex(State())
    /// How many past events are kept for clients that reconnect.
    public static let retained = 10_000

    public init() {}

    func publish(_ event: StreamEvent) {
        state.withLock { s in
            let id = s.next
            s.next += 1
            s.events.append((id, event))
            // Trimmed in chunks, so that each publish costs O(1) on average.
            if s.events.count >= 2 * Self.retained { s.events.removeFirst(s.events.count - Self.retained) }
            for continuation in s.subscribers.values { continuation.yield((id, event)) }
        }
    }

    /// The events after `lastId` still kept, then every new one, until the client goes.
    public func subscribe(after lastId: Int?) -> AsyncStream<(Int, StreamEvent)> {
        let key = UUID()
        let (stream, continuation) = AsyncStream<(Int, StreamEvent)>.makeStream(
            bufferingPolicy: .bufferingNewest(10_000))
        state.withLock { s in
            if let lastId {
                for (id, event) in s.events.suffix(Self.retained) where id > lastId { continuation.yield((id, event)) }
            }
            s.subscribers[key] = continuation
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
