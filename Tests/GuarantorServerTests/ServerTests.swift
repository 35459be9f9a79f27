import Crypto
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

/// The API on a real server on 127.0.0.1: roles, releasability, limits, the stream, and equality with replay.
@Suite struct ServerTests {
    static let examples = TestData.repositoryRoot.appendingPathComponent("docs/examples")

    /// A fresh store for the example mission, its state and API, and a key per (member, user, role) asked for.
    struct Fixture {
        let mission: Mission
        let store: EventStore
        let state: MissionState
        let api: GuarantorAPI
        /// The mission's signing key, and the witness keys of UK and FR (integrity.json's witnesses).
        let signingKey = Curve25519.Signing.PrivateKey()
        let witnessKeys = ["UK": Curve25519.Signing.PrivateKey(), "FR": Curve25519.Signing.PrivateKey()]

        /// The tests replay a simulated week of 2026 into a server running today: the bound on back-dated actions
        /// is lifted, except where a test checks it.
        init(limits: APILimits = .replayingHistory) throws {
            mission = try MissionDirectory.load(Self.missionURL)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("api-\(UUID().uuidString).sqlite")
            store = try EventStore(
                path: TestData.storeLocation(sqlitePath: path.path), missionId: mission.agreement.id,
                resultsPath: EventStore.resultsPath(of: path.path))
            state = try MissionState(
                mission: mission, store: store, fingerprint: try MissionDirectory.fingerprint(Self.missionURL))
            var integrity = IntegrityConfiguration()
            integrity.missionPublicKey = signingKey.publicKey
            integrity.witnesses = witnessKeys.mapValues(\.publicKey)
            api = GuarantorAPI(
                state: state, limits: limits, integrity: integrity, signingKey: signingKey,
                missionDirectory: Self.missionURL)
        }

        static let missionURL = ServerTests.examples.appendingPathComponent("mission")

        func key(_ member: String, _ user: String, _ role: Role) throws -> String {
            try APIKeys.create(member: member, user: user, role: role, in: store).key
        }

        func run(_ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
            let app = GuarantorServerRunner.application(api: api, host: "127.0.0.1", port: 0)
            try await app.test(.live, test)
        }
    }

    static func headers(_ key: String?, _ contentType: String? = nil) -> HTTPFields {
        var h: HTTPFields = [:]
        if let key { h[.authorization] = "Bearer \(key)" }
        if let contentType { h[.contentType] = contentType }
        return h
    }

    static func text(_ response: TestResponse) -> String { String(buffer: response.body) }

    /// The server's exports, byte for byte what `guarantor replay` wrote.
    static func expectExports(_ client: any TestClientProtocol, _ key: String, equal replay: Replay.Output) async throws
    {
        for (file, expected) in [
            ("incidents.ndjson", replay.incidents), ("violations.ndjson", replay.violations),
            ("alerts.ndjson", replay.alerts), ("obligations.ndjson", replay.obligations),
        ] {
            let response = try await client.execute(uri: "/export/\(file)", method: .get, headers: headers(key))
            #expect(text(response) == String(decoding: expected, as: UTF8.self), "\(file)")
        }
    }

