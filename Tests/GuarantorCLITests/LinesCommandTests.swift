import Foundation
import GuarantorTesting
import Testing

/// `guarantor lines` and `replay --line`, run as a user runs them.
@Suite struct LinesCommandTests {
    typealias CLI = CommandLineTests

    /// A copy of the example mission without its candidates.
    static func bareMission() throws -> URL {
        let directory = try CLI.temporaryDirectory().appendingPathComponent("mission")
        try FileManager.default.copyItem(at: CLI.examples.appendingPathComponent("mission"), to: directory)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("lines.json"))
        try FileManager.default.removeItem(at: directory.appendingPathComponent("lines"))
        return directory
    }

    @Test func addListAndCompareGiveTheDocumentedFiles() throws {
        let mission = try Self.bareMission()
        let east = CLI.examples.appendingPathComponent("mission/lines/east.geojson").path
        let add = try CLI.guarantor([
            "lines", "add", mission.path, "--id", "east", "--title", "Donetsk stretch east", "--source", "example",
            "--date", "2026-11-20", east,
        ])
        #expect(add.status == 0, "\(add.stderr)")
        #expect(add.stdout.contains("added line east: 697.9 km"))
        // The same id again, a bad date or a line that is not one: refused, and lines.json unchanged.
        let index = try Data(contentsOf: mission.appendingPathComponent("lines.json"))
        #expect(index == (try Data(contentsOf: CLI.examples.appendingPathComponent("mission/lines.json"))))
        let again = try CLI.guarantor(["lines", "add", mission.path, "--id", "east", "--title", "x", east])
        #expect(again.status != 0 && again.stderr.contains("already exists"))
        let badDate = try CLI.guarantor([
            "lines", "add", mission.path, "--id", "other", "--title", "x", "--date", "2026-13-40", east,
        ])
        #expect(badDate.status != 0 && badDate.stderr.contains("date"))
        let notALine = try CLI.guarantor([
            "lines", "add", mission.path, "--id", "points", "--title", "x",
            CLI.examples.appendingPathComponent("lines/settlements.geojson").path,
        ])
        #expect(notALine.status != 0 && notALine.stderr.contains("settlements.geojson"), "\(notALine.stderr)")
        #expect(try Data(contentsOf: mission.appendingPathComponent("lines.json")) == index)
        #expect(!FileManager.default.fileExists(atPath: mission.appendingPathComponent("lines/points.geojson").path))

        let list = try CLI.guarantor(["lines", "list", mission.path])
        #expect(list.status == 0 && list.stdout.contains("agreement") && list.stdout.contains("2026-11-20"))

        let out = try CLI.temporaryDirectory()
        let compare = try CLI.guarantor([
            "lines", "compare", "--mission", mission.path, "agreement", "east", "--settlements",
            CLI.examples.appendingPathComponent("lines/settlements.geojson").path, "--out", out.path,
        ])
        #expect(compare.status == 0, "\(compare.stderr)")
        for file in ["summary.json", "settlements.ndjson", "summary.md"] {
            let produced = try Data(contentsOf: out.appendingPathComponent(file))
            let documented = try Data(contentsOf: CLI.examples.appendingPathComponent("lines/compare/\(file)"))
            #expect(produced == documented, "\(file)")
        }
        // A GeoJSON file serves as well as a candidate's id; an unknown name is refused.
        let byFile = try CLI.guarantor([
            "lines", "compare", "--mission", mission.path, "agreement", east, "--out", out.path,
        ])
        #expect(byFile.status == 0 && byFile.stdout.contains("697.9 km"), "\(byFile.stderr)")
        let unknown = try CLI.guarantor([
            "lines", "compare", "--mission", mission.path, "agreement", "west", "--out", out.path,
        ])
        #expect(unknown.status != 0 && unknown.stderr.contains("no line \"west\""))
    }

    @Test func aWhatIfReplayReadsTheRecordUnderACandidate() throws {
        let mission = CLI.examples.appendingPathComponent("mission").path
        let observations = CLI.examples.appendingPathComponent("observations.ndjson").path
        let (asAgreed, underEast) = (try CLI.temporaryDirectory(), try CLI.temporaryDirectory())
        for (out, line) in [(asAgreed, nil), (underEast, "east")] as [(URL, String?)] {
            let run = try CLI.guarantor(
                ["replay", "--mission", mission, "--observations", observations, "--out", out.path]
                    + (line.map { ["--line", $0] } ?? []))
            #expect(run.status == 0, "\(run.stderr)")
        }
        let agreed = try String(contentsOf: asAgreed.appendingPathComponent("observations.ndjson"), encoding: .utf8)
        let east = try String(contentsOf: underEast.appendingPathComponent("observations.ndjson"), encoding: .utf8)
        #expect(agreed != east)
        // The agreement's own line by name is the same replay.
        let named = try CLI.temporaryDirectory()
        _ = try CLI.guarantor([
            "replay", "--mission", mission, "--observations", observations, "--out", named.path, "--line", "agreement",
        ])
        for file in ["incidents.ndjson", "violations.ndjson"] {
            #expect(
                try Data(contentsOf: named.appendingPathComponent(file))
                    == Data(contentsOf: asAgreed.appendingPathComponent(file)))
        }
    }
}
