import Foundation
import GuarantorTesting
import Testing

@testable import GuarantorCore

@Suite struct CeasefireLineTests {
    static let demo = try! CeasefireLine(parts: [TestData.lineVertices(TestData.demoLine)])

    @Test func pointToPointDistanceIsASymmetricMetric() {
        var rng = SplitMix64(seed: 11)
        func randomPoint() -> GeoPoint {
            // Within the formula's range: up to about 200 km apart.
            GeoPoint(lon: Double.random(in: 36...38, using: &rng), lat: Double.random(in: 47...48.5, using: &rng))
        }
        for _ in 0..<2000 {
            let p = randomPoint(), q = randomPoint(), r = randomPoint()
            #expect(abs(WGS84.distance(p, q) - WGS84.distance(q, p)) < 1e-6)
            #expect(WGS84.distance(p, r) <= WGS84.distance(p, q) + WGS84.distance(q, r) + 1e-6)
            #expect(WGS84.distance(p, p) == 0)
        }
    }

    @Test func pointsOnTheLineAreAtDistanceZero() {
        var rng = SplitMix64(seed: 12)
        for vertex in Self.demo.parts[0] { #expect(Self.demo.locate(vertex).distanceMeters < 1e-6) }
        for _ in 0..<2000 {
            // A point of an edge: the foot of a nearby point, back in latitude/longitude.
            let i = Int.random(in: 0..<Self.demo.segments.count, using: &rng)
            let s = Self.demo.segments[i]
            let mid = WGS84.geodetic((s.start + s.end) * 0.5)
            let near = WGS84.ecef(GeoPoint(lon: mid.lon + Double.random(in: -0.01...0.01, using: &rng), lat: mid.lat))
            guard case .interior(let foot) = s.nearest(to: near).foot else { continue }
            #expect(Self.demo.locate(WGS84.geodetic(foot)).distanceMeters < 0.001)
        }
    }

    /// A zone's edges drawn for maps lie at the zone's half-width from the line, on the side asked for (except where
    /// a sharp turn's mitre is limited, where they are at most twice as far).
    @Test func offsetEdgesLieAtTheHalfWidth() {
        for meters in [2_000.0, 15_000.0] {
            for (sign, left) in [(1.0, true), (-1.0, false)] {
                let edge = Self.demo.offset(by: sign * meters)[0]
                #expect(edge.count == Self.demo.parts[0].count)
                var close = 0
                for p in edge {
                    let position = Self.demo.locate(p)
                    #expect(position.isLeft == left || position.distanceMeters < 0.05 * meters)
                    #expect(position.distanceMeters <= 2.05 * meters)
                    if abs(position.distanceMeters - meters) < 0.05 * meters { close += 1 }
                }
                #expect(Double(close) >= 0.6 * Double(edge.count), "\(close) of \(edge.count) at \(meters) m")
            }
        }
    }

    @Test func sideFlipsAcrossTheLine() {
        var rng = SplitMix64(seed: 13)
        for _ in 0..<2000 {
            // A point of an edge, then 50 m to either side along the section plane's normal.
            let i = Int.random(in: 0..<Self.demo.segments.count, using: &rng)
            let s = Self.demo.segments[i]
            let t = Double.random(in: 0.1...0.9, using: &rng)
            guard case .interior(let foot) = s.nearest(to: s.start + (s.end - s.start) * t).foot else { continue }
            let l = Self.demo.locate(WGS84.geodetic(foot + s.normal * 50))
            let r = Self.demo.locate(WGS84.geodetic(foot - s.normal * 50))
            #expect(abs(l.distanceMeters - 50) < 0.5 && abs(r.distanceMeters - 50) < 0.5)
            #expect(l.isLeft && !r.isLeft, "edge \(i)")
        }
    }

    @Test func pointsOutsideTheGridAreStillAnswered() {
        // Beyond the indexed surroundings the query checks every edge: 1° of latitude north of a 10 km grid.
        let small = try! CeasefireLine(
            parts: [[GeoPoint(lon: 30, lat: 50), GeoPoint(lon: 30.1, lat: 50)]], indexedDistance: 10_000)
        let far = small.locate(GeoPoint(lon: 30.05, lat: 51))
        #expect(abs(far.distanceMeters - 111_239) < 200)
        #expect(far.isLeft)
    }

    @Test(
        arguments: [
            ([[GeoPoint]](), "no parts"),
            ([[GeoPoint(lon: 30, lat: 50)]], "at least two distinct vertices"),
            ([[GeoPoint(lon: 30, lat: 50), GeoPoint(lon: 30, lat: 50)]], "at least two distinct vertices"),
            ([[GeoPoint(lon: 30, lat: 50), GeoPoint(lon: 30, lat: 95)]], "outside -90…90"),
            ([[GeoPoint(lon: 30, lat: 50), GeoPoint(lon: .nan, lat: 50)]], "finite"),
            (
                [
                    [
                        GeoPoint(lon: 30, lat: 50), GeoPoint(lon: 31, lat: 51), GeoPoint(lon: 31, lat: 50),
                        GeoPoint(lon: 30, lat: 51),
                    ]
                ], "crosses itself"
            ),
            (
                [[GeoPoint(lon: 30, lat: 50), GeoPoint(lon: 31, lat: 50), GeoPoint(lon: 30.5, lat: 50)]],
                "crosses itself"
            ),
            (
                [
                    [GeoPoint(lon: 30, lat: 50), GeoPoint(lon: 31, lat: 50)],
                    [GeoPoint(lon: 30.5, lat: 49), GeoPoint(lon: 30.5, lat: 51)],
                ], "crosses itself"
            ),
            ([[GeoPoint(lon: 30, lat: 50), GeoPoint(lon: 34, lat: 50)]], "longer than 200000 m"),
        ] as [([[GeoPoint]], String)])
    func rejectsUnusableLines(parts: [[GeoPoint]], reason: String) {
        do {
            _ = try CeasefireLine(parts: parts)
            Issue.record("accepted \(parts)")
        } catch let error as GeometryError {
            #expect(error.description.contains(reason), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func multiLineStringPartsAreMeasuredInOrder() throws {
        let line = try CeasefireLine(parts: [
            [GeoPoint(lon: 30, lat: 50), GeoPoint(lon: 30.1, lat: 50)],
            [GeoPoint(lon: 30.2, lat: 50), GeoPoint(lon: 30.3, lat: 50)],
        ])
        let first = WGS84.distance(GeoPoint(lon: 30, lat: 50), GeoPoint(lon: 30.1, lat: 50))
        #expect(abs(line.lengthMeters - 2 * first) < 0.01)
        let p = line.locate(GeoPoint(lon: 30.25, lat: 50.01))
        #expect(abs(p.alongLineMeters - first * 1.5) < 5)
        #expect(p.isLeft)
    }
}
