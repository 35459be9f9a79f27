import Foundation
import GuarantorCore
import GuarantorStore
import GuarantorTesting
import Testing

/// The engine's work split by sector: the real line's oblasts as separate partitions, each engine fed its oblast and
/// a halo around it, their incidents merged — exactly the single engine's files.
@Suite struct PartitionTests {
    @Test(.enabled(if: TestData.hasSharedData, "needs ../shared/data (GUARANTOR_DATA)"))
    func theOblastsAsPartitionsMergeIntoTheSingleEnginesFiles() throws {
        let dir = try CommandLineTests.temporaryDirectory()
        let directory = dir.appendingPathComponent("mission").path
        let run = try CommandLineTests.guarantor([
            "mission", "init", directory, "--line", TestData.realFrontLine.path, "--sectors", TestData.oblasts.path,
            "--party", "UA=35.0462,48.4647", "--party", "RU=39.3078,48.5740",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let mission = try MissionDirectory.load(URL(fileURLWithPath: directory))
        // Realistic noise: late patrol reports join incidents across the partitions too.
        let (observations, _, deliveries) = Simulator.run(mission: mission, seed: 4, hours: 48, noise: .realistic)
        let actions = deliveries.map { MissionAction.guarantee($0) }
        let single = Replay.run(
            mission: mission, batch: ObservationBatch(observations: observations, lineNumbers: []), actions: actions)

        // One partition per oblast the record touches, and one for the points outside every oblast.
        var sectors = Set(observations.map { mission.classify($0.location.point).sector })
        sectors.insert(-1)
        let partitions = SectorPartition.split(mission: mission, into: sectors.sorted().map { [$0] })
        var verificationOnly = mission
        verificationOnly.coalition = nil
        var engines = partitions.map { _ in MissionEngine(mission: verificationOnly) }
        var fed = [Int](repeating: 0, count: partitions.count)
        for o in observations {
            for i in partitions.indices {
                if partitions[i].feeds(o) {
                    engines[i].add(o)
                    fed[i] += 1
                } else {
                    engines[i].noteElsewhere(o)
                }
            }
        }
        #expect(partitions.count >= 4, "\(partitions.count) partitions")
        #expect(fed.allSatisfy { $0 < observations.count }, "each partition sees only part of the record: \(fed)")

        // Each incident from the partition it belongs to, and from no other.
        let byId = Dictionary(uniqueKeysWithValues: observations.map { ($0.id, $0) })
        var merged: [String: IncidentRecord] = [:]
        var atEdge = 0
        for i in engines.indices {
            engines[i].finish()
            for case .upsert(let record, _) in engines[i].takeChanges().units {
                let members = record.incident.observationIds.map { byId[$0]! }
                guard partitions[i].owns(record, earliest: members[0]) else { continue }
                #expect(merged[record.incident.id] == nil, "\(record.incident.id) belongs to two partitions")
                merged[record.incident.id] = record
                if partitions[i].atEdge(members) { atEdge += 1 }
            }
        }
        #expect(atEdge == 0, "\(atEdge) incidents reach the edge of their partition's halo")
        var changes = EngineChanges()
        changes.units = merged.values.map { .upsert($0, .sealed) }
        var tally: [String: ImpedimentCount] = [:]
        for record in merged.values {
            if let count = record.impediment { MissionEngine.tally(count, into: &tally) }
        }
        changes.impediments = MissionEngine.ordered(tally)
        var fold = ResultFold(standingFindings: engines[0].standingFindings)
        fold.apply(changes)
        // The guarantee is the mission's, over every partition's findings.
        let clock = (observations.map(\.observedAt) + actions.map(\.at)).max()!
        var guarantee = EngineChanges()
        guarantee.guarantee = GuaranteeEngine(mission: mission)!.run(
            incidents: fold.verification.incidents, violations: fold.verification.violations, actions: deliveries,
            clock: clock)
        fold.apply(guarantee)
        let output = Replay.output(
            mission: mission, fold: fold, actions: actions, observations: [], classifications: [], lateObservations: 0)
        let expected = Dictionary(uniqueKeysWithValues: single.files)
        for (name, bytes) in output.files where name != "observations.ndjson" {
            let same = bytes == expected[name]!
            #expect(
                same,
                "\(name): \(bytes.count) bytes merged, \(expected[name]!.count) from one engine")
        }
        #expect(merged.count == single.incidentCount && single.incidentCount > 1_000)
    }
}
