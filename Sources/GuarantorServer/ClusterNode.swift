import Foundation
import GuarantorCore
import GuarantorStore

/// This node among several on one PostgreSQL store: the partitions of the mission's work it holds leases on, the
/// changes it publishes for them, and the changes every node publishes, read back for this node's live stream.
///
/// A partition is a set of sectors (sector `i` is in partition `i mod partitions`; alerts and incidents outside every
/// sector, and alerts of the whole line, are partition 0's). Every node's engine draws every partition (it follows the
/// log); only the holder of a partition's lease publishes its alerts and incident changes, through the store's change
/// table — so a stream client on any node sees each alert once, numbered alike on every node, and resumes with
/// `Last-Event-ID` wherever it reconnects. A node that takes a partition over publishes the partition's alerts drawn so
/// far that no one published (the store keeps an alert once); incident changes drawn while no one held the lease are
/// not sent again (a client reads incidents' current state from the API).
public final class ClusterNode: Sendable {
    public let name: String
    public let coordination: SharedCoordination
    /// How many partitions the mission's work is split into.
    public let partitions: Int
    private let sectorIndex: [String: Int]
    private let owned = Mutex<[Int: Int64]>([:])
    private let outbox = Mutex<[(partition: Int, change: SharedCoordination.Change)]>([])
    private let (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))

    /// - Parameter partitions: by default one per sector, at most 12.
    public init(name: String, coordination: SharedCoordination, mission: Mission, partitions: Int? = nil) {
        self.name = name
        self.coordination = coordination
        let names = mission.sectors.names
        self.partitions = max(partitions ?? min(names.count, 12), 1)
        sectorIndex = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The partition of a sector (by ``Classification/sector`` index; -1: outside every sector).
    public func partition(sector: Int32) -> Int { sector < 0 ? 0 : Int(sector) % partitions }

    /// The partition of an alert: its sector's, or 0 for the whole line and members' alerts.
    public func partition(of alert: Alert) -> Int {
        alert.sector.flatMap { sectorIndex[$0] }.map { partition(sector: Int32($0)) } ?? 0
    }

    /// The partitions this node holds, with their epochs.
    public var held: [Int: Int64] { owned.withLock { $0 } }

    /// Queues changes of the partitions held now for publication; the others' holders publish theirs.
    func offer(_ changes: [(partition: Int, change: SharedCoordination.Change)]) {
        let mine = held
        let kept = changes.filter { mine[$0.partition] != nil }
        guard !kept.isEmpty else { return }
        outbox.withLock { $0 += kept }
        signal.yield()
    }

    /// Runs the node until cancelled: leases renewed and balanced every second, changes published as they come,
    /// every node's changes read into `state`'s stream.
    /// The log's and the change table's NOTIFYs wake the followers (with a tick every second if none comes).
    public func run(_ state: MissionState) async {
        let wakeups = coordination.wakeups()
        defer { wakeups.stop() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.keepLeases(state) }
            group.addTask { await self.publishChanges() }
            group.addTask { await self.readChanges(into: state, wakeups: wakeups.subscribe(Wakeups.changes)) }
            group.addTask { await state.followLog(wakeups: wakeups.subscribe(Wakeups.log)) }
        }
    }

    private func keepLeases(_ state: MissionState) async {
        while !Task.isCancelled {
            let (coordination, name, partitions) = (self.coordination, self.name, self.partitions)
            if let now = await Task.detached(operation: { try? coordination.claim(node: name, partitions: partitions) })
                .value
            {
                let before = held
                owned.withLock { $0 = now }
                let gained = now.filter { before[$0.key] != $0.value }
                if !gained.isEmpty {
                    // What was drawn of a partition taken over and may not have been published.
                    let backlog = await state.alertChanges { gained[self.partition(of: $0)] != nil }
                    offer(backlog.map { (self.partition(of: $0.alert), $0.change) })
                }
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func publishChanges() async {
        for await _ in signals {
            while true {
                let batch = outbox.withLock { o in
                    defer { o.removeAll() }
                    return o
                }
                guard !batch.isEmpty else { break }
                let mine = held
                var failed: [(partition: Int, change: SharedCoordination.Change)] = []
                for partition in Set(batch.map(\.partition)).sorted() {
                    let changes = batch.filter { $0.partition == partition }
                    guard let epoch = mine[partition] else { continue }
                    let (coordination, name) = (self.coordination, self.name)
                    let outcome = await Task.detached { () -> Bool in
                        do {
                            try coordination.publish(
                                changes.map(\.change), partition: partition, epoch: epoch, node: name)
                            return true
                        } catch is SharedCoordination.Fenced {
                            return true  // another node holds it now and publishes what it draws
                        } catch {
                            return false
                        }
                    }.value
                    if !outcome { failed += changes }
                }
                if !failed.isEmpty {
                    // The store could not be reached: tried again shortly, in the same order.
                    outbox.withLock { $0 = failed + $0 }
                    try? await Task.sleep(for: .milliseconds(500))
                }
            }
            if Task.isCancelled { return }
        }
    }

    private func readChanges(into state: MissionState, wakeups: AsyncStream<Void>) async {
        let coordination = self.coordination
        var last: Int64?
        for await _ in wakeups {
            if last == nil {
                // From the start of what the stream keeps for clients that reconnect.
                last = await Task.detached { try? coordination.latestChange() }.value.map {
                    max($0 - Int64(LiveStream.retained), 0)
                }
            }
            // Every change published since the last one read, a page at a time.
            while let after = last,
                let changes = await Task.detached(operation: { try? coordination.changes(after: after) }).value,
                !changes.isEmpty
            {
                for (seq, change) in changes {
                    await state.streamChange(change, id: Int(seq))
                    last = seq
                }
            }
            if Task.isCancelled { return }
        }
    }
}

extension SharedCoordination.Change {
    /// An alert to publish, its line (`alerts.ndjson`'s) carried with it.
    static func alert(_ alert: Alert, through: Int64) -> Self {
        var w = JSONWriter()
        Replay.alertLine(alert, into: &w)
        return .init(kind: "alert", ref: alert.id, through: through, payload: w.bytes)
    }
}
