import ArgumentParser
import Foundation
import GuarantorCore
import GuarantorStore

/// `guarantor demo`: a whole run on a hand-traced line, for a newcomer.
public struct DemoCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract:
            "Build a demo mission on a hand-traced line, ingest and classify sample observations, print a summary.")

    @Option(help: "Where to write the demo mission, store and outputs.")
    var out = "guarantor-demo"

    @Option(help: "How many sample observations to generate.")
    var count = 2_000

    @Option(help: "Seed of the sample generator.")
    var seed: UInt64 = 7

    public init() {}

    public func run() throws {
        let root = URL(fileURLWithPath: out, isDirectory: true)
        let missionDirectory = try Self.createMission(in: root)
        let mission = try Files.loadMission(missionDirectory.path)

        let observationsFile = root.appendingPathComponent("observations.ndjson")
        let sample = DemoObservations.generate(mission: mission, count: count, seed: seed)
        try Files.write(sample, to: observationsFile)
        let batch = try Files.parseObservations(observationsFile.path, mission: mission)

        let storePath = root.appendingPathComponent("events.sqlite").path
        let result: EventStore.IngestResult
        do {
            // A simulated mission's receipts are simulated too: each report reaches the store when it is filed.
            result = try EventStore(path: storePath, missionId: "demo").ingest(
                batch.observations.map { $0.received(at: $0.reportedAt ?? $0.observedAt) })
        } catch let error as StoreError {
            throw CLIError("\(error)")
        }
        let started = DispatchTime.now()
        let output = try ReplayCommand.replay(mission: mission, batch: batch, to: root.appendingPathComponent("replay"))
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9

        print("Guarantor demo: \(mission.agreement.title)")
        print("  line through \(Self.townsOnLine) — \(Int(mission.line.lengthMeters / 1000)) km")
        print("  mission: \(missionDirectory.path)")
        print(
            "  "
                + IngestCommand.summary(file: observationsFile.path, total: batch.observations.count, result: result)
                .replacingOccurrences(of: "\n", with: "\n  "))
        print(
            "  classified \(batch.observations.count.grouped) observations in \(String(format: "%.3f", seconds)) s → \(root.path)/replay/observations.ndjson"
        )
        print()
        print(Summary(mission: mission, classifications: output.classifications).text)
        print()
        print("Next: guarantor serve --demo, then open http://127.0.0.1:8080/ — the mission on a map, live.")
    }

    /// Writes the demo mission (the hand-traced line, default zones, sources, coalition and triggers) into
    /// `root/mission` and returns its directory.
    static func createMission(
        in root: URL, effectiveAt: Timestamp = Timestamp(rfc3339: "2026-01-01T00:00:00Z")!
    ) throws -> URL {
        let missionDirectory = root.appendingPathComponent("mission", isDirectory: true)
        guard let line = Bundle.module.url(forResource: "Demo/demo-line", withExtension: "geojson") else {
            throw CLIError("the demo line is missing from the tool's resources")
        }
        try MissionInitCommand.create(
            at: missionDirectory, missionId: "demo", title: "Demo ceasefire (hand-traced line)",
            effectiveAt: effectiveAt,
            // Reference points: Dnipro for Ukraine, Luhansk for Russia.
            parties: [
                Party(id: "UA", name: "Ukraine", referencePoint: GeoPoint(lon: 35.0462, lat: 48.4647)),
                Party(id: "RU", name: "Russian Federation", referencePoint: GeoPoint(lon: 39.3078, lat: 48.5740)),
            ],
            lineFile: line, sectorsFile: nil, sectorLength: 50_000, force: true)
        return missionDirectory
    }

    static let townsOnLine = "Kupiansk, Lyman, Bakhmut, Pokrovsk, Huliaipole, Orikhiv, Enerhodar, Kherson"
}

/// Counts by side, zone and sector, as a small table for a terminal.
struct Summary {
    let mission: Mission
    let classifications: [Classification]

