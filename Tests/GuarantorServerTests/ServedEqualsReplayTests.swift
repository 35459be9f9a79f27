import Foundation
import GuarantorCore
import GuarantorStore
import GuarantorTesting
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import GuarantorServer

/// A simulated record sent over HTTP in random batches, with people's actions interleaved and a restart from a
/// snapshot on the way: what the server then serves is byte for byte what `guarantor replay` makes of its log.
@Suite struct ServedEqualsReplayTests {
    /// Where the feed stands, across the servers it talks to.
    final class Feed: @unchecked Sendable {
        let store: EventStore
        var rng: SplitMix64
        var sent = 0
        var deliveriesSent = 0
        var applied = 0
        var refused = 0
        private var keys: [String: String] = [:]

        init(store: EventStore, seed: UInt64) {
            self.store = store
            rng = SplitMix64(seed: seed)
        }

        func key(_ member: String, _ user: String, _ role: Role) throws -> String {
            let name = "\(member)|\(user)|\(role.rawValue)"
            if let k = keys[name] { return k }
            let k = try APIKeys.create(member: member, user: user, role: role, in: store).key
            keys[name] = k
            return k
        }
    }

    @Test(arguments: [11, 12] as [UInt64])
    func randomBatchesActionsAndARestartServeTheReplayOfTheLog(seed: UInt64) async throws {
        let mission = try MissionDirectory.load(ServerTests.Fixture.missionURL)
        let fingerprint = try MissionDirectory.fingerprint(ServerTests.Fixture.missionURL)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("served-\(UUID().uuidString).sqlite")
        let store = try EventStore(path: path.path, missionId: mission.agreement.id)
        // Seed 12 with realistic noise: vague reports minutes off and patrols filing hours late.
        let (observations, _, deliveries) = Simulator.run(
            mission: mission, seed: seed, hours: 36, noise: seed == 12 ? .realistic : .standard)
        let sensor = try APIKeys.create(member: "MISSION", user: "feed", role: .sensor, in: store).key
        let admin = try APIKeys.create(member: "MISSION", user: "admin", role: .admin, in: store).key
        let feed = Feed(store: store, seed: seed)

        /// One server's life on the store: sends until `until` observations are in, then stops.
        func serve(until: Int, _ f: Feed) async throws {
            let state = try MissionState(mission: mission, store: store, fingerprint: fingerprint)
            await state.setSnapshotEvery(events: 400)
            let api = GuarantorAPI(state: state, limits: .replayingHistory)
            let app = GuarantorServerRunner.application(api: api, host: "127.0.0.1", port: 0)
            try await app.test(.live) { client in
                while f.sent < until {
                    let n = min(Int(1 + f.rng.next() % 300), until - f.sent)
                    let body = observations[f.sent..<f.sent + n].map {
                        String(decoding: $0.canonicalJSON, as: UTF8.self)
                    }
                    .joined(separator: "\n")
                    let r = try await client.execute(
                        uri: "/observations", method: .post,
                        headers: ServerTests.headers(sensor, "application/x-ndjson"), body: ByteBuffer(string: body))
                    #expect(r.status == .created, "\(ServerTests.text(r))")
                    f.sent += n
                    // Deliveries as their time comes, and now and then people acting on what they see.
                    let now = observations[f.sent - 1].observedAt
                    while f.deliveriesSent < deliveries.count && deliveries[f.deliveriesSent].at <= now {
                        let d = deliveries[f.deliveriesSent]
                        var w = JSONWriter()
                        d.write(into: &w)
                        let k = try f.key(d.actor.member, d.actor.user, .liaison)
                        let r = try await client.execute(
                            uri: "/actions", method: .post, headers: ServerTests.headers(k, "application/json"),
                            body: ByteBuffer(bytes: w.bytes))
                        if r.status == .created { f.applied += 1 } else { f.refused += 1 }
                        f.deliveriesSent += 1
                    }
                    guard f.rng.next() % 3 == 0 else { continue }
                    let listed = try await client.execute(
                        uri: "/incidents?limit=200", method: .get, headers: ServerTests.headers(admin))
                    let incidents = try JSONValue.parse(ServerTests.text(listed)).object?["incidents"]?.items ?? []
                    guard !incidents.isEmpty else { continue }
                    let pick = incidents[Int(f.rng.next() % UInt64(incidents.count))].object!
                    let id = pick["id"]!.string!
                    let kind = ["verify", "reject", "dispute", "merge", "reopen"][Int(f.rng.next() % 5)]
                    var fields: [String: JSONValue] = [
                        "id": .string("act-\(seed)-\(f.sent)"), "at": .string(now.rfc3339), "action": .string(kind),
                        "member": .string("UK"), "user": .string("uk-analyst"), "incident": .string(id),
                        "reason": .string("reviewed"),
                    ]
                    if kind == "merge" {
                        let other = incidents[Int(f.rng.next() % UInt64(incidents.count))].object!["id"]!.string!
                        guard other != id else { continue }
                        fields["mergeIncidents"] = .array([.string(other)])
                    }
                    var w = JSONWriter()
                    w.value(.object(fields))
                    let acted = try await client.execute(
                        uri: "/actions", method: .post,
                        headers: ServerTests.headers(try f.key("UK", "uk-analyst", .analyst), "application/json"),
                        body: ByteBuffer(bytes: w.bytes))
                    if acted.status == .created { f.applied += 1 } else { f.refused += 1 }
                }
            }
            try await state.saveSnapshot()
        }
        try await serve(until: observations.count / 2, feed)
        #expect(try store.snapshots().count > 0, "snapshots were saved")
        try await serve(until: observations.count, feed)
        #expect(feed.applied >= 10, "\(feed.applied) actions applied, \(feed.refused) refused")

        // A server started again on the store serves the replay of its log.
        let state = try MissionState(mission: mission, store: store, fingerprint: fingerprint)
        #expect(state.startedFrom != nil, "the last server resumed from a snapshot")
        let (batch, actions) = try store.replayInputs()
        let replay = Replay.run(mission: mission, batch: batch, actions: actions)
        let app = GuarantorServerRunner.application(api: GuarantorAPI(state: state), host: "127.0.0.1", port: 0)
        try await app.test(.live) { client in try await ServerTests.expectExports(client, admin, equal: replay) }
        #expect(replay.incidentCount > 500)
    }

