import Foundation
import GuarantorCore

// Usage: GeometryThroughput LINE.geojson SECTORS.geojson POINTS.bin [--repeat N] [--out CLASSIFIED.csv]
// POINTS.bin: little-endian float64 pairs (lon, lat). Prints one line: `guarantor <points> <seconds> <points/s>`,
// the best of N timed passes over all points on one core (side + distance + along + zones + sector).
let arguments = CommandLine.arguments
guard arguments.count >= 4 else {
    FileHandle.standardError.write(
        Data("usage: GeometryThroughput LINE.geojson SECTORS.geojson POINTS.bin [--repeat N] [--out FILE]\n".utf8))
    exit(2)
}
func option(_ name: String) -> String? {
    arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}
let repeats = Int(option("--repeat") ?? "5") ?? 5

let lineValue = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: arguments[1])))
let areas = try GeoJSON.namedAreas(JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: arguments[2]))))
let agreement = Agreement(
    id: "bench", title: "bench", effectiveAt: Timestamp(seconds: 0),
    parties: [
        Party(id: "UA", name: "Ukraine", referencePoint: GeoPoint(lon: 35.0462, lat: 48.4647)),
        Party(id: "RU", name: "Russian Federation", referencePoint: GeoPoint(lon: 39.3078, lat: 48.5740)),
    ],
    line: .inline(lineValue), sectors: .areas(path: arguments[2]))
let buildStart = DispatchTime.now()
let mission = try Mission(
    agreement: agreement, lineParts: GeoJSON.lineParts(lineValue), areas: areas, sources: SourceRegistry([]))
let buildSeconds = Double(DispatchTime.now().uptimeNanoseconds - buildStart.uptimeNanoseconds) / 1e9

let raw = try Data(contentsOf: URL(fileURLWithPath: arguments[3]))
let points: [GeoPoint] = raw.withUnsafeBytes { buffer in
    let doubles = buffer.bindMemory(to: Double.self)
    return stride(from: 0, to: doubles.count - 1, by: 2).map { GeoPoint(lon: doubles[$0], lat: doubles[$0 + 1]) }
}

var results = [Classification](
    repeating: Classification(party: 0, distanceToLineMeters: 0, alongLineMeters: 0, zones: 0, sector: -1),
    count: points.count)
var best = Double.infinity
for _ in 0..<repeats {
    let start = DispatchTime.now()
    points.withUnsafeBufferPointer { input in
        results.withUnsafeMutableBufferPointer { output in
            for i in input.indices { output[i] = mission.classify(input[i]) }
        }
    }
    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
}
if let out = option("--out") {
    var text = "distanceMeters,side,sector\n"
    for c in results {
        text +=
            "\(c.distanceToLineMeters),\(mission.agreement.parties[c.party].id),\(c.sector < 0 ? "" : mission.sectors.names[Int(c.sector)])\n"
    }
    try Data(text.utf8).write(to: URL(fileURLWithPath: out))
}
print(
    String(
        format: "guarantor %d %.4f %.0f (index built in %.2f s)", points.count, best, Double(points.count) / best,
        buildSeconds))