    var text: String {
        var bySide = [Int](repeating: 0, count: 2)
        var byZone = [Int](repeating: 0, count: mission.agreement.zones.count + 1)
        var bySector = [Int](repeating: 0, count: mission.sectors.names.count + 1)
        for c in classifications {
            bySide[c.party] += 1
            // Each observation under its narrowest zone; the last row is "outside every zone".
            byZone[c.zones == 0 ? mission.agreement.zones.count : c.zones.trailingZeroBitCount] += 1
            bySector[c.sector < 0 ? mission.sectors.names.count : Int(c.sector)] += 1
        }
        var lines: [String] = []
        func row(_ label: String, _ count: Int) -> String {
            let bar = String(
                repeating: "█",
                count: classifications.isEmpty ? 0 : (count * 40 + classifications.count - 1) / classifications.count)
            return "  " + label.padding(toLength: 26, withPad: " ", startingAt: 0) + String(count.grouped).leftPadded(8)
                + "  " + bar
        }
        lines.append("By side of the line")
        for (i, party) in mission.agreement.parties.enumerated() {
            lines.append(row("\(party.id) (\(party.name))", bySide[i]))
        }
        lines.append("By zone (narrowest zone each lies in)")
        for (i, zone) in mission.agreement.zones.enumerated() {
            lines.append(row("\(zone.id) ≤ \(Int(zone.halfWidthMeters / 1000)) km", byZone[i]))
        }
        lines.append(row("outside every zone", byZone[mission.agreement.zones.count]))
        lines.append("By sector")
        for (i, name) in mission.sectors.names.enumerated() where bySector[i] > 0 {
            lines.append(row(name, bySector[i]))
        }
        if bySector.last! > 0 { lines.append(row("no sector", bySector.last!)) }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

/// Sample observations around a mission's line: reproducible from a seed, for the demo.
enum DemoObservations {
    static func generate(mission: Mission, count: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        let vertices = mission.line.parts[0]
        let sources = mission.sources.sources
        let start = mission.agreement.effectiveAt.nanoseconds + 86_400 * 1_000_000_000
        let kinds: [(ObservationKind, WeaponClass?)] = [
            (.artilleryFire, .artillery100mmPlus), (.mortarFire, .mortarUpTo120mm), (.explosion, nil),
            (.smallArmsFire, .smallArms),
            (.heavyWeaponSighting, .tank), (.heavyWeaponSighting, .mlrs), (.droneFlight, .uav), (.troopMovement, nil),
        ]
        var sample: [UInt8] = []
        for i in 0..<count {
            let k = Int.random(in: 0..<(vertices.count - 1), using: &rng)
            let t = Double.random(in: 0..<1, using: &rng)
            let a = vertices[k], b = vertices[k + 1]
            let onLine = GeoPoint(lon: a.lon + (b.lon - a.lon) * t, lat: a.lat + (b.lat - a.lat) * t)
            // Perpendicular offset in local metres, mostly near the line.
            let metresPerDegreeLat = 111_320.0, metresPerDegreeLon = 111_320.0 * cos(onLine.lat * .pi / 180)
            let dx = (b.lon - a.lon) * metresPerDegreeLon, dy = (b.lat - a.lat) * metresPerDegreeLat
            let norm = (dx * dx + dy * dy).squareRoot()
            let offset =
                Double.random(in: 0..<1, using: &rng) < 0.5
                ? Double.random(in: -5_000...5_000, using: &rng) : Double.random(in: -80_000...80_000, using: &rng)
            let point = GeoPoint(
                lon: onLine.lon + (-dy / norm) * offset / metresPerDegreeLon,
                lat: onLine.lat + (dx / norm) * offset / metresPerDegreeLat)
            let (kind, weapon) = kinds[Int.random(in: 0..<kinds.count, using: &rng)]
            let source = sources[Int.random(in: 0..<sources.count, using: &rng)]
            let observedAt = Timestamp(nanoseconds: start + Int64(i) * 43_000_000_000)
            let observation = Observation(
                id: "demo-\(i + 1)", source: source.id, observedAt: observedAt, kind: kind,
                location: Location(
                    point: GeoPoint(lon: (point.lon * 1e6).rounded() / 1e6, lat: (point.lat * 1e6).rounded() / 1e6),
                    uncertaintyMeters: [25.0, 100, 250, 1000][Int.random(in: 0..<4, using: &rng)]),
                weaponClass: weapon)
            var line = observation.canonicalJSON
            line.append(0x0A)
            sample.append(contentsOf: line)
        }
        return sample
    }
}
