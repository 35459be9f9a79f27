import Foundation
import GuarantorTesting
import Testing

@testable import GuarantorCore

@Suite struct AreaIndexTests {
    /// Plain ray casting over every ring, the reference for the grid.
    static func bruteForce(_ areas: [GeoJSON.NamedArea], _ p: GeoPoint) -> Int? {
        for (k, area) in areas.enumerated() {
            var inside = false
            for polygon in area.polygons {
                for ring in polygon {
                    for i in 0..<(ring.count - 1) {
                        let a = ring[i], b = ring[i + 1]
                        if (a.lat > p.lat) != (b.lat > p.lat)
                            && p.lon < a.lon + (p.lat - a.lat) / (b.lat - a.lat) * (b.lon - a.lon)
                        {
                            inside.toggle()
                        }
                    }
                }
            }
            if inside { return k }
        }
        return nil
    }

    @Test func squareWithAHoleAndANeighbour() {
        func ring(_ xs: [(Double, Double)]) -> [GeoPoint] { (xs + [xs[0]]).map { GeoPoint(lon: $0.0, lat: $0.1) } }
        let areas = [
            GeoJSON.NamedArea(
                name: "A",
                polygons: [
                    [ring([(0, 0), (1, 0), (1, 1), (0, 1)]), ring([(0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6)])]
                ]),
            GeoJSON.NamedArea(name: "B", polygons: [[ring([(1, 0), (2, 0), (2, 1), (1, 1)])]]),
        ]
        let index = AreaIndex(areas: areas, cellDegrees: 0.07)
        #expect(index.area(containing: GeoPoint(lon: 0.2, lat: 0.2)) == 0)
        #expect(index.area(containing: GeoPoint(lon: 0.5, lat: 0.5)) == nil)
        #expect(index.area(containing: GeoPoint(lon: 1.5, lat: 0.5)) == 1)
        #expect(index.area(containing: GeoPoint(lon: 2.5, lat: 0.5)) == nil)
        var rng = SplitMix64(seed: 9)
        for _ in 0..<20_000 {
            let p = GeoPoint(
                lon: Double.random(in: -0.5...2.5, using: &rng), lat: Double.random(in: -0.5...1.5, using: &rng))
            #expect(index.area(containing: p) == Self.bruteForce(areas, p), "\(p)")
        }
    }

    @Test(.enabled(if: TestData.hasSharedData, "needs ../shared/data (GUARANTOR_DATA)"))
    func oblastsMatchRayCasting() throws {
        let areas = try GeoJSON.namedAreas(JSONValue.parse(Data(contentsOf: TestData.oblasts)))
        #expect(areas.count == 27)
        let index = AreaIndex(areas: areas)
        var rng = SplitMix64(seed: 10)
        var mismatches = 0
        for _ in 0..<3000 {
            let p = GeoPoint(lon: Double.random(in: 22...41, using: &rng), lat: Double.random(in: 44...53, using: &rng))
            if index.area(containing: p) != Self.bruteForce(areas, p) { mismatches += 1 }
        }
        #expect(mismatches == 0)
        let kramatorsk = try #require(index.area(containing: GeoPoint(lon: 37.58, lat: 48.73)))
        #expect(areas[kramatorsk].name == "Donetsk Oblast")
    }
}