    /// Requests that exercise a route: its path parameters filled in (every event for `/log/{sequence}`) and the
    /// query parameters proofs need.
    static func uris(_ route: APIRoute, events: Int, checkpoint: Int) -> [String] {
        switch route.path {
        case "/export/{file}": ["incidents.ndjson", "violations.ndjson", "alerts.ndjson"].map { "/export/\($0)" }
        case "/log/{sequence}": (1...max(events, 1)).map { "/log/\($0)" }
        // The role table's observations (rt-ROLE, one place and time) form one incident, named after rt-monitor.
        case "/incidents/{id}/observations":
            ["/incidents/\(IncidentKey.incidentId(IncidentKey.of(observationId: "rt-monitor")))/observations"]
        case "/import/{format}": ["/import/ucdp?source=mission-osint"]
        case "/proofs/inclusion": ["/proofs/inclusion?sequence=1&size=\(max(events, 1))"]
        case "/proofs/consistency": ["/proofs/consistency?from=0&to=\(events)"]
        case "/lines/{id}": ["/lines/agreement", "/lines/east"]
        case "/lines/compare": ["/lines/compare?a=agreement&b=east"]
        case "/reports/daily/{date}": ["/reports/daily/2026-03-01", "/reports/daily/2026-03-02?format=md"]
        case "/reports/spot/{id}": ["/reports/spot/Anone"]
        // The role table's keys are the UK's: its collection; an object every collection holds (a TLP marking).
        case let path where path.hasPrefix("/taxii2/"):
            [
                path.replacingOccurrences(
                    of: "{collection}", with: TAXII.collectionId(missionId: "example", reader: .member("UK"))
                ).replacingOccurrences(of: "{object}", with: STIXBundle.markingIds[.clear]!)
            ]
        default: [route.path.replacingOccurrences(of: "{size}", with: "\(checkpoint)")]
        }
    }

    static let exampleObservations = try! Data(contentsOf: examples.appendingPathComponent("observations.ndjson"))

    @Test func everyRouteIsInTheOpenAPIDocumentAndEveryDocumentedPathIsARoute() throws {
        let document = try JSONValue.parse(OpenAPIDocument.json)
        let paths = try #require(document.object?["paths"]?.object)
        #expect(Set(paths.keys) == Set(GuarantorAPI.routes.map(\.path)))
        for route in GuarantorAPI.routes {
            let operations = try #require(paths[route.path]?.object)
            #expect(operations[route.method.rawValue.lowercased()] != nil, "\(route.method) \(route.path)")
        }
        #expect(document.object?["openapi"]?.string == "3.1.0")
    }

