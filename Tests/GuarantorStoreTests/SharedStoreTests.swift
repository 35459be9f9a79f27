import Foundation
import GuarantorCore
import GuarantorTesting
import Testing

@testable import GuarantorStore

/// The rest of the store on both databases, and what only the shared one (PostgreSQL) must do: refuse tampering in
/// the database, keep one order when several nodes append at once, and outlive its connections.
@Suite struct SharedStoreTests {
    typealias Backend = EventStoreTests.Backend

    @Test(arguments: EventStoreTests.backends)
    func keysCheckpointsRedactionsAndReportsAreKeptAlike(_ backend: Backend) throws {
        let (store, _) = try EventStoreTests.temporaryStore(backend)
        _ = try store.ingest((1...3).map { EventStoreTests.observation("o\($0)") })
        let holder = EventStore.KeyHolder(id: "k1", member: "UK", role: "analyst", user: "uk-1")
        try store.addKey(hash: [1, 2, 3], holder: holder, createdAt: "2026-03-01T00:00:00Z")
        #expect(try store.keyHolder(hash: [1, 2, 3]) == holder)
        #expect(try store.keyStands(id: "k1"))
        try store.revokeKey(id: "k1", at: "2026-03-02T00:00:00Z", reason: "lost")
        #expect(try store.keyHolder(hash: [1, 2, 3]) == nil)
        #expect(try store.keys().map(\.revokedAt) == ["2026-03-02T00:00:00Z"])
        #expect { try store.revokeKey(id: "k1", at: "2026-03-03T00:00:00Z", reason: "again") } throws: {
            ($0 as? StoreError)?.code == .conflictingObservation
        }

        let checkpoint = Checkpoint(
            mission: "m", size: 5, root: [UInt8](repeating: 7, count: 32), results: [UInt8](repeating: 9, count: 32),
            time: Timestamp(rfc3339: "2026-03-02T00:00:00Z")!)
        let signed = SignedCheckpoint(checkpoint: checkpoint, signature: [4, 5])
        try store.addCheckpoint(signed, resultFiles: [("incidents.json", "ab"), ("violations.json", "cd")])
        try store.addCheckpoint(SignedCheckpoint(checkpoint: checkpoint, signature: [6]), resultFiles: [])
        try store.addCosignature(size: 5, member: "FR", signature: [8])
        let stored = try #require(try store.checkpoints(latestOnly: true).first)
        #expect(stored.signed.signature == [4, 5] && stored.signed.cosignatures == ["FR": [8]])
        #expect(stored.resultFiles.map(\.name) == ["incidents.json", "violations.json"])

        let redaction = Redaction(
            id: "r1", at: Timestamp(rfc3339: "2026-03-02T00:00:00Z")!, member: "MISSION", user: "chief", event: 2,
            fields: ["text"], reason: "a name")
        let sequence = try store.redact(redaction)
        #expect(try store.redactions() == [2: ["text"]])
        #expect(try store.event(sequence: sequence)?.kind == EventKind.redaction.rawValue)
        #expect(try store.hasRecords(after: sequence) == false)
        try store.audit(Array(#"{"read":"x"}"#.utf8))
        #expect(try store.hasRecords(after: sequence) == false)
        #expect(try store.head().count == sequence + 1)
        #expect(try store.leafHashes(after: 0).count == Int(sequence + 1))
        #expect(try store.firstBrokenLink() == nil)
        #expect(try store.observations(ids: ["o2", "o9"]).map(\.id) == ["o2"])
    }

    @Test(arguments: EventStoreTests.backends) func aBatchRepeatingAnIdStoresItOnce(_ backend: Backend) throws {
        let (store, _) = try EventStoreTests.temporaryStore(backend)
        let result = try store.ingest([EventStoreTests.observation("o1"), EventStoreTests.observation("o1")])
        #expect(result.appended == 1 && result.alreadyPresent == 1 && result.appendedIndices == [0])
        #expect {
            try store.ingest([EventStoreTests.observation("o2"), EventStoreTests.observation("o2", lat: 48.9)])
        } throws: { ($0 as? StoreError)?.code == .conflictingObservation }
        #expect(try store.head().count == 1)
    }

