import Foundation
import GuarantorTesting
import Testing

@testable import GuarantorCore

/// STIX, ACLED and UCDP files as observations: what maps, what is skipped, the marking kept, and every error naming
/// the record, the file's field and the reason, nothing taken from a file with one.
@Suite struct ImportTests {
    static let known: @Sendable (String) -> Bool = { ["mission-osint", "pl-patrol-04"].contains($0) }

    /// A MISP-style bundle: a sighting placed by a location, TLP 1.0 AMBER, its kind a label of what it sights;
    /// an indicator (skipped) and a sighting placed only by an identity (skipped).
    static let misp = #"""
        {"type":"bundle","id":"bundle--1d0a1b9e-0000-4000-8000-000000000001","objects":[
        {"type":"identity","spec_version":"2.1","id":"identity--00000000-0000-4000-8000-000000000001","created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","name":"PL CTI"},
        {"type":"location","spec_version":"2.1","id":"location--00000000-0000-4000-8000-000000000002","created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","latitude":48.52,"longitude":37.95,"precision":300},
        {"type":"attack-pattern","spec_version":"2.1","id":"attack-pattern--00000000-0000-4000-8000-000000000003","created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","name":"152 mm shelling","labels":["artilleryFire"]},
        {"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-000000000004","created":"2026-03-01T03:00:00.000Z","modified":"2026-03-01T03:00:00.000Z","first_seen":"2026-03-01T02:40:00.000Z","count":4,"sighting_of_ref":"attack-pattern--00000000-0000-4000-8000-000000000003","where_sighted_refs":["location--00000000-0000-4000-8000-000000000002"],"description":"four rounds heard","object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]},
        {"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-000000000005","created":"2026-03-01T03:00:00.000Z","modified":"2026-03-01T03:00:00.000Z","sighting_of_ref":"attack-pattern--00000000-0000-4000-8000-000000000003","where_sighted_refs":["identity--00000000-0000-4000-8000-000000000001"]},
        {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000006","created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z"}
        ]}
        """#

    @Test func aMemberSightingBecomesAnObservationItsMarkingKept() throws {
        let imported = try Imports.stix(
            Array(Self.misp.utf8), member: "PL", source: "pl-patrol-04", isKnownSource: Self.known
        ).get()
        #expect(imported.batch.observations.count == 1)
        let o = try #require(imported.batch.observations.first)
        #expect(o.id == "stix:sighting--00000000-0000-4000-8000-000000000004")
        #expect(o.kind == .artilleryFire && o.count == 4 && o.tlp == .amber && o.originator == "PL")
        #expect(o.observedAt == Timestamp(rfc3339: "2026-03-01T02:40:00Z"))
        #expect(o.location.point == GeoPoint(lon: 37.95, lat: 48.52) && o.location.uncertaintyMeters == 300)
        #expect(imported.skipped["indicator"] == 1 && imported.skipped["sighting without a location"] == 1)
    }

    @Test func aBadBundleIsRejectedWholeNamingObjectFieldAndReason() {
        // No source for a foreign sighting; then a latitude out of range, an unknown marking, no kind.
        guard
            case .failure(let noSource) = Imports.stix(
                Array(Self.misp.utf8), member: "PL", source: nil, isKnownSource: Self.known)
        else { Issue.record("a foreign sighting needs a source"); return }
        #expect(noSource.errors.first?.line == 4 && noSource.errors.first?.field == "source")

        let bad = Self.misp.replacingOccurrences(of: #""latitude":48.52"#, with: #""latitude":95"#)
            .replacingOccurrences(
                of: "f88d31f6-486f-44da-b317-01333bde0b82", with: "11111111-2222-4333-8444-555555555555")
        guard
            case .failure(let rejection) = Imports.stix(
                Array(bad.utf8), member: "PL", source: "pl-patrol-04", isKnownSource: Self.known)
        else { Issue.record("accepted a latitude of 95 and an unknown marking"); return }
        #expect(rejection.errors.contains { $0.line == 4 && $0.field == "object_marking_refs" })
        #expect(
            rejection.errors.contains {
                $0.line == 4 && $0.field == "latitude (of its location)" && $0.reason.contains("95")
            })

        let noKind = Self.misp.replacingOccurrences(of: #""labels":["artilleryFire"]"#, with: #""labels":["shelling"]"#)
        guard
            case .failure(let kindless) = Imports.stix(
                Array(noKind.utf8), member: "PL", source: "pl-patrol-04", isKnownSource: Self.known)
        else { Issue.record("accepted a sighting without a kind"); return }
        #expect(kindless.errors.first?.field.hasPrefix("x_guarantor_kind or labels") == true)

        guard
            case .failure(let notJSON) = Imports.stix(
                Array("{\"type\":".utf8), member: "PL", source: nil, isKnownSource: Self.known)
        else { Issue.record("accepted broken JSON"); return }
        #expect(notJSON.errors.first?.line == 0)
    }

    @Test func csvFieldsMayHoldCommasQuotesAndLineBreaks() {
        let records = Imports.csvRecords("a,b,c\r\n1,\"x, \"\"y\"\"\nz\",3\r\n\r\n4,5,6")
        #expect(records.map(\.line) == [1, 2, 5])
        #expect(records[1].fields == ["1", "x, \"y\"\nz", "3"])
    }

    @Test func anACLEDTableMapsByItsSubEventTypes() throws {
        let csv = """
            event_id_cnty,event_date,year,event_type,sub_event_type,actor1,actor2,latitude,longitude,geo_precision,fatalities,notes
            UKR1,2026-03-01,2026,Explosions/Remote violence,Shelling/artillery/missile attack,Military Forces of Russia,,48.5,37.9,1,0,"shelling, north of the town"
            UKR2,01 March 2026,2026,Battles,Armed clash,A,B,48.6,37.8,2,2,
            UKR3,2026-03-01,2026,Protests,Peaceful protest,,,50.4,30.5,1,0,
            """
        let imported = try Imports.acled(
            Array(csv.utf8), member: "PL", source: "mission-osint", isKnownSource: Self.known
        ).get()
        #expect(imported.batch.observations.map(\.id) == ["acled-UKR1", "acled-UKR2"])
        #expect(imported.batch.observations.map(\.kind) == [.artilleryFire, .smallArmsFire])
        #expect(imported.batch.observations.map(\.location.uncertaintyMeters) == [2_000, 25_000])
        #expect(imported.batch.observations.allSatisfy { $0.tlp == .clear && $0.timeUncertaintySeconds == 43_200 })
        #expect(imported.skipped["ACLED Peaceful protest"] == 1)
        guard
            case .failure(let e) = Imports.acled(
                Array(csv.replacingOccurrences(of: "01 March 2026", with: "sometime").utf8), member: "PL",
                source: "mission-osint",
                isKnownSource: Self.known)
        else { Issue.record("accepted a date that is not one"); return }
        #expect(
            e.errors.first == LineError(line: 3, field: "event_date", reason: "\"sometime\" is not a date (2026-03-01)")
        )
    }

    /// The real UCDP GED file (2,744 events of 2014–2019): every event an observation, where_prec as uncertainty.
    @Test(.enabled(if: TestData.hasSharedData, "needs ../shared/data (GUARANTOR_DATA)"))
    func theUCDPFileImportsEveryEvent() throws {
        let url = TestData.sharedData.appendingPathComponent("ucdp-ged-ukraine/ucdp_ged_ukraine_2014-2019.csv")
        let imported = try Imports.ucdp(
            Array(try Data(contentsOf: url)), member: "MISSION", source: "mission-osint", isKnownSource: Self.known
        ).get()
        let observations = imported.batch.observations
        #expect(observations.count == 2_744)
        #expect(Set(observations.map(\.id)).count == 2_744)
        #expect(observations.allSatisfy { $0.kind == .casualty && ($0.count ?? 0) >= 1 && $0.tlp == .clear })
        let first = try #require(observations.first { $0.id == "ucdp-147997" })
        #expect(first.observedAt == Timestamp(rfc3339: "2014-01-22T12:00:00Z") && first.count == 5)
        #expect(
            first.location.point == GeoPoint(lon: 30.52333, lat: 50.45) && first.location.uncertaintyMeters == 1_000)
    }
}
