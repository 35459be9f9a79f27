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
            var copies: [String] = []
            defer {
                for path in copies {
                    for suffix in ["", "-wal", "-shm", ".results.sqlite", ".results.sqlite-wal", ".results.sqlite-shm"]
                    {
                        try? FileManager.default.removeItem(atPath: path + suffix)
                    }
                }
            }
            /// The log copied record by record into a new store; `fixedReceipts`: each received when it was made
            /// (the receipt times, the server's clock, are the only times of the log a test does not choose).
            func copy(fixedReceipts: Bool) throws -> StoredEngine {
                let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "export-\(UUID().uuidString).sqlite"
                ).path
                copies.append(path)
                let store = try EventStore(path: path, missionId: f.mission.agreement.id)
                for record in try f.store.records() {
                    switch record {
                    case .observation(let o):
                        _ = try store.ingest(
                            [fixedReceipts ? o.received(at: o.observedAt) : o], maximumSkewSeconds: .infinity)
                    case .action(let a): _ = try store.record(fixedReceipts ? a.received(at: a.at) : a)
                    }
                }
                return try StoredEngine(
                    mission: f.mission, store: store, fingerprint: try MissionDirectory.fingerprint(Fixture.missionURL))
            }
            let stored = try copy(fixedReceipts: false)
            let fixed = try copy(fixedReceipts: true)
            // docs/examples/exports holds Poland's exports of this log, the examples docs/FORMATS.md shows
            // (GUARANTOR_UPDATE_EXAMPLES=1 writes them anew after a deliberate change of format).
            let examples = ServerTests.examples.appendingPathComponent("exports")
            let update = ProcessInfo.processInfo.environment["GUARANTOR_UPDATE_EXAMPLES"] == "1"
            for format in Exports.Format.allCases {
                let cli = try Exports.file(format, from: stored, reader: .member("PL"))
                let served = try await get("/export/\(format.rawValue)", poland)
                #expect(String(decoding: cli.bytes, as: UTF8.self) == ServerTests.text(served), "\(format)")
                let example = examples.appendingPathComponent(format.rawValue)
                let bytes = Data(try Exports.file(format, from: fixed, reader: .member("PL")).bytes)
                if update { try bytes.write(to: example) }
                #expect(
                    (try? Data(contentsOf: example)) == bytes,
                    "docs/examples/exports/\(format.rawValue) is not what this log exports")
            }
        }
    }

    /// TAXII 2.1 on 127.0.0.1: discovery, the caller's one collection, objects paged by `limit` and `next` to the
    /// same objects as its STIX export, one object and its versions, the manifest, Basic with the key as the password,
    /// TAXII's error messages. (taxii2-client reads it in scripts/exchange_check.py.)
    @Test func taxiiServesEachReaderItsOwnCollection() async throws {
        let f = try Fixture()
        let sensor = try f.key("MISSION", "feed", .sensor)
        let poland = try f.key("PL", "pl-liaison", .liaison)
        try await f.run { client in
            try await ReportTests.post(client, sensor)
            func get(_ uri: String, _ key: String?, accept: String = TAXII.mediaType) async throws -> TestResponse {
                var headers: HTTPFields = [.accept: accept]
                if let key {
                    headers[.authorization] = "Basic " + Data("pl-liaison:\(key)".utf8).base64EncodedString()
                }
                return try await client.execute(uri: uri, method: .get, headers: headers)
            }
            func json(_ r: TestResponse) throws -> [String: JSONValue] {
                #expect(r.headers[.contentType] == TAXII.mediaType)
                return try #require(try JSONValue.parse(ServerTests.text(r)).object)
            }
            let discovery = try json(try await get("/taxii2/", poland))
            #expect(discovery["api_roots"]?.items?.first?.string == "/taxii2/api/")
            let root = try json(try await get("/taxii2/api/", poland))
            #expect(root["versions"]?.items?.first?.string == TAXII.mediaType)

            for (reader, key) in [("PL", poland as String?), ("PUBLIC", nil)] {
                let collections = try json(try await get("/taxii2/api/collections/", key))["collections"]?.items ?? []
                #expect(collections.count == 1, "one collection per reader: its own view")
                let id = try #require(collections.first?.object?["id"]?.string)
                let base = "/taxii2/api/collections/\(id)/"
                #expect(try json(try await get(base, key))["can_write"] == .bool(false))

                // Page through with 7 a page: the same objects as the reader's bundle, each once, by date added.
                var ids: [String] = []
                var next: String? = nil
                var pages = 0
                repeat {
                    let page = try await get(base + "objects/?limit=7" + (next.map { "&next=\($0)" } ?? ""), key)
                    let body = try json(page)
                    let objects = body["objects"]?.items ?? []
                    #expect(objects.count <= 7)
                    ids += objects.compactMap { $0.object?["id"]?.string }
                    next = body["next"]?.string
                    #expect((body["more"] == .bool(true)) == (next != nil))
                    pages += 1
                } while next != nil && pages < 1_000
                let bundle = try JSONValue.parse(
                    ServerTests.text(
                        try await client.execute(
                            uri: "/export/stix.json", method: .get, headers: ServerTests.headers(key))))
                let exported = (bundle.object?["objects"]?.items ?? []).compactMap { $0.object?["id"]?.string }
                #expect(ids.count == exported.count && Set(ids) == Set(exported), "\(reader)")
                #expect(pages > 1)

                // The manifest pages the same way and names each object's version.
                let manifest = try json(try await get(base + "manifest/?limit=1000", key))
                let records = manifest["objects"]?.items ?? []
                #expect(records.count == ids.count)
                let record = try #require(records.last?.object)
                #expect(record["media_type"]?.string == TAXII.stixMediaType)

                // added_after: only what was added after.
                let last = try #require(record["date_added"]?.string)
                let after = try json(try await get(base + "objects/?added_after=\(last)", key))
                #expect(after["objects"] == nil && after["more"] == .bool(false))

                // One object and its versions.
                let object = try #require(record["id"]?.string)
                let one = try json(try await get(base + "objects/\(object)/", key))
                #expect(one["objects"]?.items?.first?.object?["id"]?.string == object)
                let versions = try json(try await get(base + "objects/\(object)/versions/", key))
                #expect(versions["versions"]?.items?.first?.string == record["version"]?.string)
                if reader == "PUBLIC" {
                    #expect(!ServerTests.text(try await get(base + "objects/", key)).contains("red-mortar"))
                }
            }

            // Another reader's collection is not this caller's; errors are TAXII's.
            let mission = TAXII.collectionId(missionId: f.mission.agreement.id, reader: .mission)
            let refused = try await get("/taxii2/api/collections/\(mission)/objects/", poland)
            #expect(refused.status == .notFound)
            #expect(try json(refused)["http_status"]?.string == "404")
            #expect(try await get("/taxii2/api/", poland, accept: "text/html").status == .notAcceptable)
            let wrong = try await client.execute(
                uri: "/taxii2/api/collections/", method: .get,
                headers: [.authorization: "Basic " + Data("x:gk_wrong".utf8).base64EncodedString()])
            #expect(wrong.status == .unauthorized)
            #expect(try json(wrong)["http_status"]?.string == "401")
        }
    }

    /// Export → import into a fresh mission through the API: the same observations (ids, times, places, kinds,
    /// sources, markings), the importer their originator; the import again changes nothing; a bad bundle changes
    /// nothing and names the object, field and reason.
    @Test func aBundleImportedIntoAFreshMissionGivesTheSameObservations() async throws {
        let f = try Fixture()
        let sensor = try f.key("MISSION", "feed", .sensor)
        try await f.run { client in try await ReportTests.post(client, sensor) }
        // The mission's whole record, as an analyst's GET /export/… gives it.
        let bundle = String(decoding: try await f.state.export(.stix, reader: .mission).bytes, as: UTF8.self)
        let acled = String(decoding: try await f.state.export(.acled, reader: .mission).bytes, as: UTF8.self)
        let original = try f.store.records().compactMap { r -> Observation? in
            if case .observation(let o) = r { o } else { nil }
        }
        let fresh = try Fixture()
        let importer = try fresh.key("UK", "uk-cti", .sensor)
        try await fresh.run { client in
            let imported = try await TrustBoundaryTests.post(
                client, "/import/stix", importer, bundle, "application/json")
            #expect(imported.status == .created, "\(ServerTests.text(imported))")
            let again = try await TrustBoundaryTests.post(client, "/import/stix", importer, bundle, "application/json")
            #expect(again.status == .ok)
            #expect(
                try JSONValue.parse(ServerTests.text(again)).object?["alreadyStored"]?.number == Double(original.count))

            let broken = bundle.replacingOccurrences(of: #""latitude":48."#, with: #""latitude":98."#)
            let refused = try await TrustBoundaryTests.post(
                client, "/import/stix", importer, broken.replacingOccurrences(of: "red-mortar", with: "red-mortar-2"),
                "application/json")
            #expect(refused.status == .badRequest)
            let errors = try JSONValue.parse(ServerTests.text(refused)).object?["errors"]?.items ?? []
            #expect(errors.first?.object?["field"]?.string == "latitude", "\(errors.first ?? .null)")
            #expect((errors.first?.object?["line"]?.number ?? 0) > 0)

            // ACLED's table of the same record: an open-source observation per incident of a mapped kind.
            let rows = acled.split(separator: "\r\n").dropFirst()
            let mapped = rows.filter { row in Imports.acledKinds.keys.contains { row.contains(",\($0),") } }.count
            let table = try await TrustBoundaryTests.post(
                client, "/import/acled?source=mission-osint", importer, acled, "text/csv")
            #expect(table.status == .created, "\(ServerTests.text(table))")
            #expect(try JSONValue.parse(ServerTests.text(table)).object?["appended"]?.number == Double(mapped))
        }
        let copied = try fresh.store.records().compactMap { r -> Observation? in
            if case .observation(let o) = r, !o.id.hasPrefix("acled-") { o } else { nil }
        }
        #expect(copied.count == original.count)
        let byId = Dictionary(uniqueKeysWithValues: copied.map { ($0.id, $0) })
        for o in original {
            let c = try #require(byId[o.id], "\(o.id) did not come back")
            #expect(
                c.observedAt == o.observedAt && c.location == o.location && c.kind == o.kind && c.source == o.source)
            #expect(
                (c.tlp ?? .green) == (o.tlp ?? .green) && c.count == o.count && c.weaponClass == o.weaponClass,
                "\(o.id)")
            #expect(c.originator == "UK")
        }
    }
}
