import Foundation
import GRDB
import GuarantorCore
import GuarantorTesting
import Testing

@testable import GuarantorStore

@Suite struct EventStoreTests {
    static func observation(_ id: String, lat: Double = 48.6) -> Observation {
        Observation(
            id: id, source: "s", observedAt: Timestamp(rfc3339: "2026-03-01T02:14:00Z")!, kind: .explosion,
            location: Location(point: GeoPoint(lon: 37.8, lat: lat), uncertaintyMeters: 50))
    }

    /// Where a store's log is: every test of the log's rules runs on both.
    enum Backend: String, CaseIterable, Sendable {
        case sqlite, postgres
    }

    /// SQLite always; PostgreSQL too when `GUARANTOR_TEST_POSTGRES` names a database (scripts/test.sh starts one).
    static let backends: [Backend] = TestData.postgresBase == nil ? [.sqlite] : [.sqlite, .postgres]

    static func temporaryStore(_ backend: Backend = .sqlite) throws -> (EventStore, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString).sqlite")
            .path
        let location = backend == .postgres ? try #require(TestData.postgresStore()) : path
        return (try EventStore(path: location, missionId: "m", resultsPath: EventStore.resultsPath(of: path)), location)
    }

    @Test(arguments: backends) func ingestIsIdempotentByObservationId(_ backend: Backend) throws {
        let (store, _) = try Self.temporaryStore(backend)
        let batch = (1...100).map { Self.observation("o\($0)") }
        let first = try store.ingest(batch)
        #expect(first.appended == 100 && first.alreadyPresent == 0 && first.eventCount == 100)
        let second = try store.ingest(batch)
        #expect(second.appended == 0 && second.alreadyPresent == 100 && second.eventCount == 100)
        #expect(second.headHash == first.headHash)
        let third = try store.ingest([Self.observation("o1"), Self.observation("o101")])
        #expect(third.appended == 1 && third.alreadyPresent == 1 && third.eventCount == 101)
        #expect(try store.firstBrokenLink() == nil)
    }

    @Test(arguments: backends) func aConflictingBatchChangesNothing(_ backend: Backend) throws {
        let (store, _) = try Self.temporaryStore(backend)
        _ = try store.ingest([Self.observation("o1")])
        let before = try store.head()
        #expect { try store.ingest([Self.observation("o2"), Self.observation("o1", lat: 48.7)]) } throws: {
            ($0 as? StoreError)?.code == .conflictingObservation
        }
        let after = try store.head()
        #expect(after.count == before.count && after.hash == before.hash)
        #expect(try store.events().map(\.sequence) == [1])
    }

    @Test(arguments: backends) func theChainLinksEveryEventToTheOneBefore(_ backend: Backend) throws {
        let (store, _) = try Self.temporaryStore(backend)
        _ = try store.ingest((1...5).map { Self.observation("o\($0)") })
        let events = try store.events()
        var previous = EventChain.genesis
        for event in events {
            #expect(event.previousHash == previous)
            #expect(
                event.hash
                    == EventChain.hash(
                        previous: previous, sequence: event.sequence, kind: event.kind, payload: event.payload))
            previous = event.hash
        }
        #expect(try Observation(json: JSONValue.parse(events[2].payload), isKnownSource: { _ in true }).id == "o3")
    }

    @Test func theLogRefusesUpdatesAndDeletesAndTamperingIsFound() throws {
        let (store, path) = try Self.temporaryStore()
        _ = try store.ingest((1...5).map { Self.observation("o\($0)") })
        let queue = try DatabaseQueue(path: path)
        #expect(throws: DatabaseError.self) {
            try queue.write { try $0.execute(sql: "DELETE FROM event WHERE sequence = 2") }
        }
        #expect(throws: DatabaseError.self) {
            try queue.write { try $0.execute(sql: "UPDATE event SET payload = x'00' WHERE sequence = 2") }
        }
        // Someone who drops the trigger can change a payload, but the chain names the event.
        try queue.write { db in
            try db.execute(sql: "DROP TRIGGER event_no_update")
            try db.execute(
                sql:
                    "UPDATE event SET payload = CAST(replace(CAST(payload AS TEXT), '37.8', '37.9') AS BLOB) WHERE sequence = 3"
            )
        }
        #expect(try store.firstBrokenLink() == 3)
    }

    @Test(arguments: backends) func aStoreBelongsToOneMission(_ backend: Backend) throws {
        let (_, path) = try Self.temporaryStore(backend)
        #expect { try EventStore(path: path, missionId: "other") } throws: {
            ($0 as? StoreError)?.code == .wrongMission
        }
        let notAStore = FileManager.default.temporaryDirectory.appendingPathComponent(
            "junk-\(UUID().uuidString).sqlite")
        try Data("this is not sqlite, just text that is long enough to look like a header".utf8).write(to: notAStore)
        #expect { try EventStore(path: notAStore.path, missionId: "m") } throws: {
            ($0 as? StoreError)?.code == .cannotOpen
        }
    }

    @Test func storeRunsInWALModeWithFullSync() throws {
        let (store, path) = try Self.temporaryStore()
        _ = try store.ingest([Self.observation("o1")])
        let queue = try DatabaseQueue(path: path)
        #expect(try queue.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
    }
}

extension EventStoreTests {
    @Test(arguments: backends) func actionsAreEventsOfTheirOwnIdempotentByIdAndReadBackInLogOrder(_ backend: Backend)
        throws
    {
        let (store, _) = try Self.temporaryStore(backend)
        _ = try store.ingest([Self.observation("o1")])
        let action = ReviewAction(
            .verify, by: Actor(member: "US", user: "us-analyst-1"), reason: "checked",
            at: Timestamp(rfc3339: "2026-03-01T03:00:00Z")!, target: "I1", id: "a1")
        #expect(try store.record(.review(action)).appended == 1)
        #expect(try store.record(.review(action)).alreadyPresent == 1)
        var changed = action
        changed.reason = "changed my mind"
        #expect { try store.record(.review(changed)) } throws: { ($0 as? StoreError)?.code == .conflictingObservation }
        // An action may share an id with an observation: they are different records.
        var sameId = action
        sameId.id = "o1"
        #expect(try store.record(.review(sameId)).appended == 1)
        let records = try store.records()
        #expect(records.count == 3)
        guard case .observation(let o) = records[0], case .action(let a) = records[1] else {
            Issue.record("wrong order or kinds: \(records)")
            return
        }
        #expect(o.id == "o1" && o.receivedAt != nil && a.receivedAt != nil)
        #expect(a == MissionAction.review(action).received(at: a.receivedAt!))
        #expect(try store.firstBrokenLink() == nil)
    }
}