    /// Every route × every role: allowed (not 401/403) or refused with 403; without a key, 401.
    @Test func theRoleTableHoldsForEveryRouteAndRole() async throws {
        let f = try Fixture()
        var made: [Role: String] = [:]
        for role in Role.allCases { made[role] = try f.key("UK", "uk-\(role.rawValue)", role) }
        let keys = made
        let observation =
            #"{"id":"rt-1","source":"uk-acoustic-02","observedAt":"2026-03-01T01:00:00Z","kind":"explosion","location":{"lon":37.9,"lat":48.5,"uncertaintyMeters":100}}"#
        let checkpoint = try await f.state.checkpoint(key: f.signingKey, index: f.api.merkle, time: WallClock.now())
        let cosignature = try SigningKeys.sign(checkpoint.checkpoint.body, with: f.witnessKeys["UK"]!)
        try await f.run { client in
            for route in GuarantorAPI.routes where route.path != "/stream" {
                let uri = Self.uris(route, events: 1, checkpoint: checkpoint.checkpoint.size)[0]
                for role in Role.allCases {
                    let body: ByteBuffer? =
                        switch route.path {
                        case "/observations":
                            ByteBuffer(
                                string: observation.replacingOccurrences(of: "rt-1", with: "rt-\(role.rawValue)"))
                        case "/import/{format}":
                            ByteBuffer(
                                string:
                                    "id,date_start,latitude,longitude,where_prec,best\n\(role.rawValue),2026-03-01,48.1,37.1,1,2\n"
                            )
                        case "/checkpoints/{size}/cosignatures":
                            ByteBuffer(string: #"{"signature":"\#(Data(cosignature).base64EncodedString())"}"#)
                        default: nil
                        }
                    let response = try await client.execute(
                        uri: uri, method: route.method,
                        headers: Self.headers(keys[role], route.method == .post ? "application/json" : nil), body: body)
                    let code = response.status.code
                    if route.path == "/actions" {
                        // Rights depend on the action; a missing body is a 400 for everyone with a key.
                        #expect(code == 400, "\(route.path) \(role): \(code)")
                    } else if let right = route.right, !role.rights.contains(right) {
                        #expect(code == 403, "\(route.path) \(role): \(code) \(Self.text(response))")
                    } else if route.path == "/reports/spot/{id}" {
                        // Allowed; there is no alert of that id.
                        #expect(code == 404, "\(route.path) \(role): \(code) \(Self.text(response))")
                    } else {
                        #expect(code < 300, "\(route.path) \(role): \(code) \(Self.text(response))")
                    }
                }
                if route.needsKey {
                    // Without a key: the public view's routes answer (404 for an id the public may not see), every
                    // other one is refused.
                    let anonymous = try await client.execute(uri: uri, method: route.method)
                    if route.isPublic {
                        #expect(anonymous.status != .unauthorized, "\(route.path) is in the public view")
                    } else {
                        #expect(anonymous.status == .unauthorized, "\(route.path) without a key")
                    }
                }
            }
            // Actions by right: an analyst may verify but not fulfil; a liaison the reverse; a monitor neither.
            let verify =
                #"{"id":"a1","at":"2026-03-01T06:00:00Z","action":"verify","member":"UK","user":"uk-ROLE","incident":"I0000000000000000","reason":"r"}"#
            let fulfil =
                #"{"id":"a2","at":"2026-03-01T06:00:00Z","action":"fulfil","member":"UK","user":"uk-ROLE","obligation":"x","reference":"r"}"#
            let clock = #"{"id":"a3","at":"2026-03-01T06:00:00Z","action":"clock","member":"UK","user":"uk-ROLE"}"#
            for (template, allowed) in [
                (verify, [Role.analyst]), (fulfil, [.liaison]), (clock, [.admin]),
            ] {
                for role in Role.allCases {
                    let body = template.replacingOccurrences(of: "ROLE", with: role.rawValue)
                    let response = try await client.execute(
                        uri: "/actions", method: .post, headers: Self.headers(keys[role], "application/json"),
                        body: ByteBuffer(string: body))
                    if allowed.contains(role) {
                        #expect(response.status != .forbidden, "\(role): \(Self.text(response))")
                    } else {
                        #expect(response.status == .forbidden, "\(role): \(Self.text(response))")
                    }
                }
            }
            // Acting in another member's name is refused.
            let impersonation = try await client.execute(
                uri: "/actions", method: .post, headers: Self.headers(keys[.analyst], "application/json"),
                body: ByteBuffer(string: verify.replacingOccurrences(of: "uk-ROLE", with: "fr-analyst")))
            #expect(impersonation.status == .forbidden)
        }
    }

    /// Restricted data created as one member never reaches another member: responses, exports and the stream.
    @Test func restrictedRecordsDoNotLeakToOtherMembers() async throws {
        let f = try Fixture()
        let frMonitor = try f.key("FR", "fr-monitor", .monitor)
        let readers = try [("UK", Role.analyst), ("US", .liaison), ("PL", .auditor), ("DE", .admin)].map {
            ($0.0, try f.key($0.0, "\($0.0.lowercased())-reader", $0.1))
        }
        let frReader = try f.key("FR", "fr-reader", .auditor)
        // A RED and an AMBER+STRICT report, alone in their places: each is an incident of its own; and a RED report of
        // a strike on the protected deployment site, which raises a tripwire alert that everyone sees.
        let secret = [
            #"{"id":"fr-secret-strike","source":"fr-radar-05","observedAt":"2026-03-01T05:00:00Z","kind":"explosion","location":{"lon":35.0462,"lat":48.4647,"uncertaintyMeters":100},"tlp":"RED","text":"SECRET-SOURCE-CHARLIE"}"#,
            #"{"id":"fr-secret-red","source":"fr-radar-05","observedAt":"2026-03-01T03:00:00Z","kind":"artilleryFire","location":{"lon":36.4,"lat":47.9,"uncertaintyMeters":150},"tlp":"RED","text":"SECRET-SOURCE-ALPHA"}"#,
            #"{"id":"fr-secret-strict","source":"fr-uav-02","observedAt":"2026-03-01T04:00:00Z","kind":"heavyWeaponSighting","weaponClass":"tank","location":{"lon":36.9,"lat":48.2,"uncertaintyMeters":30},"tlp":"AMBER+STRICT","text":"SECRET-SOURCE-BRAVO"}"#,
        ].joined(separator: "\n")
        try await f.run { client in
            let stream = Task { try await Self.curlStream(port: client.port!, key: readers[0].1, seconds: 3) }
            try await Task.sleep(for: .milliseconds(500))
            let posted = try await client.execute(
                uri: "/observations", method: .post, headers: Self.headers(frMonitor, "application/x-ndjson"),
                body: ByteBuffer(string: secret))
            #expect(posted.status == .created, "\(Self.text(posted))")
            let secrets = ["fr-secret-red", "fr-secret-strict", "fr-secret-strike", "SECRET-SOURCE", "36.4,", "36.9,"]
            let incidentIds = ["fr-secret-red", "fr-secret-strict", "fr-secret-strike"].map {
                VerificationEngine.incidentId(firstObservation: $0)
            }
            // …and the findings made from them (alerts name findings).
            let (stored, storedActions) = try f.store.replayInputs()
            let findings = Replay.run(mission: f.mission, batch: stored, actions: storedActions).verification.violations
                .filter { incidentIds.contains($0.incidentId) }
            #expect(!findings.isEmpty)
            let findingIds = findings.map(\.id)
            let checkpoint = try await f.state.checkpoint(
                key: f.signingKey, index: f.api.merkle, time: WallClock.now())
            let events = Int(try f.store.head().count)
            for (member, key) in readers {
                for route in GuarantorAPI.routes where route.method == .get && route.path != "/stream" {
                    for uri in Self.uris(route, events: events, checkpoint: checkpoint.checkpoint.size) {
                        let response = try await client.execute(uri: uri, method: .get, headers: Self.headers(key))
                        let body = Self.text(response)
                        for s in secrets + incidentIds + findingIds {
                            #expect(!body.contains(s), "\(member) \(uri) shows \(s)")
                        }
                    }
                }
            }
            // The tripwire alert is there for every member, without the finding it rests on.
            let alerts = try await client.execute(uri: "/alerts", method: .get, headers: Self.headers(readers[0].1))
            #expect(Self.text(alerts).contains(#""triggerId":"tripwire""#))
            // The originating member sees its own records.
            let own = try await client.execute(uri: "/incidents", method: .get, headers: Self.headers(frReader))
            #expect(Self.text(own).contains("fr-secret-red"))
            // That read returned restricted records: it is audited (who, what, when); the others' reads returned none.
            let audits = try f.store.events().filter { $0.kind == "audit" }.map {
                String(decoding: $0.payload, as: UTF8.self)
            }
            #expect(audits.contains { $0.contains(#""user":"fr-reader""#) && $0.contains(#""endpoint":"/incidents""#) })
            #expect(!audits.contains { !$0.contains("fr-reader") && $0.contains(#""endpoint":"/incidents""#) })
            #expect(audits.contains { $0.contains(#""user":"pl-reader""#) && $0.contains("/export/incidents.ndjson") })
            let streamed = try await stream.value
            #expect(streamed.contains("event: alert"))
            #expect(!(secrets + findingIds).contains { streamed.contains($0) }, "the stream leaked: \(streamed)")
        }
    }

    /// `curl -N` on /stream for a few seconds: what an SSE client receives. It runs on a thread of its own, never
    /// one of the few that serve requests.
    static func curlStream(port: Int, key: String?, seconds: Int, lastEventId: Int? = nil) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result {
                        try curlStreamBlocking(port: port, key: key, seconds: seconds, lastEventId: lastEventId)
                    })
            }
        }
    }

    static func curlStreamBlocking(port: Int, key: String?, seconds: Int, lastEventId: Int?) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        var arguments =
            ["-s", "-N", "--max-time", "\(seconds)"] + (key.map { ["-H", "Authorization: Bearer \($0)"] } ?? [])
        if let lastEventId { arguments += ["-H", "Last-Event-ID: \(lastEventId)"] }
        process.arguments = arguments + ["http://127.0.0.1:\(port)/stream"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// The API and `guarantor replay` reach the same incidents, violations, alerts and obligations for the same input.
    @Test func ingestingThroughTheAPIGivesWhatReplayGives() async throws {
        let f = try Fixture()
        let admin = try f.key("MISSION", "mission-admin", .admin)
        let sensor = try f.key("MISSION", "mission-sensor", .sensor)
        let actions = try MissionAction.parseFile(
            Array(Data(contentsOf: Self.examples.appendingPathComponent("actions.ndjson")))
        ).get()
        var madeKeys: [String: String] = [:]
        for action in actions {
            let (actor, right): (Actor, Right) =
                switch action {
                case .review(let a): (a.actor, Right.needed(for: action))
                case .guarantee(let a): (a.actor, Right.needed(for: action))
                }
            let role = Role.allCases.first { $0.rights.contains(right) }!
            let name = "\(actor.member)|\(actor.user)|\(role.rawValue)"
            if madeKeys[name] == nil { madeKeys[name] = try f.key(actor.member, actor.user, role) }
        }
        let actorKeys = madeKeys
        try await f.run { client in
            let posted = try await client.execute(
                uri: "/observations", method: .post, headers: Self.headers(sensor, "application/x-ndjson"),
                body: ByteBuffer(bytes: Array(Self.exampleObservations)))
            #expect(posted.status == .created)
            for action in actions {
                let (actor, right): (Actor, Right) =
                    switch action {
                    case .review(let a): (a.actor, Right.needed(for: action))
                    case .guarantee(let a): (a.actor, Right.needed(for: action))
                    }
                let role = Role.allCases.first { $0.rights.contains(right) }!
                var w = JSONWriter()
                switch action {
                case .review(let a): a.write(into: &w)
                case .guarantee(let a): a.write(into: &w)
                }
                let response = try await client.execute(
                    uri: "/actions", method: .post,
                    headers: Self.headers(
                        actorKeys["\(actor.member)|\(actor.user)|\(role.rawValue)"], "application/json"),
                    body: ByteBuffer(bytes: w.bytes))
                #expect(
                    [.created, .unprocessableContent].contains(response.status), "\(action.id): \(Self.text(response))")
            }
            let batch = try ObservationBatch.parse(
                Array(Self.exampleObservations), isKnownSource: f.mission.sources.contains
            )
            .get()
            let replay = Replay.run(mission: f.mission, batch: batch, actions: actions)
            try await Self.expectExports(client, admin, equal: replay)
            // The metrics count what happened: observations ingested, drawings, the review queues.
            let metrics = Self.text(
                try await client.execute(uri: "/metrics", method: .get, headers: Self.headers(admin)))
            let lines = metrics.split(separator: "\n")
            #expect(lines.contains("guarantor_observations_ingested_total \(batch.observations.count)"))
            #expect(!lines.contains("guarantor_engine_drawing_seconds_count 0"))
            #expect(lines.contains("guarantor_observations_pending 0.0"))
            let verified = replay.verification.incidents.filter { $0.status == .verified }.count
            #expect(lines.contains("guarantor_incidents{status=\"verified\"} \(Double(verified))"), "\(metrics)")
        }
    }

    /// What an auditor checks over HTTP: each event's leaf is in the signed checkpoint's tree (inclusion proofs), and
    /// a later checkpoint extends an earlier one (a consistency proof); an empty log answers 404, not a crash.
    static func object(_ response: TestResponse) throws -> [String: JSONValue] {
        try #require(try JSONValue.parse(Self.text(response)).object)
    }

    /// The hex hashes of a proof.
    static func hashes(_ value: JSONValue?) -> [[UInt8]] {
        guard case .array(let items) = value else { return [] }
        return items.compactMap { $0.string.flatMap(Checkpoint.bytes(hex:)) }
    }

    /// An auditor asks the server to verify the log (`guarantor verify`'s checks, on a thread of its own) and reads
    /// the result; an analyst may not.
    @Test func theServerVerifiesTheLogForAuditors() async throws {
        let f = try Fixture()
        let auditor = try f.key("UK", "uk-auditor", .auditor)
        let analyst = try f.key("UK", "uk-analyst", .analyst)
        let sensor = try f.key("MISSION", "mission-sensor", .sensor)
        try await f.run { client in
            let before = try Self.object(
                try await client.execute(uri: "/verification", method: .get, headers: Self.headers(auditor)))
            #expect(before["last"] == .null && before["running"] == .null)
            _ = try await client.execute(
                uri: "/observations", method: .post, headers: Self.headers(sensor, "application/x-ndjson"),
                body: ByteBuffer(bytes: Array(Self.exampleObservations)))
            let checkpoint = try await f.state.checkpoint(
                key: f.signingKey, index: f.api.merkle, time: WallClock.now())
            let refused = try await client.execute(uri: "/verification", method: .post, headers: Self.headers(analyst))
            #expect(refused.status == .forbidden)
            let started = try await client.execute(uri: "/verification", method: .post, headers: Self.headers(auditor))
            #expect(started.status == .accepted)
            _ = await f.api.verifications.settled()
            let after = try Self.object(
                try await client.execute(uri: "/verification", method: .get, headers: Self.headers(auditor)))
            let last = try #require(after["last"]?.object)
            #expect(last["clean"] == .bool(true), "\(last)")
            #expect((last["events"]?.number ?? 0) >= Double(checkpoint.checkpoint.size))
            let passed = try #require(last["passed"]?.items).compactMap(\.string)
            #expect(passed.contains { $0.hasPrefix("hash chain:") }, "\(passed)")
            #expect(
                passed.contains {
                    $0.contains("gives exactly the results of checkpoint \(checkpoint.checkpoint.size)")
                },
                "the replay was compared with the checkpoint: \(passed)")
        }
    }

    @Test func proofsFromTheAPIVerifyAgainstSignedCheckpoints() async throws {
        let f = try Fixture()
        let auditor = try f.key("UK", "uk-auditor", .auditor)
        let sensor = try f.key("MISSION", "mission-sensor", .sensor)
        try await f.run { client in
            // The log holds only the two keys' creation: a proof in a larger tree is refused, not a crash.
            let empty = try await client.execute(
                uri: "/proofs/inclusion?sequence=3&size=3", method: .get, headers: Self.headers(auditor))
            #expect(empty.status == .badRequest)
            let none = try await client.execute(uri: "/log/3", method: .get, headers: Self.headers(auditor))
            #expect(none.status == .notFound)
            #expect(
                try Self.object(
                    try await client.execute(uri: "/checkpoints", method: .get, headers: Self.headers(auditor)))[
                        "latest"] == .null)

            _ = try await client.execute(
                uri: "/observations", method: .post, headers: Self.headers(sensor, "application/x-ndjson"),
                body: ByteBuffer(bytes: Array(Self.exampleObservations)))
            let first = try await f.state.checkpoint(key: f.signingKey, index: f.api.merkle, time: WallClock.now())
            for sequence in 1...first.checkpoint.size {
                let entry = try Self.object(
                    try await client.execute(uri: "/log/\(sequence)", method: .get, headers: Self.headers(auditor)))
                let leaf = try #require(entry["leafHash"]?.string.flatMap(Checkpoint.bytes(hex:)))
                let proof = try Self.object(
                    try await client.execute(
                        uri: "/proofs/inclusion?sequence=\(sequence)&size=\(first.checkpoint.size)", method: .get,
                        headers: Self.headers(auditor)))
                #expect(
                    MerkleTree.verifyInclusion(
                        leafHash: leaf, index: sequence - 1, size: first.checkpoint.size,
                        proof: Self.hashes(proof["proof"]),
                        root: first.checkpoint.root), "event \(sequence)")
            }
            _ = try await client.execute(
                uri: "/observations", method: .post, headers: Self.headers(sensor, "application/x-ndjson"),
                body: ByteBuffer(
                    string: String(decoding: Self.exampleObservations, as: UTF8.self)
                        .replacingOccurrences(of: #""id":""#, with: #""id":"again-"#)))
            let second = try await f.state.checkpoint(key: f.signingKey, index: f.api.merkle, time: WallClock.now())
            let consistency = try Self.object(
                try await client.execute(
                    uri: "/proofs/consistency?from=\(first.checkpoint.size)&to=\(second.checkpoint.size)",
                    method: .get, headers: Self.headers(auditor)))
            #expect(
                MerkleTree.verifyConsistency(
                    old: first.checkpoint.size, new: second.checkpoint.size, oldRoot: first.checkpoint.root,
                    newRoot: second.checkpoint.root, proof: Self.hashes(consistency["proof"])))
            // A cosignature that is not the member's witness key's is refused.
            let forged = try await client.execute(
                uri: "/checkpoints/\(second.checkpoint.size)/cosignatures", method: .post,
                headers: Self.headers(auditor, "application/json"),
                body: ByteBuffer(
                    string:
                        #"{"signature":"\#(Data(try SigningKeys.sign(second.checkpoint.body, with: f.witnessKeys["FR"]!)).base64EncodedString())"}"#
                ))
            #expect(forged.status == .unprocessableContent)
        }
    }

    /// Observations and actions arriving at once, from many clients: what the server then serves is what a replay of
    /// its log gives (the engine is handed between drawings and actions, never used by both).
    @Test func concurrentWritesServeWhatAReplayOfTheLogGives() async throws {
        let f = try Fixture()
        let sensor = try f.key("MISSION", "mission-sensor", .sensor)
        let admin = try f.key("MISSION", "mission-admin", .admin)
        let lines = String(decoding: Self.exampleObservations, as: UTF8.self).split(separator: "\n").map(String.init)
        try await f.run { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for round in 0..<6 {
                    for (i, line) in lines.enumerated() {
                        group.addTask {
                            let body = line.replacingOccurrences(of: #""id":""#, with: #""id":"c\#(round)-"#)
                            let r = try await client.execute(
                                uri: "/observations", method: .post, headers: Self.headers(sensor, "application/json"),
                                body: ByteBuffer(string: body))
                            #expect(r.status == .created, "\(round)/\(i): \(Self.text(r))")
                        }
                    }
                    group.addTask {
                        let clock =
                            #"{"id":"clock-\#(round)","at":"2026-03-0\#(round + 2)T00:00:00Z","action":"clock","member":"MISSION","user":"mission-admin"}"#
                        let r = try await client.execute(
                            uri: "/actions", method: .post, headers: Self.headers(admin, "application/json"),
                            body: ByteBuffer(string: clock))
                        #expect(r.status == .created, "clock \(round): \(Self.text(r))")
                    }
                }
                try await group.waitForAll()
            }
            let (batch, actions) = try f.store.replayInputs()
            #expect(batch.observations.count == 6 * lines.count && actions.count == 6)
            let replay = Replay.run(mission: f.mission, batch: batch, actions: actions)
            try await Self.expectExports(client, admin, equal: replay)
        }
    }

    @Test func badInputGetsAClearErrorAndChangesNothing() async throws {
        var limits = APILimits()
        limits.maximumBodyBytes = 4_096
        limits.maximumBatch = 3
        limits.requestsPerSecond = 5
        limits.burst = 5
        let f = try Fixture(limits: limits)
        let monitor = try f.key("PL", "pl-monitor", .monitor)
        let other = try f.key("PL", "pl-monitor-2", .monitor)
        let burster = try f.key("PL", "pl-monitor-3", .monitor)
        try await f.run { client in
            let good =
                #"{"id":"ok-1","source":"pl-patrol-04","observedAt":"2026-03-01T01:00:00Z","kind":"smallArmsFire","location":{"lon":37.9,"lat":48.5,"uncertaintyMeters":100}}"#
            let bad =
                #"{"id":"bad-1","source":"pl-patrol-04","observedAt":"2026-03-01T01:00:00Z","kind":"smallArmsFire","location":{"lon":37.9,"lat":91,"uncertaintyMeters":100}}"#
            let rejected = try await client.execute(
                uri: "/observations", method: .post, headers: Self.headers(monitor, "application/x-ndjson"),
                body: ByteBuffer(string: good + "\n" + bad))
            #expect(rejected.status == .badRequest)
            #expect(Self.text(rejected).contains(#""line":2,"field":"location.lat""#), "\(Self.text(rejected))")
            #expect(await f.state.observationCount() == 0, "a rejected batch left something")
            let tooMany = try await client.execute(
                uri: "/observations", method: .post, headers: Self.headers(monitor, "application/x-ndjson"),
                body: ByteBuffer(string: Array(repeating: good, count: 5).joined(separator: "\n")))
            #expect(tooMany.status == .contentTooLarge)
            let huge = try await client.execute(
                uri: "/observations", method: .post, headers: Self.headers(monitor, "application/json"),
                body: ByteBuffer(string: String(repeating: " ", count: 10_000)))
            #expect(huge.status == .contentTooLarge)
            let malformed = try await client.execute(
                uri: "/observations", method: .post, headers: Self.headers(monitor, "application/json"),
                body: ByteBuffer(string: "{\"id\":"))
            #expect(malformed.status == .badRequest && Self.text(malformed).contains(#""line":1,"field""#))
            #expect(!Self.text(malformed).contains("/work/") && !Self.text(malformed).contains(".swift"))
            // The rate limit: a burst of 5, then 429 with Retry-After; another key is not affected. (Up to 60
            // requests: on a busy machine each may take longer than the 200 ms in which a token comes back.)
            var limited: TestResponse?
            for _ in 0..<60 where limited == nil {
                let r = try await client.execute(uri: "/incidents", method: .get, headers: Self.headers(burster))
                if r.status == .tooManyRequests { limited = r }
            }
            #expect(limited?.headers[.retryAfter] != nil)
            let fine = try await client.execute(uri: "/incidents", method: .get, headers: Self.headers(other))
            #expect(fine.status == .ok)
        }
    }

    @Test func aStreamClientResumesWithLastEventID() async throws {
        let f = try Fixture()
        let analyst = try f.key("MISSION", "mission-analyst", .analyst)
        let sensor = try f.key("MISSION", "mission-sensor", .sensor)
        try await f.run { client in
            _ = try await client.execute(
                uri: "/observations", method: .post, headers: Self.headers(sensor, "application/x-ndjson"),
                body: ByteBuffer(bytes: Array(Self.exampleObservations)))
            // Events 1… were published by that ingest; a client that saw up to 2 gets 3 and after.
            let resumed = try await Self.curlStream(port: client.port!, key: analyst, seconds: 2, lastEventId: 2)
            #expect(resumed.contains("id: 3\n") && !resumed.contains("id: 2\n") && !resumed.contains("id: 1\n"))
            #expect(resumed.contains("event: alert") && resumed.contains("event: incident"))
        }
    }
}

extension APILimits {
    /// The limits, with actions accepted however far before their receipt they are dated.
    static var replayingHistory: APILimits {
        var limits = APILimits()
        limits.maximumBackdatingSeconds = .infinity
        return limits
    }
}
