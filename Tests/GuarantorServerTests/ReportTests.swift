import Foundation
import GuarantorStore
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GuarantorCore
@testable import GuarantorServer

/// Daily and spot reports through the API on 127.0.0.1: each reader's report holds only what it may read, the same
/// log gives the same bytes as `guarantor report`, and each report served is issued to the log.
@Suite struct ReportTests {
    typealias Fixture = ServerTests.Fixture

    /// The example observations, a CLEAR and a RED mortar report far apart on 2026-03-01.
    static func post(_ client: any TestClientProtocol, _ sensor: String) async throws {
        try await TrustBoundaryTests.postExamples(client, sensor)
        let red =
            #"{"id":"red-mortar","source":"uk-acoustic-02","observedAt":"2026-03-01T09:00:00Z","kind":"mortarFire","location":{"lon":38.2,"lat":48.73,"uncertaintyMeters":200},"tlp":"RED","originator":"UK"}"#
        let clear =
            #"{"id":"clear-mortar","source":"us-acoustic-07","observedAt":"2026-03-01T10:00:00Z","kind":"mortarFire","location":{"lon":37.58,"lat":48.73,"uncertaintyMeters":200},"tlp":"CLEAR"}"#
        let posted = try await TrustBoundaryTests.post(
            client, "/observations", sensor, red + "\n" + clear, "application/x-ndjson")
        #expect(posted.status == .created)
    }

