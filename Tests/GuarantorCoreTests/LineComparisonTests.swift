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

    /// DeepState's occupied territory on a date (one MultiPolygon), as an area index.
    static func occupied(_ date: String) throws -> AreaIndex {
        let url = TestData.sharedData.appendingPathComponent(
            "deepstate-occupied-territory-daily/deepstatemap_data_\(date).geojson")
        guard case .object(var root) = try JSONValue.parse(Data(contentsOf: url)),
            case .array(let features)? = root["features"], case .object(var feature) = features[0]
        else { throw FieldError(path: "", reason: "not a FeatureCollection") }
        feature["properties"] = .object(["name": .string("occupied")])
        root["features"] = .array([.object(feature)])
        return AreaIndex(areas: try GeoJSON.namedAreas(.object(root)))
    }

    /// A check no one here tuned: the settlements that change side between the front lines of 2024-07-08 and
    /// 2025-12-01 (derived from DeepState's polygons by a process we did not write) against DeepState's
    /// occupied-territory polygons of the same dates, read directly. Away from the lines' ends (20 km) and more than
    /// 2 km from either line, the two agree for at least 99 % of settlements, both on the side each date gives and on
    /// whether a settlement changed. The differences are printed; docs/DECISIONS.md says what they are.
    @Test(.enabled(if: TestData.hasSharedData, "\(TestData.missingDataMessage)"))
    func settlementsThatChangeSideAgreeWithDeepStatesOccupiedTerritory() throws {
        let base = try MissionDirectory.load(Self.missionURL)
        func line(_ date: String) throws -> Mission {
            let url = TestData.sharedData.appendingPathComponent("front-line-derived/front_line_\(date).geojson")
            return try base.replacingLine(GeoJSON.lineParts(JSONValue.parse(Data(contentsOf: url))), file: date)
        }
        let (a, b) = (try line("20240708"), try line("20251201"))
        let (occupiedA, occupiedB) = (try Self.occupied("20240708"), try Self.occupied("20251201"))
        let gazetteer = TestData.sharedData.appendingPathComponent(
            "ukraine-settlements-geonames-postal/UA_postal_codes_geonames.tsv")
        let places = try Gazetteer.read(Array(try Data(contentsOf: gazetteer)))
        let ru = base.agreement.parties.firstIndex { $0.id == "RU" }!
        var compared = 0, sidesAgree = 0, changesAgree = 0, changed = 0, changedInDeepState = 0
        var differences: [String] = []
        for place in places {
            let ca = a.classify(place.point), cb = b.classify(place.point)
            let ends = 20_000.0
            guard ca.distanceToLineMeters > 2_000, cb.distanceToLineMeters > 2_000,
                ca.alongLineMeters > ends, ca.alongLineMeters < a.line.lengthMeters - ends,
                cb.alongLineMeters > ends, cb.alongLineMeters < b.line.lengthMeters - ends
            else { continue }
            compared += 1
            let inA = occupiedA.area(containing: place.point) != nil
            let inB = occupiedB.area(containing: place.point) != nil
            let sides = (ca.party == ru) == inA && (cb.party == ru) == inB
            let change = (ca.party != cb.party) == (inA != inB)
            if sides { sidesAgree += 1 }
            if change { changesAgree += 1 }
            if ca.party != cb.party { changed += 1 }
            if inA != inB { changedInDeepState += 1 }
            if !sides || !change {
                differences.append(
                    "\(place.name) (\(place.region ?? "")) \(place.point.lon),\(place.point.lat): "
                        + "lines \(ca.party == ru ? "RU" : "UA")→\(cb.party == ru ? "RU" : "UA"), "
                        + "DeepState \(inA ? "RU" : "UA")→\(inB ? "RU" : "UA"), "
                        + "\(Int(ca.distanceToLineMeters)) m and \(Int(cb.distanceToLineMeters)) m from the lines")
            }
        }
        print(
            "DeepState cross-check: \(compared) settlements, sides agree \(sidesAgree), changes agree \(changesAgree)")
        print("  changed by the lines \(changed), by DeepState \(changedInDeepState); differences:")
        for d in differences { print("  " + d) }
        #expect(compared > 10_000)
        #expect(changed > 150)
        #expect(Double(sidesAgree) >= 0.99 * Double(compared), "\(sidesAgree) of \(compared)")
        #expect(Double(changesAgree) >= 0.99 * Double(compared), "\(changesAgree) of \(compared)")
    }

    // MARK: The area between two lines

    /// A mission whose line is `a` (lon, lat pairs), and the same mission under `b`.
    static func missions(_ a: [(Double, Double)], _ b: [(Double, Double)]) throws -> (Mission, Mission) {
        let partsA = [a.map { GeoPoint(lon: $0.0, lat: $0.1) }]
        let base = try Mission(
            agreement: try Agreement(
                json: MissionTests.agreementJSON {
                    $0["line"] = .object([
                        "type": .string("LineString"),
                        "coordinates": .array(a.map { .array([.number($0.0), .number($0.1)]) }),
                    ])
                    $0["sectors"] = .object(["alongLineMeters": .number(1_000_000)])
                }),
            lineParts: partsA, areas: nil, sources: EngineEquivalenceTests.mission.sources)
        return (base, try base.replacingLine([b.map { GeoPoint(lon: $0.0, lat: $0.1) }], file: "b"))
    }

    static func compare(_ a: [(Double, Double)], _ b: [(Double, Double)]) throws -> LineComparison {
        let (ma, mb) = try missions(a, b)
        return LineComparison(
            a: .init(id: "a", title: "a", mission: ma), b: .init(id: "b", title: "b", mission: mb), settlements: [])
    }

    /// Expected areas are pyproj's (`Geod(ellps="WGS84").polygon_area_perimeter`) of the same rings: the lines' edges
    /// densified along their geodesics, the connectors along straight lines in longitude and latitude.
    @Test func theAreaBetweenTwoParallelLinesIsTheEllipsoidsOwn() throws {
        let a = (0...6).map { (37.0, 47.0 + 0.5 * Double($0)) }, b = (0...6).map { (37.1, 47.0 + 0.5 * Double($0)) }
        let c = try Self.compare(a, b)
        // East of A is RU's side, west of B is UA's: the strip passes to UA; pyproj: 2,465.061 km².
        #expect(abs(c.areaToPartyKm2["UA"]! - 2_465.061) < 2.5, "\(c.areaToPartyKm2)")
        #expect(c.areaToPartyKm2["RU"]! == 0)
        #expect(c.lobes.count == 1 && c.lobes[0].to == "UA" && c.lobes[0].from == "RU")
        // The other way round, the same area passes back.
        let back = try Self.compare(b, a)
        #expect(abs(back.areaToPartyKm2["RU"]! - c.areaToPartyKm2["UA"]!) < 0.5)
        // A line walked the other way is turned round first: the same region.
        let reversed = try Self.compare(a, b.reversed())
        #expect(abs(reversed.areaToPartyKm2["UA"]! - c.areaToPartyKm2["UA"]!) < 0.01)
    }

    @Test func linesThatCrossMakeOneLobeBetweenEachCrossing() throws {
        let a = (0...6).map { (37.0, 47.0 + 0.5 * Double($0)) }
        let b = [(37.1, 47.0), (36.9, 48.5), (37.1, 50.0)]
        let c = try Self.compare(a, b)
        // B runs east of A, then west, then east: three lobes, passing to UA, RU, UA (pyproj: 321.698, 616.588,
        // 294.461 km²).
        #expect(c.lobes.map(\.to) == ["UA", "RU", "UA"], "\(c.lobes.map { ($0.to, $0.areaKm2) })")
        for (lobe, expected) in zip(c.lobes, [321.698, 616.588, 294.461]) {
            #expect(abs(lobe.areaKm2 - expected) < expected * 0.002, "\(lobe.areaKm2) against \(expected)")
        }
        #expect(abs(c.areaToPartyKm2["UA"]! - (321.698 + 294.461)) < 1.5)
        // areas.geojson: one counter-clockwise, closed Polygon per lobe, with from, to and its area.
        let json = try JSONValue.parse(c.areasGeoJSON)
        let features = try JSONFields(json).array("features")
        #expect(features.count == 3)
        let first = try JSONFields(features[0])
        #expect(try first.object("properties").string("to") == "UA")
        let ring = try first.object("geometry").array("coordinates")
        guard case .array(let positions) = ring[0], case .array(let p0) = positions.first!,
            case .array(let pn) = positions.last!
        else { throw FieldError(path: "", reason: "no ring") }
        #expect(p0 == pn)
    }

    @Test func linesWithDifferentEndsAreClosedByStraightConnectors() throws {
        let a = (0...6).map { (37.0, 47.0 + 0.5 * Double($0)) }, b = (0...5).map { (37.1, 47.5 + 0.5 * Double($0)) }
        let c = try Self.compare(a, b)
        // From B's start (37.1, 47.5) straight to A's start (37.0, 47.0): pyproj gives 2,254.333 km² for the ring, and
        // every point of it lies on RU's side under A and UA's under B.
        #expect(abs(c.areaToPartyKm2["UA"]! - 2_254.333) < 2.5, "\(c.areaToPartyKm2)")
        let summary = try JSONFields(c.summary).object("area")
        #expect(try summary.object("toPartyKm2").number("UA") == (c.areaToPartyKm2["UA"]! * 1000).rounded() / 1000)
    }

    /// Where the ring winds round a place twice its lobes overlap; the union is measured, each place once.
    @Test func overlappingLobesCountTheirOverlapOnce() {
        func square(_ lon: Double, _ lat: Double, _ side: Double) -> [GeoPoint] {
            [(0.0, 0.0), (side, 0), (side, side), (0, side)].map { GeoPoint(lon: lon + $0.0, lat: lat + $0.1) }
        }
        func measured(_ loops: [[GeoPoint]]) -> (total: Double, byLoop: [Double]) {
            var byLoop = [Double](repeating: 0, count: loops.count)
            AreaBetweenLines.scan(loops) { _, area, loop in byLoop[loop] += area }
            return (byLoop.reduce(0, +), byLoop)
        }
        let outer = square(37.0, 48.0, 0.4), inner = square(37.1, 48.1, 0.2), beside = square(37.3, 48.0, 0.4)
        let alone = measured([outer]).total
        // pyproj's geodesic area of the outer square's ring (edges straight in lon/lat, densified): 1,322.5 km²; rows of
        // 100 m cut the edges to within 0.2 %.
        #expect(abs(alone / 1e6 - 1_322.5) < 2.7, "\(alone / 1e6)")
        // An inner loop adds nothing, and its places are the outer's.
        let nested = measured([outer, inner])
        #expect(abs(nested.total - alone) < 1e-6 * alone && nested.byLoop[1] == 0)
        // Two squares overlapping by a quarter of each: 1.75 squares, the shared part counted for the first.
        let side = measured([outer, beside])
        #expect(abs(side.total / alone - 1.75) < 0.01, "\(side.total / alone)")
        #expect(abs(side.byLoop[0] - alone) < 1e-6 * alone)
    }
}
