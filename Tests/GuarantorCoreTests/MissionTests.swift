import Foundation
import GuarantorTesting
import Testing

@testable import GuarantorCore

@Suite struct MissionTests {
    static func agreementJSON(_ edit: (inout [String: JSONValue]) -> Void = { _ in }) -> JSONValue {
        var members: [String: JSONValue] = [
            "id": .string("m"), "title": .string("t"), "effectiveAt": .string("2026-01-01T00:00:00Z"),
            "parties": .array([
                .object([
                    "id": .string("UA"), "name": .string("Ukraine"),
                    "referencePoint": .object(["lon": .number(35.05), "lat": .number(48.46)]),
                ]),
                .object([
                    "id": .string("RU"), "name": .string("Russia"),
                    "referencePoint": .object(["lon": .number(39.31), "lat": .number(48.57)]),
                ]),
            ]),
            "line": .object([
                "type": .string("LineString"),
                "coordinates": .array([
                    .array([.number(37.6), .number(49.7)]), .array([.number(37.8), .number(48.6)]),
                    .array([.number(37.2), .number(47.8)]),
                ]),
            ]),
            "sectors": .object(["alongLineMeters": .number(50_000)]),
            "zones": Agreement(
                id: "x", title: "x", effectiveAt: Timestamp(seconds: 0), parties: [], line: .file(path: ""),
                sectors: .alongLine(stretchMeters: 1)
            ).json.object!["zones"]!,
        ]
        edit(&members)
        return .object(members)
    }

    static func mission(_ json: JSONValue) throws -> Mission {
        let agreement = try Agreement(json: json)
        guard case .inline(let line) = agreement.line else {
            throw FieldError(path: "", reason: "inline line expected")
        }
        return try Mission(
            agreement: agreement, lineParts: GeoJSON.lineParts(line), areas: nil, sources: SourceRegistry([]))
    }

    @Test func defaultZonesFollowMinskII() throws {
        let m = try Self.mission(Self.agreementJSON())
        #expect(
            m.agreement.zones.map(\.id) == ["buffer", "withdrawal15", "withdrawal25", "withdrawal35", "withdrawal70"])
        #expect(m.agreement.zones.map(\.halfWidthMeters) == [2_000, 15_000, 25_000, 35_000, 70_000])
        #expect(m.agreement.zones[2].prohibitedWeaponClasses == [.artillery100mmPlus])
        #expect(m.agreement.parties[m.leftParty].id == "RU")
        // Kramatorsk is on Ukraine's side, about 14 km west of this line.
        let c = m.classify(GeoPoint(lon: 37.58, lat: 48.73))
        #expect(m.agreement.parties[c.party].id == "UA")
        #expect(c.distanceToLineMeters > 13_000 && c.distanceToLineMeters < 15_000)
        #expect(m.zoneIds(c.zones) == ["withdrawal15", "withdrawal25", "withdrawal35", "withdrawal70"])
        #expect(m.sectors.names[Int(c.sector)] == "km 100-150")
    }

    @Test(
        arguments: [
            ("parties", JSONValue.array([]), "parties", "exactly two parties"),
            ("effectiveAt", .string("soon"), "effectiveAt", "RFC 3339"),
            (
                "zones",
                .array([.object(["id": .string("z"), "halfWidthMeters": .number(-5), "prohibits": .object([:])])]),
                "zones[0].halfWidthMeters", "must be in"
            ),
            (
                "zones",
                .array([
                    .object([
                        "id": .string("z"), "halfWidthMeters": .number(5),
                        "prohibits": .object(["weaponClasses": .array([.string("laser")])]),
                    ])
                ]),
                "zones[0].prohibits.weaponClasses[0]", "not one of"
            ),
            (
                "line", .object(["type": .string("Polygon"), "coordinates": .array([])]), "line.type",
                "not a LineString"
            ),
            ("sectors", .object(["alongLineMeters": .number(5)]), "sectors.alongLineMeters", "at least 1000"),
            ("extra", .bool(true), "extra", "unknown field"),
        ] as [(String, JSONValue, String, String)])
    func agreementErrorsNameThePath(key: String, value: JSONValue, path: String, reason: String) {
        do {
            _ = try Agreement(json: Self.agreementJSON { $0[key] = value })
            Issue.record("accepted")
        } catch let error as FieldError {
            #expect(error.path == path)
            #expect(error.reason.contains(reason), "\(error)")
        } catch { Issue.record("\(error)") }
    }

    /// The agreement with Ukraine's reference point moved; Russia's stays at Luhansk.
    static func withUkraineAt(lon: Double, lat: Double) -> JSONValue {
        func party(_ id: String, _ lon: Double, _ lat: Double) -> JSONValue {
            .object([
                "id": .string(id), "name": .string(id),
                "referencePoint": .object(["lon": .number(lon), "lat": .number(lat)]),
            ])
        }
        return agreementJSON { $0["parties"] = .array([party("UA", lon, lat), party("RU", 39.31, 48.57)]) }
    }

    @Test func referencePointsMustBeClearlyOnOppositeSides() throws {
        #expect { try Self.mission(Self.withUkraineAt(lon: 37.8, lat: 48.6)) } throws: {
            "\($0)".contains("parties[0].referencePoint: is 0 m from the line")
        }
        #expect { try Self.mission(Self.withUkraineAt(lon: 39.0, lat: 48.6)) } throws: { "\($0)".contains("same side") }
    }

    @Test func replayIsByteIdentical() throws {
        let m = try Self.mission(Self.agreementJSON())
        var text = ""
        var rng = SplitMix64(seed: 5)
        for i in 0..<500 {
            text +=
                #"{"id":"o\#(i)","source":"s","observedAt":"2026-03-01T02:14:00Z","kind":"explosion","location":{"lon":\#(Double.random(in: 36...39, using: &rng)),"lat":\#(Double.random(in: 47...50, using: &rng)),"uncertaintyMeters":10}}"#
                + "\n"
        }
        let batch = try ObservationBatch.parse(Array(text.utf8), isKnownSource: { $0 == "s" }).get()
        let first = Replay.run(mission: m, batch: batch).observations
        let second = Replay.run(mission: try Self.mission(Self.agreementJSON()), batch: batch).observations
        #expect(first == second)
        #expect(first.filter { $0 == 0x0A }.count == 500)
    }
}