    @Test func eachReaderGetsOnlyWhatItMayReadAndEveryReportIsIssued() async throws {
        let f = try Fixture()
        let sensor = try f.key("MISSION", "feed", .sensor)
        let analyst = try f.key("MISSION", "analyst", .analyst)
        let poland = try f.key("PL", "pl-liaison", .liaison)
        try await f.run { client in
            try await Self.post(client, sensor)
            func get(_ uri: String, _ key: String?) async throws -> TestResponse {
                try await client.execute(uri: uri, method: .get, headers: ServerTests.headers(key))
            }
            let incidents = try JSONFields(try JSONValue.parse(ServerTests.text(try await get("/incidents", analyst))))
                .array("incidents").map { try JSONFields($0) }
            let redIncident = try #require(
                try incidents.first { try $0.array("observationIds").contains(.string("red-mortar")) }?.string("id"))

            let whole = try await get("/reports/daily/2026-03-01", analyst)
            #expect(whole.status == .ok)
            #expect(whole.headers[.contentType] == "text/html; charset=utf-8")
            #expect(whole.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            let page = ServerTests.text(whole)
            #expect(page.contains(redIncident) && page.contains("TLP:AMBER"), "the mission's report has the RED one")
            // The count stated is the count of incidents the reader sees whose first report is in the period.
            let period = try Reports.days(ending: "2026-03-01", cutoff: "19:30", timeZone: "Europe/Kyiv", count: 2)[1]
            let inPeriod = try incidents.filter { period.contains(try $0.timestamp("start")) }.count
            #expect(page.contains("Incidents recorded: \(inPeriod) "), "\(inPeriod)")

            // Poland's report holds no restricted report, but it is the coalition's (obligations): GREEN, not CLEAR.
            for (reader, key, marking) in [("PL", poland, "TLP:GREEN"), ("PUBLIC", nil as String?, "TLP:CLEAR")] {
                let r = try await get("/reports/daily/2026-03-01?format=md", key)
                #expect(r.status == .ok, "\(reader)")
                let text = ServerTests.text(r)
                #expect(!text.contains(redIncident) && !text.contains("red-mortar"), "\(reader): \(text)")
                let html = ServerTests.text(try await get("/reports/daily/2026-03-01", key))
                #expect(!html.contains(redIncident) && html.contains(marking), "\(reader)")
                #expect(reader == "PUBLIC" || !html.contains(">TLP:CLEAR<"), "\(reader)")
            }
            // The public's report is served, not issued: no caller without a key grows the log.
            let before = try f.store.head().count
            let publicResponse = try await get("/reports/daily/2026-03-01", nil)
            #expect(publicResponse.headers[.init("X-Report-Event")!] == nil)
            #expect(try f.store.head().count == before)
            let publicPage = ServerTests.text(publicResponse)
            #expect(publicPage.contains("Public report: TLP:CLEAR records only."))
            #expect(!publicPage.contains("Obligations due"), "the coalition's obligations are not the public's")

            // Issued: the event the header names holds the SHA-256 of what was served; asking again adds none.
            let sequence = try #require(whole.headers[.init("X-Report-Event")!].flatMap { Int64($0) })
            let sha = try #require(whole.headers[.init("X-Report-SHA256")!])
            let issued = try f.store.issuedReports(sha256: sha)
            #expect(issued.map(\.sequence) == [sequence])
            #expect(issued.first?.report.reader == "MISSION" && issued.first?.report.subject == "2026-03-01")
            let repeated = try await get("/reports/daily/2026-03-01", analyst)
            #expect(repeated.headers[.init("X-Report-Event")!] == "\(sequence)")
            #expect(ServerTests.text(repeated) == page, "the same log gives the same bytes")

            // The command line's report over the same log (a copy of the store) is byte for byte the server's.
            let copy = FileManager.default.temporaryDirectory.appendingPathComponent(
                "report-\(UUID().uuidString).sqlite")
            let store = try EventStore(path: copy.path, missionId: f.mission.agreement.id)
            defer {
                for suffix in ["", "-wal", "-shm", ".results.sqlite", ".results.sqlite-wal", ".results.sqlite-shm"] {
                    try? FileManager.default.removeItem(atPath: copy.path + suffix)
                }
            }
            let observations = try f.store.records().compactMap { r -> Observation? in
                if case .observation(let o) = r { o } else { nil }
            }
            _ = try store.ingest(observations, maximumSkewSeconds: .infinity)
            let stored = try StoredEngine(
                mission: f.mission, store: store,
                fingerprint: try MissionDirectory.fingerprint(Fixture.missionURL))
            let cli = try Reports.daily(from: stored, date: "2026-03-01", reader: .member("MISSION"), language: .en)
            #expect(String(decoding: cli.html, as: UTF8.self) == page)
            // Without --member, the command line's report is of every record, marked as restricted.
            let everything = try Reports.daily(from: stored, date: "2026-03-01", reader: .mission, language: .en)
            let wholePage = String(decoding: everything.html, as: UTF8.self)
            #expect(wholePage.contains("Prepared for the mission: every record.") && wholePage.contains("TLP:AMBER"))

            // Refusals name the field; a spot report needs a tripwire or grave alert the reader may see.
            let badDate = try await get("/reports/daily/2026-02-30", analyst)
            #expect(badDate.status == .badRequest && ServerTests.text(badDate).contains("date"))
            let badLang = try await get("/reports/daily/2026-03-01?lang=fr", analyst)
            #expect(badLang.status == .badRequest && ServerTests.text(badLang).contains("lang"))
            let badZone = try await get("/reports/daily/2026-03-01?timeZone=Mars/Olympus", analyst)
            #expect(badZone.status == .badRequest && ServerTests.text(badZone).contains("timeZone"))
            #expect(try await get("/reports/spot/Anothere", analyst).status == .notFound)
            let alerts = try JSONFields(try JSONValue.parse(ServerTests.text(try await get("/alerts", analyst))))
                .array("alerts").map { try JSONFields($0) }
            let tripwire = try #require(try alerts.first { try $0.string("kind") == "tripwire" }?.string("id"))
            let spot = try await get("/reports/spot/\(tripwire)?lang=uk", analyst)
            #expect(spot.status == .ok)
            #expect(ServerTests.text(spot).contains("Терміновий звіт: сповіщення \(tripwire)"))
            let publicAlerts = ServerTests.text(try await get("/alerts", nil))
            let publicSpot = try await get("/reports/spot/\(tripwire)", nil)
            #expect(publicSpot.status == (publicAlerts.contains(tripwire) ? .ok : .notFound))
        }
    }

    /// What an alert tells a reader: no count of findings it may not read, and for the public the de-escalations of
    /// levels it saw raised, never of one raised on a hidden report.
    @Test func alertsTellNothingOfWhatTheReaderMayNotRead() {
        func alert(_ id: String, _ kind: Alert.Kind, level: Int, findings: [String], detail: String) -> Alert {
            Alert(
                id: id, kind: kind, triggerId: kind == .deescalation ? "quietPeriod" : "artillery", level: level,
                firedAt: Timestamp(nanoseconds: Int64(id.dropFirst())! * 1_000_000_000), sector: "north",
                violationIds: findings, provisional: false, detail: detail)
        }
        let raised = alert("A1", .trigger, level: 1, findings: ["Vi1-r"], detail: "1 incident with violations")
        let hidden = alert(
            "A2", .trigger, level: 2, findings: ["Vi2-r", "Vi3-r"], detail: "2 incidents with violations")
        let down2 = alert("A3", .deescalation, level: 1, findings: [], detail: "level 2 → 1")
        let down1 = alert("A4", .deescalation, level: 0, findings: [], detail: "level 1 → 0")
        let all = [raised, hidden, down2, down1]
        let readable: Set<String> = ["Vi1-r", "Vi2-r"]

        let told = GuarantorAPI.shownAlerts(all, readable: readable, member: Releasability.publicReader)
        #expect(told.map(\.id) == ["A1", "A4"], "the public saw level 1 raised, so it sees it come down; not 2 → 1")
        let member = GuarantorAPI.shownAlerts(all, readable: readable, member: "PL")
        #expect(member.map(\.id) == ["A1", "A2", "A3", "A4"])
        #expect(member[1].violationIds == ["Vi2-r"] && !member[1].detail.contains("2 incidents"), "\(member[1])")
        #expect(member[0].detail == raised.detail, "nothing withheld, nothing changed")
    }

    /// The day runs from the previous day's cut-off to this day's, local time: 23 hours when the clocks go forward.
    @Test func daysFollowTheCutOffAcrossClockChanges() throws {
        let days = try Reports.days(ending: "2026-03-29", cutoff: "19:30", timeZone: "Europe/Kyiv", count: 3)
        #expect(days.map(\.to.rfc3339) == ["2026-03-27T17:30:00Z", "2026-03-28T17:30:00Z", "2026-03-29T16:30:00Z"])
        #expect(days[2].from == days[1].to && days[1].from == days[0].to)
        #expect(days.map(\.date) == ["2026-03-27", "2026-03-28", "2026-03-29"])
        // A cut-off at local midnight ends the day on the previous UTC date; the day is still named by its own.
        let midnight = try Reports.days(ending: "2026-03-01", cutoff: "00:00", timeZone: "Europe/Kyiv", count: 1)
        #expect(midnight[0].to.rfc3339 == "2026-02-28T22:00:00Z" && midnight[0].date == "2026-03-01")
        let utc = try Reports.days(ending: "2026-03-01", cutoff: "00:00", timeZone: "UTC", count: 1)
        #expect(utc[0].from.rfc3339 == "2026-02-28T00:00:00Z" && utc[0].to.rfc3339 == "2026-03-01T00:00:00Z")
        for (date, cutoff) in [
            ("2026-13-01", "19:30"), ("2026-02-29", "19:30"), ("26-03-01", "19:30"), ("2026-03-01", "25:00"),
        ] {
            #expect(throws: Reports.Refusal.self) {
                try Reports.days(ending: date, cutoff: cutoff, timeZone: "UTC")
            }
        }
    }
}
