import Foundation
import GuarantorStore
import GuarantorTesting
import Testing

@testable import GuarantorCore

/// Candidate lines: read like the agreement's, compared by the mission's own classification.
@Suite struct LineComparisonTests {
    static let missionURL = TestData.repositoryRoot.appendingPathComponent("docs/examples/mission")
    static let settlementsURL = TestData.repositoryRoot.appendingPathComponent(
        "docs/examples/lines/settlements.geojson")

    @Test func geoNamesPostalRowsAreOnePlaceEachAtTheirMostAccurateRow() throws {
        let text = """
            UA\t85100\tКостянтинівка\tDonetska\t05\tKostiantynivskyi\t\t\t\t48.5300\t37.7100\t1
            UA\t85101\tКостянтинівка\tDonetska\t05\tKostiantynivskyi\t\t\t\t48.5333\t37.7167\t4
            UA\t85102\tКостянтинівка\tDonetska\t05\tKostiantynivskyi\t\t\t\t48.5400\t37.7200\t1
            UA\t87500\tКостянтинівка\tDonetska\t05\tMarinskyi\t\t\t\t47.8400\t37.3400\t4
            UA\t84500\tБахмут\tDonetska\t05\tBakhmutskyi\t\t\t\t48.5947\t38.0000\t

            """
        let places = try Gazetteer.read(Array(text.utf8))
        #expect(places.map(\.name) == ["Костянтинівка", "Костянтинівка", "Бахмут"])
        #expect(places[0].point == GeoPoint(lon: 37.7167, lat: 48.5333))
        #expect(places[0].region == "Donetska, Kostiantynivskyi" && places[1].region == "Donetska, Marinskyi")
        // A bad row is named by its line and field.
        let bad = "UA\t1\tX\tA\t1\tB\t\t\t\t48.1\t\t4\n"
        #expect(throws: FieldError(path: "line 1.longitude", reason: "\"\" is not a longitude")) {
            try Gazetteer.read(Array(bad.utf8))
        }
        #expect(throws: FieldError.self) { try Gazetteer.read(Array("UA\t1\tX\n".utf8)) }
    }

    @Test func geoJSONPointsNeedANameAndCoordinatesInRange() throws {
        let places = try Gazetteer.read(Array(try Data(contentsOf: Self.settlementsURL)))
        #expect(places.count == 13 && places.first { $0.name == "Kramatorsk" }?.population == 150_000)
        let outOfRange =
            #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"X"},"geometry":{"type":"Point","coordinates":[200,48]}}]}"#
        #expect(throws: FieldError(path: "features[0].geometry.coordinates", reason: "expected [lon, lat] in range")) {
            try Gazetteer.read(Array(outOfRange.utf8))
        }
        let unnamed =
            #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[37,48]}}]}"#
        #expect(throws: FieldError.self) { try Gazetteer.read(Array(unnamed.utf8)) }
    }

    @Test func aCandidateIsReadAndCheckedLikeTheAgreementsLine() throws {
        let base = try MissionDirectory.load(Self.missionURL)
        let lines = try CandidateLines(directory: Self.missionURL)
        #expect(lines.entries.map(\.id) == ["agreement", "east"])
        let east = try lines.mission("east", base: base)
        #expect(abs(east.line.lengthMeters - 697_900) < 100)
        // Sectors drawn along the line are drawn along the candidate.
        #expect(east.sectors.names.count == Int((east.line.lengthMeters / 50_000).rounded(.up)))
        // A line that leaves a party's reference point on the other side is refused, naming the agreement.
        let across = [[GeoPoint(lon: 34.0, lat: 49.5), GeoPoint(lon: 36.0, lat: 47.5)]]
        #expect(throws: Mission.Problem.self) { try base.replacingLine(across, file: "x.geojson") }
        #expect(throws: ConfigurationError.self) { try lines.mission("nope", base: base) }
    }

    @Test func comparingTwoLinesNamesTheSettlementsThatChangeSide() throws {
        let base = try MissionDirectory.load(Self.missionURL)
        let lines = try CandidateLines(directory: Self.missionURL)
        let places = try Gazetteer.read(Array(try Data(contentsOf: Self.settlementsURL)))
        let comparison = LineComparison(
            a: .init(id: "agreement", title: "agreement", mission: base),
            b: .init(id: "east", title: "east", mission: try lines.mission("east", base: base)), settlements: places)
        // The east line runs through Bakhmut and Toretsk's eastern side: both pass to UA; nothing else moves.
        #expect(comparison.changes.map(\.settlement.name) == ["Bakhmut", "Toretsk"])
        #expect(comparison.changes.allSatisfy { $0.from == "RU" && $0.to == "UA" })
        // Every change is what the engine's classification says under each line.
        for c in comparison.changes {
            #expect(base.agreement.parties[base.classify(c.settlement.point).party].id == c.from)
        }
        // The lines part for about 200 km; the farthest point is the moved vertex's neighbourhood, 10-15 km.
        #expect((9_000...16_000).contains(comparison.aToB.maximumMeters))
        #expect(comparison.bToA.meanMeters > 0 && comparison.bToA.meanMeters < comparison.bToA.maximumMeters)
        // A line compared with itself: nothing changes, nothing is apart.
        let same = LineComparison(
            a: .init(id: "a", title: "a", mission: base), b: .init(id: "b", title: "b", mission: base),
            settlements: places)
        #expect(same.changes.isEmpty && same.aToB.maximumMeters < 0.01, "\(same.aToB)")
    }

    @Test(.enabled(if: TestData.hasSharedData, "\(TestData.missingDataMessage)"))
    func theDatedFrontLinesShowTheSettlementsTakenBetweenThem() throws {
        let mission = try Mission(
            agreement: try Agreement(
                json: MissionTests.agreementJSON {
                    $0["line"] = try! JSONValue.parse(Data(contentsOf: TestData.realFrontLine))
                    $0["sectors"] = .object(["alongLineMeters": .number(50_000)])
                }),
            lineParts: try GeoJSON.lineParts(JSONValue.parse(Data(contentsOf: TestData.realFrontLine))), areas: nil,
            sources: EngineEquivalenceTests.mission.sources)
        func line(_ date: String) throws -> Mission {
            let url = TestData.sharedData.appendingPathComponent("front-line-derived/front_line_\(date).geojson")
            return try mission.replacingLine(GeoJSON.lineParts(JSONValue.parse(Data(contentsOf: url))), file: date)
        }
        let gazetteer = TestData.sharedData.appendingPathComponent(
            "ukraine-settlements-geonames-postal/UA_postal_codes_geonames.tsv")
        let places = try Gazetteer.read(Array(try Data(contentsOf: gazetteer)))
        #expect(places.count > 19_000)
        let comparison = LineComparison(
            a: .init(id: "2024-07-08", title: "", mission: try line("20240708")),
            b: .init(id: "2025-12-01", title: "", mission: try line("20251201")), settlements: places)
        // Seventeen months of Russian advance: hundreds of places, nearly all passing to RU.
        let toRU = comparison.changes.filter { $0.to == "RU" }.count
        #expect(comparison.changes.count > 200, "\(comparison.changes.count)")
        #expect(Double(toRU) >= 0.95 * Double(comparison.changes.count), "\(toRU) of \(comparison.changes.count)")
        #expect(comparison.changes.contains { $0.settlement.name == "Вугледар" && $0.to == "RU" })
        #expect((20_000...100_000).contains(comparison.aToB.maximumMeters))
    }
}