    /// Two writers' batches interleaved in the log (each writer's times rising, the log's not), drawn many batches at
    /// a time as a node following a shared log draws them: the view kept from each drawing's changes holds what the
    /// stored engine holds (an incident may go and come back within one drawing).
    @Test func largeDrawingsOfInterleavedWritersKeepTheViewEqualToTheEngine() throws {
        let mission = try MissionDirectory.load(ServerTests.Fixture.missionURL)
        let fingerprint = try MissionDirectory.fingerprint(ServerTests.Fixture.missionURL)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("drawn-\(UUID().uuidString).sqlite")
        let store = try EventStore(path: path.path, missionId: mission.agreement.id)
        var stored = try StoredEngine(mission: mission, store: store, fingerprint: fingerprint)
        var view = ResultView(mission: mission, store: store, standing: stored.engine.standingFindings)
        try view.load(stored)
        var rng = SplitMix64(seed: 17)
        let sources = [
            "us-acoustic-07", "uk-acoustic-02", "us-radar-03", "fr-radar-05", "de-camera-11", "mission-osint",
        ]
        let kinds = ["explosion", "artilleryFire", "smallArmsFire"]
        let start = try #require(Timestamp(rfc3339: "2026-03-01T00:00:00Z"))
        var clock = start.nanoseconds / 1_000_000_000
        var batches = [0, 0]
        for drawing in 0..<60 {
            // Batches made in time order, stored in another (the writers race).
            var made: [[Observation]] = []
            for _ in 0..<Int.random(in: 2...10, using: &rng) {
                let writer = Int.random(in: 0...1, using: &rng)
                let size = Int.random(in: 10...150, using: &rng)
                let lines = (0..<size).map { i in
                    let at = Timestamp(nanoseconds: (clock + Int64(4 * i)) * 1_000_000_000)
                    return """
                        {"id":"w\(writer)-\(batches[writer])-\(i)","source":"\(sources.randomElement(using: &rng)!)",\
                        "observedAt":"\(at.rfc3339)","kind":"\(kinds.randomElement(using: &rng)!)","location":\
                        {"lon":\(Double.random(in: 36.0...38.5, using: &rng)),"lat":\(Double.random(in: 47.3...49.3, using: &rng)),\
                        "uncertaintyMeters":300},"tlp":"GREEN"}
                        """
                }
                clock += Int64(4 * size)
                batches[writer] += 1
                let batch = try ObservationBatch.parse(
                    Array(lines.joined(separator: "\n").utf8), isKnownSource: mission.sources.contains
                ).get()
                made.append(batch.observations)
            }
            for batch in made.shuffled(using: &rng) { _ = try store.ingest(batch) }
            let (from, head) = (stored.position, try store.head().count)
            stored.feed(try store.records(after: from, upTo: head), through: head)
            view.apply(stored.drawAndApply(), from: stored)
            if drawing % 10 == 9 {
                var standing = view.standing
                let viewed = try StoredEngine.resultDigests(
                    mission: mission, standing: &standing, standingFindings: stored.engine.standingFindings,
                    guarantee: stored.guarantee)
                let engine = try stored.resultDigests()
                let differing = zip(viewed, engine).filter { $0.sha256 != $1.sha256 }.map(\.0.name)
                #expect(differing.isEmpty, "after drawing \(drawing) the view's \(differing) differ from the engine's")
            }
        }
        #expect(stored.counts.incidents > 1_000)
    }
}
