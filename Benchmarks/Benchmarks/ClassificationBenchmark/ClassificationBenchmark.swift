import Benchmark
import Foundation
import GuarantorCore

// Classification of points around the real front line (set GUARANTOR_DATA, default ../../shared/data).
let benchmarks: @Sendable () -> Void = {
    let data = ProcessInfo.processInfo.environment["GUARANTOR_DATA"] ?? "../../shared/data"
    let lineURL = URL(fileURLWithPath: data + "/front-line-derived/front_line_20251201.geojson")
    let sectorsURL = URL(fileURLWithPath: data + "/ukraine-admin-boundaries/geoBoundaries-UKR-ADM1_simplified.geojson")
    guard let lineData = try? Data(contentsOf: lineURL), let sectorData = try? Data(contentsOf: sectorsURL),
        let lineValue = try? JSONValue.parse(lineData),
        let areas = try? GeoJSON.namedAreas(JSONValue.parse(sectorData)),
        let parts = try? GeoJSON.lineParts(lineValue)
    else {
        print("real data not found under \(data): set GUARANTOR_DATA to shared/data")
        return
    }
    let agreement = Agreement(
        id: "bench", title: "bench", effectiveAt: Timestamp(seconds: 0),
        parties: [
            Party(id: "UA", name: "Ukraine", referencePoint: GeoPoint(lon: 35.0462, lat: 48.4647)),
            Party(id: "RU", name: "Russian Federation", referencePoint: GeoPoint(lon: 39.3078, lat: 48.5740)),
        ],
        line: .inline(lineValue), sectors: .areas(path: "sectors"))
    guard let mission = try? Mission(agreement: agreement, lineParts: parts, areas: areas, sources: SourceRegistry([]))
    else { return }
    // 100,000 points within about 200 km of the line, from a fixed seed.
    var rng = SplitMix64(seed: 42)
    let vertices = parts[0]
    let points: [GeoPoint] = (0..<100_000).map { _ in
        let v = vertices[Int.random(in: 0..<vertices.count, using: &rng)]
        return GeoPoint(
            lon: v.lon + Double.random(in: -2.5...2.5, using: &rng),
            lat: v.lat + Double.random(in: -1.8...1.8, using: &rng))
    }

    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(3))
    Benchmark("Classify a point around the real front line (pool of 100k)", configuration: .init(scalingFactor: .kilo))
    {
        benchmark in
        var checksum = 0.0
        for i in benchmark.scaledIterations {
            checksum += mission.classify(points[i % points.count]).distanceToLineMeters
        }
        blackHole(checksum)
    }
}
