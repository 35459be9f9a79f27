import Foundation
import GuarantorCore
import GuarantorStore
import Hummingbird
import HummingbirdTesting
import Testing

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

            for (reader, key) in [("PL", poland), ("PUBLIC", nil as String?)] {
                let r = try await get("/reports/daily/2026-03-01?format=md", key)
                #expect(r.status == .ok, "\(reader)")
                let text = ServerTests.text(r)
                #expect(!text.contains(redIncident) && !text.contains("red-mortar"), "\(reader): \(text)")
                let html = ServerTests.text(try await get("/reports/daily/2026-03-01", key))
                #expect(!html.contains(redIncident) && html.contains("TLP:CLEAR"), "\(reader)")
            }
            let publicPage = ServerTests.text(try await get("/reports/daily/2026-03-01", nil))
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

    /// The day runs from the previous day's cut-off to this day's, local time: 23 hours when the clocks go forward.
    @Test func daysFollowTheCutOffAcrossClockChanges() throws {
        let days = try Reports.days(ending: "2026-03-29", cutoff: "19:30", timeZone: "Europe/Kyiv", count: 3)
        #expect(days.map(\.to.rfc3339) == ["2026-03-27T17:30:00Z", "2026-03-28T17:30:00Z", "2026-03-29T16:30:00Z"])
        #expect(days[2].from == days[1].to && days[1].from == days[0].to)
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
