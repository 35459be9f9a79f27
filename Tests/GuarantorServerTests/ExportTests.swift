import Foundation
import GuarantorCore
import GuarantorStore
import GuarantorTesting
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GuarantorServer

/// STIX, ACLED CSV and GeoJSON exports through the API on 127.0.0.1: each reader's holds only what it may read, the
/// same log gives the same bytes as `guarantor export` over a copy of the store. (The OASIS validator, the stix2
/// library and GDAL read them in scripts/exchange_check.py.)
@Suite struct ExportTests {
    typealias Fixture = ServerTests.Fixture

    @Test func eachReaderExportsOnlyWhatItMayRead() async throws {
        let f = try Fixture()
        let sensor = try f.key("MISSION", "feed", .sensor)
        let analyst = try f.key("MISSION", "analyst", .analyst)
        let poland = try f.key("PL", "pl-liaison", .liaison)
        try await f.run { client in
            try await ReportTests.post(client, sensor)
            func get(_ uri: String, _ key: String?) async throws -> TestResponse {
                try await client.execute(uri: uri, method: .get, headers: ServerTests.headers(key))
            }
            func incidents(_ key: String?) async throws -> [JSONValue] {
                try JSONValue.parse(ServerTests.text(try await get("/incidents", key))).object?["incidents"]?.items
                    ?? []
            }
            // A verified violation becomes a STIX incident with its sighting: verify the artillery incident.
            let artillery = try #require(
                try await incidents(analyst).first { $0.object?["kind"]?.string == "artilleryFire" }?.object?["id"]?
                    .string)
            let verify =
                #"{"id":"v1","at":"2026-03-02T00:00:00Z","action":"verify","member":"MISSION","user":"analyst","incident":"\#(artillery)","reason":"two acoustic arrays and a patrol"}"#
            let verified = try await TrustBoundaryTests.post(client, "/actions", analyst, verify)
            #expect(verified.status.code < 300, "\(ServerTests.text(verified))")
            let whole = try await get("/export/stix.json", analyst)
            #expect(whole.status == .ok)
            #expect(whole.headers[.contentType] == "application/stix+json;version=2.1")
            #expect(ServerTests.text(whole).contains("red-mortar"), "the mission's bundle has the RED report")
            #expect(ServerTests.text(try await get("/export/stix.json", analyst)) == ServerTests.text(whole))

            for (reader, key) in [("PL", poland), ("PUBLIC", nil as String?)] {
                let stix = ServerTests.text(try await get("/export/stix.json", key))
                #expect(!stix.contains("red-mortar"), "\(reader)")
                let bundle = try JSONValue.parse(stix)
                let objects = try #require(bundle.object?["objects"]?.items)
                let observations = objects.filter { $0.object?["type"]?.string == STIXBundle.observationType }
                let types = Set(objects.compactMap { $0.object?["type"]?.string })
                #expect(reader == "PUBLIC" || types.isSuperset(of: ["incident", "sighting", "report"]), "\(types)")
                let seen = try await incidents(key)
                let seenObservations = seen.flatMap { $0.object?["observationIds"]?.items ?? [] }.count
                #expect(observations.count <= seenObservations && !observations.isEmpty, "\(reader)")
                // Every SDO and SRO names its creator and its marking; the public's are CLEAR, every one.
                for o in objects where o.object?["type"]?.string != "marking-definition" {
                    let m = try #require(o.object)
                    #expect(m["object_marking_refs"]?.items?.count == 1, "\(m["id"]?.string ?? "")")
                    if m["type"]?.string != STIXBundle.observationType { #expect(m["created_by_ref"] != nil) }
                    if reader == "PUBLIC" {
                        #expect(m["object_marking_refs"]?.items?.first?.string == STIXBundle.markingIds[.clear])
                    }
                }
                let geo = try JSONValue.parse(ServerTests.text(try await get("/export/incidents.geojson", key)))
                #expect(geo.object?["features"]?.items?.count == seen.count, "\(reader)")
                let csv = ServerTests.text(try await get("/export/acled.csv", key))
                let rows = csv.split(separator: "\r\n")
                #expect(rows.first.map(String.init) == TableExports.acledHeader.joined(separator: ","))
                #expect(rows.count == seen.count + 1 && !csv.contains("red-mortar"), "\(reader)")
            }

            // The command line's export over a copy of the log is byte for byte the server's.
            let copy = FileManager.default.temporaryDirectory.appendingPathComponent(
                "export-\(UUID().uuidString).sqlite")
            let store = try EventStore(path: copy.path, missionId: f.mission.agreement.id)
            defer {
                for suffix in ["", "-wal", "-shm", ".results.sqlite", ".results.sqlite-wal", ".results.sqlite-shm"] {
                    try? FileManager.default.removeItem(atPath: copy.path + suffix)
                }
            }
            for record in try f.store.records() {
                switch record {
                case .observation(let o): _ = try store.ingest([o], maximumSkewSeconds: .infinity)
                case .action(let a): _ = try store.record(a)
                }
            }
            let stored = try StoredEngine(
                mission: f.mission, store: store, fingerprint: try MissionDirectory.fingerprint(Fixture.missionURL))
            // docs/examples/exports holds Poland's exports of this log, the examples docs/FORMATS.md shows
            // (GUARANTOR_UPDATE_EXAMPLES=1 writes them anew after a deliberate change of format).
            let examples = ServerTests.examples.appendingPathComponent("exports")
            let update = ProcessInfo.processInfo.environment["GUARANTOR_UPDATE_EXAMPLES"] == "1"
            for format in Exports.Format.allCases {
                let cli = try Exports.file(format, from: stored, reader: .member("PL"))
                let served = try await get("/export/\(format.rawValue)", poland)
                #expect(String(decoding: cli.bytes, as: UTF8.self) == ServerTests.text(served), "\(format)")
                let example = examples.appendingPathComponent(format.rawValue)
                if update { try Data(cli.bytes).write(to: example) }
                #expect(
                    (try? Data(contentsOf: example)) == Data(cli.bytes),
                    "docs/examples/exports/\(format.rawValue) is not what this log exports")
            }
        }
    }
}