    @Test func anUnreachableDatabaseIsNamedAtOnce() throws {
        let start = Date()
        #expect {
            try EventStore(path: "postgres://guarantor:secret@127.0.0.1:1/none", missionId: "m")
        } throws: { error in
            let message = "\(error)"
            return (error as? StoreError)?.code == .cannotOpen && message.contains("127.0.0.1:1")
                && !message.contains("secret")
        }
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test(.disabled(if: TestData.postgresBase == nil, "set GUARANTOR_TEST_POSTGRES (scripts/test.sh starts one)"))
    func theDatabaseRefusesTamperingAndTheChainNamesWhatChanged() throws {
        let (store, url) = try EventStoreTests.temporaryStore(.postgres)
        _ = try store.ingest((1...5).map { EventStoreTests.observation("o\($0)") })
        let checkpoint = Checkpoint(
            mission: "m", size: 5, root: [UInt8](repeating: 7, count: 32), results: [UInt8](repeating: 9, count: 32),
            time: Timestamp(rfc3339: "2026-03-02T00:00:00Z")!)
        try store.addCheckpoint(SignedCheckpoint(checkpoint: checkpoint, signature: [4]), resultFiles: [])
        try store.addCosignature(size: 5, member: "FR", signature: [8])
        let connection = try PostgresConnection(url: url)
        for sql in [
            "DELETE FROM event WHERE sequence = 2", "UPDATE event SET payload = '\\x00' WHERE sequence = 2",
            "TRUNCATE event", "DELETE FROM checkpoint", "UPDATE cosignature SET member = 'X'",
        ] {
            #expect(throws: PostgresError.self, "\(sql)") { try connection.execute(sql) }
        }
        // Someone who may drop the trigger can change a payload, but the chain names the event.
        try connection.execute("ALTER TABLE event DISABLE TRIGGER event_append_only")
        try connection.execute(
            "UPDATE event SET payload = convert_to(replace(convert_from(payload, 'UTF8'), '37.8', '37.9'), 'UTF8') WHERE sequence = 3"
        )
        #expect(try store.firstBrokenLink() == 3)
    }

    @Test(.disabled(if: TestData.postgresBase == nil, "set GUARANTOR_TEST_POSTGRES (scripts/test.sh starts one)"))
    func nodesAppendingAtOnceMakeOneChain() async throws {
        let (first, url) = try EventStoreTests.temporaryStore(.postgres)
        let nodes = [first] + (try (1..<3).map { _ in try EventStore(path: url, missionId: "m") })
        // Three nodes, each with a thread appending 20 batches of 50 and a retry of each batch.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (n, node) in nodes.enumerated() {
                group.addTask {
                    for b in 0..<20 {
                        let batch = (0..<50).map { EventStoreTests.observation("n\(n)-b\(b)-\($0)") }
                        let first = try node.ingest(batch)
                        let retry = try node.ingest(batch)
                        #expect(first.appended == 50 && retry.alreadyPresent == 50)
                    }
                }
            }
            try await group.waitForAll()
        }
        let events = try first.events()
        #expect(events.count == 3_000 && events.map(\.sequence) == Array(1...3_000))
        #expect(try first.firstBrokenLink() == nil)
        // Each batch is contiguous: all or nothing, never interleaved with another node's.
        var runs = 0
        var previous = ""
        for record in try first.records() {
            guard case .observation(let o) = record else { continue }
            let batch = String(o.id.split(separator: "-").prefix(2).joined(separator: "-"))
            if batch != previous { runs += 1 }
            previous = batch
        }
        #expect(runs == 60)
    }

    @Test(.disabled(if: TestData.postgresBase == nil, "set GUARANTOR_TEST_POSTGRES (scripts/test.sh starts one)"))
    func aStoreOutlivesItsConnections() throws {
        let (store, url) = try EventStoreTests.temporaryStore(.postgres)
        _ = try store.ingest([EventStoreTests.observation("o1")])
        // What a restart of the server does to every open connection.
        let killer = try PostgresConnection(url: url)
        let killed = try killer.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        #expect(killed.int64(0, 0) >= 1)
        #expect(try store.ingest([EventStoreTests.observation("o1"), EventStoreTests.observation("o2")]).appended == 1)
        #expect(try store.head().count == 2)
    }

    @Test(.disabled(if: TestData.postgresBase == nil, "set GUARANTOR_TEST_POSTGRES (scripts/test.sh starts one)"))
    func anAppendWakesTheFollowersAtOnceAndALostListenerIsReplaced() async throws {
        let (store, url) = try EventStoreTests.temporaryStore(.postgres)
        // A fallback of a minute: a wake-up within seconds is the NOTIFY's.
        let wakeups = try #require(store.coordination).wakeups(fallback: .seconds(60))
        defer { wakeups.stop() }
        var log = wakeups.subscribe(Wakeups.log).makeAsyncIterator()
        _ = await log.next()  // the first, once listening
        let first = try #require(wakeups.listenerProcess)
        var started = ContinuousClock.now
        _ = try store.ingest([EventStoreTests.observation("o1")])
        _ = await log.next()
        #expect(ContinuousClock.now - started < .seconds(10))

        // The listener's connection cut, as a restart of PostgreSQL would: it listens again on a new one.
        let killer = try PostgresConnection(url: url)
        #expect(try killer.execute("SELECT pg_terminate_backend(\(first))").bool(0, 0))
        try await Task.sleep(for: .seconds(2))
        _ = await log.next()  // (everyone is woken once it is lost, and once it is back)
        let second = try #require(wakeups.listenerProcess)
        #expect(second != first)
        started = ContinuousClock.now
        _ = try store.ingest([EventStoreTests.observation("o2")])
        _ = await log.next()
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}
