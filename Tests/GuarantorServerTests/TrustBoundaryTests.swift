import Foundation
import GuarantorCore
import GuarantorStore
import GuarantorTesting
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GuarantorServer

/// Whose clock counts and who may decide (issue 12), through a real server on 127.0.0.1.
@Suite struct TrustBoundaryTests {
    typealias Fixture = ServerTests.Fixture

    static func post(
        _ client: any TestClientProtocol, _ uri: String, _ key: String, _ body: String,
        _ type: String = "application/json"
    ) async throws -> TestResponse {
        try await client.execute(
            uri: uri, method: .post, headers: ServerTests.headers(key, type), body: ByteBuffer(string: body))
    }

    /// Files the documented example observations.
    static func postExamples(_ client: any TestClientProtocol, _ sensor: String) async throws {
        let posted = try await post(
            client, "/observations", sensor, String(decoding: ServerTests.exampleObservations, as: UTF8.self),
            "application/x-ndjson")
        #expect(posted.status == .created)
    }

    /// An observation dated ahead of its receipt, an action dated after it, or one back-dated beyond the bound is
    /// refused naming both times, and nothing is stored; an action without a time is dated at its receipt.
    @Test func aClientsClockNeverMovesTheMissions() async throws {
        let f = try Fixture(limits: APILimits())
        let sensor = try f.key("MISSION", "feed", .sensor)
        let liaison = try f.key("UK", "uk-liaison", .liaison)
        let admin = try f.key("MISSION", "admin", .admin)
        let tomorrow = WallClock.now().adding(86_400 * 1_000_000_000).rfc3339
        try await f.run { client in
            let early =
                #"{"id":"ok-1","source":"uk-acoustic-02","observedAt":"2026-03-01T01:00:00Z","kind":"explosion","location":{"lon":37.9,"lat":48.5,"uncertaintyMeters":100}}"#
            let ahead = early.replacingOccurrences(of: "ok-1", with: "ahead-1")
                .replacingOccurrences(of: "2026-03-01T01:00:00Z", with: tomorrow)
            let refused = try await Self.post(
                client, "/observations", sensor, early + "\n" + ahead, "application/x-ndjson")
            #expect(refused.status == .badRequest)
            let body = try ServerTests.object(refused)
            guard case .array(let errors) = body["errors"], let error = errors.first?.object else {
                Issue.record("no line errors: \(body)")
                return
            }
            #expect(error["line"] == .number(2) && error["field"] == .string("observedAt"))
            let reason = error["reason"]?.string ?? ""
            #expect(reason.contains(tomorrow) && reason.contains("after its receipt"), "\(reason)")
            #expect(try f.store.records().isEmpty, "a refused batch stores nothing")

            let yearAhead = WallClock.now().adding(365 * 86_400 * 1_000_000_000).rfc3339
            let fulfil =
                #"{"id":"f1","at":"\#(yearAhead)","action":"fulfil","member":"UK","user":"uk-liaison","obligation":"x","reference":"r"}"#
            let future = try await Self.post(client, "/actions", liaison, fulfil)
            #expect(future.status == .badRequest)
            #expect(ServerTests.text(future).contains("is after the action's receipt"))
            let backdated = WallClock.now().adding(-10 * 86_400 * 1_000_000_000).rfc3339
            let old = try await Self.post(
                client, "/actions", admin,
                #"{"id":"c0","at":"\#(backdated)","action":"clock","member":"MISSION","user":"admin"}"#)
            #expect(old.status == .badRequest && ServerTests.text(old).contains("more than 72 h before"))
            #expect(try f.store.records().isEmpty)

            let before = WallClock.now()
            let clock = try await Self.post(
                client, "/actions", admin, #"{"id":"c1","action":"clock","member":"MISSION","user":"admin"}"#)
            #expect(clock.status == .created, "\(ServerTests.text(clock))")
            let stored = try #require(try f.store.action(id: "c1"))
            #expect(stored.at == stored.receivedAt && stored.at >= before)
            // The same request again is the same action (a retry), not a conflict.
            let retry = try await Self.post(
                client, "/actions", admin, #"{"id":"c1","action":"clock","member":"MISSION","user":"admin"}"#)
            #expect(retry.status != .conflict, "\(ServerTests.text(retry))")
        }
    }

    /// A party's analyst never verifies (nor merges, nor endorses); only the mission's staff advance its clock.
    @Test func aPartyNeverDecides() async throws {
        let f = try Fixture()
        let sensor = try f.key("MISSION", "feed", .sensor)
        let russian = try f.key("RU", "ru-analyst", .analyst)
        let ukAdmin = try f.key("UK", "uk-admin", .admin)
        try await f.run { client in
            try await Self.postExamples(client, sensor)
            for (kind, extra) in [("verify", ""), ("reject", ""), ("merge", #","mergeIncidents":["Ix"]"#)] {
                let action =
                    #"{"id":"ru-\#(kind)","at":"2026-03-01T06:00:00Z","action":"\#(kind)","member":"RU","user":"ru-analyst","incident":"I65d187b436520109","reason":"ours"\#(extra)}"#
                let response = try await Self.post(client, "/actions", russian, action)
                #expect(response.status == .unprocessableContent)
                #expect(ServerTests.text(response).contains("RU is a party to the ceasefire"), "\(kind)")
            }
            let clock = try await Self.post(
                client, "/actions", ukAdmin,
                #"{"id":"uk-clock","at":"2026-03-05T00:00:00Z","action":"clock","member":"UK","user":"uk-admin"}"#)
            #expect(clock.status == .unprocessableContent && ServerTests.text(clock).contains("the mission's clock"))
            #expect(try f.store.action(id: "ru-verify") == nil && f.store.action(id: "uk-clock") == nil)
        }
    }

    /// A quiet server still lets deadlines pass: the mission's clock appends `clock` events when nothing arrives,
    /// and a replay of the log reaches the same obligations.
    @Test func aQuietServerLetsObligationsFallOverdue() async throws {
        let f = try Fixture()
        let sensor = try f.key("MISSION", "feed", .sensor)
        let admin = try f.key("MISSION", "admin", .admin)
        let later = Timestamp(rfc3339: "2026-04-01T00:00:00Z")!
        try await f.run { client in
            try await Self.postExamples(client, sensor)
            let before = ServerTests.text(
                try await client.execute(uri: "/obligations", method: .get, headers: ServerTests.headers(admin)))
            #expect(before.contains("\"open\"") && !before.contains("\"overdue\""))
            let ticking = Task { await ClockSchedule.run(state: f.state, everySeconds: 1, now: { later }) }
            defer { ticking.cancel() }
            var ticked = false
            for _ in 0..<50 where !ticked {
                try await Task.sleep(for: .milliseconds(100))
                ticked = try f.store.action(id: "clock/\(later.rfc3339)") != nil
            }
            #expect(ticked, "a clock event was appended")
            let after = ServerTests.text(
                try await client.execute(uri: "/obligations", method: .get, headers: ServerTests.headers(admin)))
            #expect(after.contains("\"overdue\""), "\(after)")
            let (batch, actions) = try f.store.replayInputs()
            #expect(actions.contains { $0.id == "clock/\(later.rfc3339)" })
            try await ServerTests.expectExports(
                client, admin, equal: Replay.run(mission: f.mission, batch: batch, actions: actions))
        }
    }
}

extension TrustBoundaryTests {
    /// A report filed 7 hours after what it saw joins, over HTTP, the incident already reported on time: the late
    /// incident names it, and its receipt time is the store's.
    @Test func aLateReportJoinsTheIncidentItDescribes() async throws {
        let f = try Fixture()
        let sensor = try f.key("MISSION", "feed", .sensor)
        let analyst = try f.key("MISSION", "analyst", .analyst)
        @Sendable func line(_ id: String, _ at: String, _ lon: Double, _ kind: String = "explosion") -> String {
            #"{"id":"\#(id)","source":"uk-acoustic-02","observedAt":"\#(at)","kind":"\#(kind)","location":{"lon":\#(lon),"lat":48.5,"uncertaintyMeters":100}}"#
        }
        try await f.run { client in
            for batch in [
                line("on-time", "2026-03-01T01:00:00Z", 37.9), line("later", "2026-03-01T08:00:00Z", 38.3),
                line("patrol", "2026-03-01T01:02:00Z", 37.901),
            ] {
                let r = try await Self.post(client, "/observations", sensor, batch, "application/x-ndjson")
                #expect(r.status == .created)
            }
            let r = try await client.execute(uri: "/incidents", method: .get, headers: ServerTests.headers(analyst))
            guard case .array(let incidents)? = try JSONValue.parse(ServerTests.text(r)).object?["incidents"] else {
                Issue.record("no incidents: \(ServerTests.text(r))")
                return
            }
            func incident(of observation: String) -> [String: JSONValue]? {
                incidents.compactMap(\.object).first {
                    $0["id"] == .string(IncidentKey.incidentId(IncidentKey.of(observationId: observation)))
                }
            }
            let onTime = try #require(incident(of: "on-time"))
            let patrol = try #require(incident(of: "patrol"))
            #expect(patrol["late"] == .bool(true) && onTime["late"] == nil)
            #expect(patrol["joinsIncidentId"] == onTime["id"], "\(patrol)")
            #expect(patrol["receivedAt"] != nil)
        }
    }

    /// The mission's lines over HTTP: the list, each as GeoJSON, and an unknown one refused.
    @Test func theCandidateLinesAreServed() async throws {
        let f = try Fixture()
        let analyst = try f.key("MISSION", "analyst", .analyst)
        try await f.run { client in
            func get(_ uri: String) async throws -> (HTTPResponse.Status, JSONValue?) {
                let r = try await client.execute(uri: uri, method: .get, headers: ServerTests.headers(analyst))
                return (r.status, try? JSONValue.parse(ServerTests.text(r)))
            }
            let (status, list) = try await get("/lines")
            #expect(status == .ok)
            guard case .array(let lines)? = list?.object?["lines"] else {
                Issue.record("no lines: \(String(describing: list))")
                return
            }
            #expect(lines.compactMap { $0.object?["id"]?.string } == ["agreement", "east"])
            #expect(lines.first?.object?["agreement"] == .bool(true))
            let (eastStatus, east) = try await get("/lines/east")
            #expect(eastStatus == .ok && east?.object?["type"] == .string("FeatureCollection"))
            let (agreementStatus, agreement) = try await get("/lines/agreement")
            #expect(agreementStatus == .ok && agreement != east)
            let (missing, _) = try await get("/lines/west")
            #expect(missing == .notFound)
            // Lines are in the public view; comparing them is not.
            #expect(try await client.execute(uri: "/lines", method: .get, headers: [:]).status == .ok)
            let compare = try await client.execute(uri: "/lines/compare?a=agreement&b=east", method: .get, headers: [:])
            #expect(compare.status == .unauthorized)
        }
    }

    /// `GET /lines/compare` counts the record as the caller may read it: a RED report at Bakhmut, which the east line
    /// puts on UA's side, counts for the mission and not for a member that may not read it.
    @Test func comparingLinesOverHTTPCountsWhatTheCallerMayRead() async throws {
        let f = try Fixture()
        let sensor = try f.key("MISSION", "feed", .sensor)
        let analyst = try f.key("MISSION", "analyst", .analyst)
        let polish = try f.key("PL", "pl-analyst", .analyst)
        try await f.run { client in
            let batch = [
                #"{"id":"kramatorsk","source":"us-acoustic-07","observedAt":"2026-03-01T01:00:00Z","kind":"mortarFire","location":{"lon":37.58,"lat":48.73,"uncertaintyMeters":200},"tlp":"CLEAR"}"#,
                #"{"id":"bakhmut","source":"us-radar-03","observedAt":"2026-03-01T02:00:00Z","kind":"mortarFire","location":{"lon":38.0,"lat":48.5947,"uncertaintyMeters":200},"tlp":"RED"}"#,
            ].joined(separator: "\n")
            let posted = try await Self.post(client, "/observations", sensor, batch, "application/x-ndjson")
            #expect(posted.status == .created)
            func compare(_ query: String, _ key: String) async throws -> (HTTPResponse.Status, [String: JSONValue]) {
                let r = try await client.execute(
                    uri: "/lines/compare\(query)", method: .get, headers: ServerTests.headers(key))
                return (r.status, (try? JSONValue.parse(ServerTests.text(r)))?.object ?? [:])
            }
            let (status, mission) = try await compare("?a=agreement&b=east", analyst)
            #expect(status == .ok, "\(mission)")
            let observations = mission["record"]?.object?["observations"]?.object
            #expect(observations?["compared"] == .number(2))
            #expect(observations?["sideChangedTo"]?.object?["UA"] == .number(1))
            #expect(mission["area"]?.object?["toPartyKm2"]?.object?["UA"]?.number ?? 0 > 10)
            let (_, pl) = try await compare("?a=agreement&b=east", polish)
            let seen = pl["record"]?.object?["observations"]?.object
            #expect(seen?["compared"] == .number(1) && seen?["sideChangedTo"]?.object?["UA"] == .number(0))
            // The same figures as `guarantor lines compare` would give without the store: area and distances.
            #expect(pl["area"] == mission["area"] && pl["distance"] == mission["distance"])
            // The mission's analyst received a count over one RED report: audited, once per reply; the Polish analyst's
            // counts rest on CLEAR reports only: not audited.
            func audits() throws -> [String] {
                try f.store.events().filter { $0.kind == "audit" }.map { String(decoding: $0.payload, as: UTF8.self) }
                    .filter { $0.contains(#""endpoint":"/lines/compare""#) }
            }
            #expect(try audits().count == 1 && audits()[0].contains(#""user":"analyst""#))
            #expect(try audits()[0].contains(#""records":1"#))
            // Asked again with nothing new in the log, the same summary (remembered), audited again.
            let (_, again) = try await compare("?a=agreement&b=east", analyst)
            #expect(try again == mission && audits().count == 2)
            // A new report is counted at once.
            let late =
                #"{"id":"late","source":"us-acoustic-07","observedAt":"2026-03-01T03:00:00Z","kind":"mortarFire","location":{"lon":37.58,"lat":48.73,"uncertaintyMeters":200},"tlp":"CLEAR"}"#
            #expect(
                try await Self.post(client, "/observations", sensor, late, "application/x-ndjson").status == .created)
            let (_, after) = try await compare("?a=agreement&b=east", analyst)
            #expect(after["record"]?.object?["observations"]?.object?["compared"] == .number(3))
            #expect(try await compare("?a=agreement", analyst).0 == .badRequest)
            #expect(try await compare("?a=agreement&b=west", analyst).0 == .notFound)
            #expect(try await compare("?a=agreement&b=east&c=1", analyst).0 == .badRequest)
        }
    }

    /// Without a key, the public view: incidents whose every report is TLP:CLEAR, and nothing of the others.
    @Test func withoutAKeyThePublicReadsOnlyWhatIsClear() async throws {
        let f = try Fixture()
        let sensor = try f.key("MISSION", "feed", .sensor)
        try await f.run { client in
            @Sendable func line(_ id: String, _ lon: Double, _ tlp: String?) -> String {
                let marking = tlp.map { #","tlp":"\#($0)""# } ?? ""
                return
                    #"{"id":"\#(id)","source":"us-acoustic-07","observedAt":"2026-03-01T01:00:00Z","kind":"mortarFire","location":{"lon":\#(lon),"lat":48.73,"uncertaintyMeters":200}\#(marking)}"#
            }
            let batch = [line("clear", 37.58, "CLEAR"), line("green", 37.9, nil), line("red", 38.2, "RED")]
            let posted = try await Self.post(
                client, "/observations", sensor, batch.joined(separator: "\n"), "application/x-ndjson")
            #expect(posted.status == .created)
            let open = try await client.execute(uri: "/incidents", method: .get, headers: [:])
            #expect(open.status == .ok)
            let body = ServerTests.text(open)
            #expect(body.contains(#""clear""#) && !body.contains("green") && !body.contains(#""red""#), "\(body)")
            let incidents = try JSONFields(try JSONValue.parse(body)).array("incidents")
            #expect(incidents.count == 1)
            // The incident of a GREEN report is not found, even by its id.
            let analyst = try f.key("MISSION", "analyst", .analyst)
            let all = try JSONFields(
                try JSONValue.parse(
                    ServerTests.text(
                        try await client.execute(uri: "/incidents", method: .get, headers: ServerTests.headers(analyst))
                    )
                )
            ).array("incidents")
            #expect(all.count == 3)
            for incident in all {
                let id = try JSONFields(incident).string("id")
                let r = try await client.execute(uri: "/incidents/\(id)/observations", method: .get, headers: [:])
                let shown = ServerTests.text(r)
                #expect(shown.contains(#""clear""#) ? r.status == .ok : r.status == .notFound, "\(id): \(shown)")
            }
            // Routes outside the public view still need a key; a wrong key is never read as the public.
            for path in ["/obligations", "/statements", "/incidents/queue", "/lines/compare?a=agreement&b=east"] {
                #expect(try await client.execute(uri: path, method: .get, headers: [:]).status == .unauthorized)
            }
            let wrong = try await client.execute(uri: "/incidents", method: .get, headers: ServerTests.headers("gk_x"))
            #expect(wrong.status == .unauthorized)
            // The public reads the coalition's pledges, not what members delivered (the coalition's business).
            let publicCoalition = try await client.execute(uri: "/coalition", method: .get, headers: [:])
            #expect(publicCoalition.status == .ok)
            let logistics = try #require(
                try JSONValue.parse(ServerTests.text(publicCoalition)).object?["pledges"]?.items?.filter {
                    $0.object?["pillar"]?.string == "logistics"
                })
            #expect(!logistics.isEmpty && logistics.allSatisfy { $0.object?["item"] != nil })
            #expect(logistics.allSatisfy { $0.object?["delivered"] == nil })
            let keyed = try await client.execute(uri: "/coalition", method: .get, headers: ServerTests.headers(analyst))
            let keyedLogistics = try JSONValue.parse(ServerTests.text(keyed)).object?["pledges"]?.items?.filter {
                $0.object?["pillar"]?.string == "logistics"
            }
            #expect(keyedLogistics?.allSatisfy { $0.object?["delivered"]?.number != nil } == true)
            // Alerts: a strike on the protected site reported only in GREEN raises a tripwire alert every member sees;
            // the public is not told of it (nor of the sanctions it may activate), and the public's stream stays open.
            let stream = Task { try await ServerTests.curlStream(port: client.port!, key: nil, seconds: 4) }
            try await Task.sleep(for: .milliseconds(1_500))
            let strike = line("green-strike", 35.0462, "GREEN").replacingOccurrences(of: "48.73", with: "48.4647")
                .replacingOccurrences(of: "mortarFire", with: "explosion")
            let clearLater = line("clear-later", 37.4, "CLEAR").replacingOccurrences(of: "01:00", with: "02:00")
            let filed = try await Self.post(
                client, "/observations", sensor, strike + "\n" + clearLater, "application/x-ndjson")
            #expect(filed.status == .created)
            let streamed = try await stream.value
            let laterIncident = VerificationEngine.incidentId(firstObservation: "clear-later")
            #expect(streamed.contains(laterIncident), "the public's stream ended early: \(streamed)")
            #expect(!streamed.contains("event: alert") && !streamed.contains("green"))
            let everyone = ServerTests.text(
                try await client.execute(uri: "/alerts", method: .get, headers: ServerTests.headers(analyst)))
            #expect(everyone.contains(#""triggerId":"tripwire""#))
            let publicAlerts = ServerTests.text(try await client.execute(uri: "/alerts", method: .get, headers: [:]))
            #expect(!publicAlerts.contains("tripwire") && !publicAlerts.contains("deployment"), "\(publicAlerts)")
            let publicSanctions = ServerTests.text(
                try await client.execute(uri: "/sanctions", method: .get, headers: [:]))
            #expect(publicSanctions == #"{"sanctions":[]}"#)
            // A week later the three are sealed and read back from the results database: the same public view.
            let later = line("later", 36.0, "GREEN").replacingOccurrences(of: "03-01", with: "03-08")
            #expect(
                try await Self.post(client, "/observations", sensor, later, "application/x-ndjson").status == .created)
            var sealed = 0
            for _ in 0..<50 where sealed < 3 {
                _ = try await client.execute(uri: "/incidents", method: .get, headers: [:])
                sealed = try f.store.sealedCounts().values.reduce(0, +)
                if sealed < 3 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(sealed >= 3)
            let again = ServerTests.text(try await client.execute(uri: "/incidents", method: .get, headers: [:]))
            #expect(
                try JSONFields(try JSONValue.parse(again)).array("incidents").count == 2 && again.contains(#""clear""#))
            // The public read nothing restricted, so none of its reads was audited (the analyst's was).
            let audits = try f.store.events().filter { $0.kind == "audit" }.map {
                String(decoding: $0.payload, as: UTF8.self)
            }
            #expect(audits.count == 1 && !audits.contains { $0.contains(#""user":"public""#) })
        }
        // No key is ever made for the public's reader.
        #expect(throws: FieldError.self) { try f.key(Releasability.publicReader, "x", .analyst) }
    }

    /// The dashboard is served by the binary: its page, script and style sheet, allowing nothing from elsewhere.
    @Test func theDashboardIsServedFromTheBinary() async throws {
        let f = try Fixture()
        try await f.run { client in
            let page = try await client.execute(uri: "/", method: .get, headers: [:])
            #expect(page.status == .ok && page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(ServerTests.text(page).contains(#"<script src="/dashboard.js"></script>"#))
            #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            for (path, type) in [("/dashboard.js", "text/javascript"), ("/dashboard.css", "text/css")] {
                let r = try await client.execute(uri: path, method: .get, headers: [:])
                #expect(r.status == .ok && r.headers[.contentType]?.hasPrefix(type) == true, "\(path)")
                #expect(r.body.readableBytes > 1_000)
            }
            // Nothing on the page is fetched from another origin.
            for asset in ["/", "/dashboard.js", "/dashboard.css"] {
                let text = ServerTests.text(try await client.execute(uri: asset, method: .get, headers: [:]))
                #expect(!text.contains("https://"), "\(asset)")
            }
            // The page learns who a key belongs to from /me.
            let analyst = try f.key("UK", "uk-analyst", .analyst)
            let me = try await client.execute(uri: "/me", method: .get, headers: ServerTests.headers(analyst))
            #expect(
                ServerTests.text(me)
                    == #"{"member":"UK","user":"uk-analyst","role":"analyst","rights":["readRecords","review"]}"#)
            #expect(try await client.execute(uri: "/me", method: .get, headers: [:]).status == .unauthorized)
        }
    }

    /// The public sees no link from an incident it may see to another one.
    @Test func thePublicSeesNoLinksToOtherIncidents() {
        let line = Array(#"{"id":"I1","late":true,"joinsIncidentId":"I2","ambiguousBetween":["a","b"],"count":1}"#.utf8)
        let removed = ResultView.removing(["joinsIncidentId", "ambiguousBetween"], from: line)
        #expect(String(decoding: removed, as: UTF8.self) == #"{"id":"I1","late":true,"count":1}"#)
        #expect(
            ResultView.removing(["joinsIncidentId"], from: Array(#"{"id":"I1"}"#.utf8)) == Array(#"{"id":"I1"}"#.utf8))
    }

    /// A comparison replays the whole log twice: one runs at a time, off the server's threads, and is remembered.
    @Test func oneComparisonOfLinesRunsAtATimeAndIsRemembered() async throws {
        let gate = LineComparisons()
        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let key = LineComparisons.Key(a: "a", b: "b", member: "M")
        async let first = gate.result(key, isCurrent: { _ in true }) {
            started.signal()
            release.wait()
            return .init(summary: [1], through: 5, restricted: 0)
        }
        await withCheckedContinuation { c in
            DispatchQueue.global().async {
                started.wait(); c.resume()
            }
        }
        // While it runs, another is refused with Retry-After.
        await #expect(throws: APIError.self) {
            try await gate.result(.init(a: "a", b: "c", member: "M"), isCurrent: { _ in true }) {
                .init(summary: [2], through: 5, restricted: 0)
            }
        }
        release.signal()
        #expect(try await first.summary == [1])
        // Remembered while the log has nothing new; computed again once it has.
        let same = try await gate.result(key, isCurrent: { $0.through == 5 }) {
            .init(summary: [3], through: 6, restricted: 0)
        }
        #expect(same.summary == [1])
        let fresh = try await gate.result(key, isCurrent: { _ in false }) {
            .init(summary: [3], through: 6, restricted: 0)
        }
        #expect(fresh.summary == [3])
    }

    /// A report two incidents explain about equally is an incident of its own, listed with `?ambiguous=true`.
    @Test func ambiguousReportsAreListedForAnalysts() async throws {
        let f = try Fixture()
        let sensor = try f.key("MISSION", "feed", .sensor)
        let analyst = try f.key("MISSION", "analyst", .analyst)
        let polish = try f.key("PL", "pl-analyst", .analyst)
        @Sendable func line(
            _ id: String, _ source: String, _ at: String, _ uncertainty: Double, _ tlp: String = "CLEAR"
        )
            -> String
        {
            #"{"id":"\#(id)","source":"\#(source)","observedAt":"\#(at)","kind":"mortarFire","location":{"lon":37.58,"lat":48.73,"uncertaintyMeters":\#(uncertainty)},"tlp":"\#(tlp)"}"#
        }
        try await f.run { client in
            let batch = [
                line("first", "us-acoustic-07", "2026-03-01T01:00:00Z", 200),
                line("second", "us-radar-03", "2026-03-01T01:08:00Z", 200, "RED"),
                line("between", "mission-osint", "2026-03-01T01:04:00Z", 4_000),
            ].joined(separator: "\n")
            let posted = try await Self.post(client, "/observations", sensor, batch, "application/x-ndjson")
            #expect(posted.status == .created)
            func incidents(_ query: String, key: String = analyst) async throws -> [[String: JSONValue]] {
                let r = try await client.execute(
                    uri: "/incidents\(query)", method: .get, headers: ServerTests.headers(key))
                #expect(r.status == .ok, "\(ServerTests.text(r))")
                guard case .array(let list)? = try JSONValue.parse(ServerTests.text(r)).object?["incidents"] else {
                    return []
                }
                return list.compactMap(\.object)
            }
            let listed = try await incidents("?ambiguous=true")
            #expect(listed.count == 1)
            #expect(listed.first?["observationIds"] == .array([.string("between")]))
            #expect(listed.first?["ambiguousBetween"] == .array([.string("first"), .string("second")]))
            #expect(try await incidents("?ambiguous=false").count == 2)
            // A reader who may not read the RED report is not told its id.
            let seenByPoland = try await incidents("?ambiguous=true", key: polish)
            #expect(seenByPoland.first?["ambiguousBetween"] == .array([.string("first")]), "\(seenByPoland)")
            let bad = try await client.execute(
                uri: "/incidents?ambiguous=maybe", method: .get, headers: ServerTests.headers(analyst))
            #expect(bad.status == .badRequest && ServerTests.text(bad).contains("ambiguous"))
        }
    }

    /// Filters do what they say or are refused; an analyst reads the observations behind an incident it may see.
    @Test func queriesFilterWhatTheySayAndNothingElse() async throws {
        let f = try Fixture()
        let sensor = try f.key("MISSION", "feed", .sensor)
        let analyst = try f.key("MISSION", "analyst", .analyst)
        let polishSensor = try f.key("PL", "pl-feed", .sensor)
        @Sendable func get(_ client: any TestClientProtocol, _ uri: String) async throws -> (
            HTTPResponse.Status, String
        ) {
            let r = try await client.execute(uri: uri, method: .get, headers: ServerTests.headers(analyst))
            return (r.status, ServerTests.text(r))
        }
        try await f.run { client in
            try await Self.postExamples(client, sensor)
            let (_, all) = try await get(client, "/incidents")
            let (status, heavy) = try await get(client, "/incidents?kind=heavyWeaponSighting")
            #expect(status == .ok)
            let kinds = try JSONValue.parse(heavy).object?["incidents"].flatMap { v -> [JSONValue]? in
                if case .array(let a) = v { a } else { nil }
            }
            #expect(kinds?.count == 2, "\(heavy)")
            #expect(kinds?.allSatisfy { $0.object?["kind"] == .string("heavyWeaponSighting") } == true)
            #expect(all.count > heavy.count)
            let (tankStatus, tanks) = try await get(client, "/incidents?weaponClass=tank&kind=heavyWeaponSighting")
            #expect(tankStatus == .ok && tanks.contains("\"tank\"") && !tanks.contains("artilleryFire"))
            let (badKind, badText) = try await get(client, "/incidents?kind=mlrsFireX")
            #expect(badKind == .badRequest && badText.contains("kind"))
            let (badParty, _) = try await get(client, "/incidents?party=XX")
            #expect(badParty == .badRequest)
            let (unknown, unknownText) = try await get(client, "/incidents?colour=red")
            #expect(unknown == .badRequest && unknownText.contains("colour"))
            let (attributedStatus, attributed) = try await get(client, "/incidents?severity=grave&party=UA")
            #expect(attributedStatus == .ok && !attributed.contains("heavyWeaponSighting"), "\(attributed)")

            let (obsStatus, obs) = try await get(client, "/incidents/Ia251392f89d90230/observations")
            #expect(obsStatus == .ok, "\(obs)")
            #expect(obs.contains("uk-acoustic-02/2026-03-02/0007") && obs.contains("de-camera-11/2026-03-02/clip-88"))
            let (missing, _) = try await get(client, "/incidents/Inothere/observations")
            #expect(missing == .notFound)
            // Impediments as the reader may see them; the whole record's equal the replay's file.
            let (impedimentsStatus, impediments) = try await get(client, "/impediments")
            #expect(impedimentsStatus == .ok)
            #expect(
                impediments
                    == #"{"impediments":[{"kind":"accessDenial","party":"RU","sector":"km 150-200","incidents":1,"observations":1}]}"#,
                "\(impediments)")
            let red =
                #"{"id":"red-1","source":"pl-patrol-04","observedAt":"2026-03-02T12:30:00Z","kind":"restrictionOfMovement","location":{"lon":38.0102,"lat":48.3011,"uncertaintyMeters":50},"tlp":"RED"}"#
            #expect(try await Self.post(client, "/observations", polishSensor, red).status == .created)
            let (_, afterRed) = try await get(client, "/impediments")
            #expect(!afterRed.contains("restrictionOfMovement"), "a RED report the analyst may not read is not counted")
            let (sanctionsStatus, sanctions) = try await get(client, "/sanctions")
            #expect(sanctionsStatus == .ok && sanctions.hasPrefix("{\"sanctions\":["))
        }
    }
}

extension TrustBoundaryTests {
    /// Creating and revoking a key are events in the log; a revoked key is refused at once.
    @Test func keysAreRecordsAndARevokedKeyIsRefusedAtOnce() async throws {
        let f = try Fixture()
        let (key, holder) = try APIKeys.create(member: "UK", user: "uk-analyst", role: .analyst, in: f.store)
        try await f.run { client in
            let before = try await client.execute(uri: "/incidents", method: .get, headers: ServerTests.headers(key))
            #expect(before.status == .ok)
            try f.store.revokeKey(id: holder.id, at: WallClock.now().rfc3339, reason: "laptop lost")
            let after = try await client.execute(uri: "/incidents", method: .get, headers: ServerTests.headers(key))
            #expect(after.status == .unauthorized)
        }
        let events = try f.store.events().filter { $0.kind == EventKind.key.rawValue }
        #expect(events.count == 2)
        let texts = events.map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(texts[0].contains(#""event":"created""#) && texts[0].contains(holder.id))
        #expect(texts[1].contains(#""event":"revoked""#) && texts[1].contains("laptop lost"))
        #expect(!texts.joined().contains(key), "the key itself is never in the log")
        #expect(try f.store.keys().first?.revokedAt != nil)
        #expect(throws: StoreError.self) {
            try f.store.revokeKey(id: holder.id, at: WallClock.now().rfc3339, reason: "again")
        }
    }
}

extension TrustBoundaryTests {
    /// A retried action (a client that timed out) is the stored one: acknowledged again, applied once.
    @Test func aRetriedActionIsAppliedOnce() async throws {
        let f = try Fixture()
        let sensor = try f.key("MISSION", "feed", .sensor)
        let analyst = try f.key("UK", "uk-analyst", .analyst)
        let admin = try f.key("MISSION", "admin", .admin)
        try await f.run { client in
            try await Self.postExamples(client, sensor)
            let verify =
                #"{"id":"v1","at":"2026-03-01T06:00:00Z","action":"verify","member":"UK","user":"uk-analyst","incident":"I65d187b436520109","reason":"crater analysis"}"#
            for _ in 0..<2 {
                let response = try await Self.post(client, "/actions", analyst, verify)
                #expect(response.status == .created, "\(ServerTests.text(response))")
            }
            let (batch, actions) = try f.store.replayInputs()
            #expect(actions.count == 1)
            try await ServerTests.expectExports(
                client, admin, equal: Replay.run(mission: f.mission, batch: batch, actions: actions))
        }
    }
}
