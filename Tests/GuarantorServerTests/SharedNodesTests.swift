import Foundation
import GuarantorCore
import GuarantorStore
import GuarantorTesting
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GuarantorServer

/// Three nodes on one PostgreSQL store, written to at once: each node's engine follows the shared log, so that every
/// node serves, byte for byte, what `guarantor replay` makes of the log, and streams every alert.
@Suite(.enabled(if: TestData.postgresBase != nil, "set GUARANTOR_TEST_POSTGRES (scripts/postgres.sh starts one)"))
struct SharedNodesTests {
    @Test func threeNodesWrittenToAtOnceServeTheReplayOfTheSharedLog() async throws {
        let url = try #require(TestData.postgresStore())
        let missionURL = ServerTests.Fixture.missionURL
        let mission = try MissionDirectory.load(missionURL)
        let fingerprint = try MissionDirectory.fingerprint(missionURL)
        let nodes = try (0..<3).map { n in
            let store = try EventStore(
                path: url, missionId: mission.agreement.id,
                resultsPath: FileManager.default.temporaryDirectory.appendingPathComponent(
                    "node\(n)-\(UUID().uuidString).results.sqlite"
                ).path)
            return try MissionState(mission: mission, store: store, fingerprint: fingerprint)
        }
        #expect(nodes.allSatisfy { $0.shared })
        let admin = try APIKeys.create(member: "MISSION", user: "admin", role: .admin, in: nodes[0].store).key
        // Every node's stream, from the start.
        let streamed = Mutex([[String]](repeating: [], count: 3))
        var listeners: [Task<Void, Never>] = []
        for (n, node) in nodes.enumerated() {
            let events = node.stream.subscribe(after: nil, only: "alert")
            listeners.append(
                Task {
                    for await (_, event) in events {
                        if case .alert(let alert) = event { streamed.withLock { $0[n].append(alert.id) } }
                    }
                })
        }
        let followers = nodes.map { node in Task { await node.followLog(every: .milliseconds(50)) } }

        let (observations, _, deliveries) = Simulator.run(mission: mission, seed: 21, hours: 18)
        // Two writers, each sending its half in random batches to random nodes, deliveries among them.
        let halves = [
            observations.enumerated().filter { $0.offset % 2 == 0 }.map(\.element),
            observations.enumerated().filter { $0.offset % 2 == 1 }.map(\.element),
        ]
        let delivered = Mutex(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (w, half) in halves.enumerated() {
                group.addTask {
                    var rng = SplitMix64(seed: 100 + UInt64(w))
                    var sent = 0
                    var nextDelivery = w
                    while sent < half.count {
                        let n = min(Int(1 + rng.next() % 200), half.count - sent)
                        let node = nodes[Int(rng.next() % 3)]
                        let outcome = try await node.ingest(Array(half[sent..<sent + n]))
                        #expect(outcome.appended == n)
                        sent += n
                        let now = half[sent - 1].observedAt
                        while nextDelivery < deliveries.count && deliveries[nextDelivery].at <= now {
                            let result = try await nodes[Int(rng.next() % 3)].act(
                                .guarantee(deliveries[nextDelivery]))
                            if result == "applied" { delivered.withLock { $0 += 1 } }
                            nextDelivery += 2
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(delivered.withLock { $0 } > 0)

        let store = nodes[0].store
        let (batch, actions) = try store.replayInputs()
        #expect(batch.observations.count == observations.count, "every observation stored once")
        let replay = Replay.run(mission: mission, batch: batch, actions: actions)
        #expect(replay.incidentCount > 50)
        for node in nodes {
            let app = GuarantorServerRunner.application(
                api: GuarantorAPI(state: node, limits: .replayingHistory), host: "127.0.0.1", port: 0)
            try await app.test(.live) { client in try await ServerTests.expectExports(client, admin, equal: replay) }
        }
        // Every node streamed every alert of the record (once caught up with the log).
        let alertIds = Set(
            try replay.alerts.split(separator: 0x0A).map { try JSONValue.parse(Array($0)).object?["id"]?.string ?? "" })
        #expect(!alertIds.isEmpty)
        try await Task.sleep(for: .milliseconds(300))
        for n in 0..<3 {
            let ids = streamed.withLock { $0[n] }
            #expect(alertIds.isSubset(of: Set(ids)), "node \(n) streamed \(ids.count) of \(alertIds.count) alerts")
        }
        for task in listeners + followers { task.cancel() }
    }
}
