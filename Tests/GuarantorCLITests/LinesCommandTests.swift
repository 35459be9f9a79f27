import Foundation
import GuarantorCore
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
        let store = try Self.exampleStore(mission: mission)
        let compare = try CLI.guarantor([
            "lines", "compare", "--mission", mission.path, "agreement", "east", "--settlements",
            CLI.examples.appendingPathComponent("lines/settlements.geojson").path, "--store", store.path, "--out",
            out.path,
        ])
        #expect(compare.status == 0, "\(compare.stderr)")
        for file in ["summary.json", "settlements.ndjson", "areas.geojson", "summary.md"] {
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
        let noStore = try CLI.guarantor([
            "lines", "compare", "--mission", mission.path, "agreement", "east", "--store", "/nonexistent.sqlite",
            "--out", out.path,
        ])
        #expect(noStore.status != 0 && noStore.stderr.contains("no store"))
    }

    /// The objects of an NDJSON file.
    static func ndjson(_ url: URL) throws -> [[String: JSONValue]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try JSONValue.parse(Array($0.utf8)).object ?? [:]
        }
    }

    /// A store holding the example observations.
    static func exampleStore(mission: URL) throws -> URL {
        let store = try CLI.temporaryDirectory().appendingPathComponent("events.sqlite")
        let ingest = try CLI.guarantor([
            "ingest", "--mission", mission.path, "--store", store.path,
            CLI.examples.appendingPathComponent("observations.ndjson").path,
        ])
        #expect(ingest.status == 0, "\(ingest.stderr)")
        return store
    }

    /// The record's counts in summary.json are what the two what-if replays' files say, counted here on their own.
    @Test func theRecordsCountsAreWhatTwoReplaysGive() throws {
        let mission = CLI.examples.appendingPathComponent("mission")
        let store = try Self.exampleStore(mission: mission)
        var findings: [[String: (rule: String, party: String)]] = []
        var sides: [[String: String]] = []
        for line in ["agreement", "east"] {
            let out = try CLI.temporaryDirectory()
            let run = try CLI.guarantor([
                "replay", "--mission", mission.path, "--store", store.path, "--line", line, "--out", out.path,
            ])
            #expect(run.status == 0, "\(run.stderr)")
            var byId: [String: (rule: String, party: String)] = [:]
            for row in try Self.ndjson(out.appendingPathComponent("violations.ndjson")) {
                byId[row["id"]!.string!] = (row["rule"]!.string!, row["attributedTo"]!.string!)
            }
            findings.append(byId)
            var side: [String: String] = [:]
            for row in try Self.ndjson(out.appendingPathComponent("observations.ndjson")) {
                side[row["id"]!.string!] = row["side"]!.string!
            }
            sides.append(side)
        }
        let out = try CLI.temporaryDirectory()
        let compare = try CLI.guarantor([
            "lines", "compare", "--mission", mission.path, "agreement", "east", "--store", store.path, "--out",
            out.path,
        ])
        #expect(compare.status == 0, "\(compare.stderr)")
        let summary = try JSONValue.parse(Data(contentsOf: out.appendingPathComponent("summary.json"))).object!
        let record = summary["record"]!.object!
        let toUA = sides[0].keys.filter { sides[0][$0] != "UA" && sides[1][$0] == "UA" }.count
        #expect(record["observations"]?.object?["sideChangedTo"]?.object?["UA"] == .number(Double(toUA)))
        #expect(toUA > 0)
        let perRule = record["violations"]!.object!["perRule"]!.object!
        var checked = 0
        for (rule, counts) in perRule {
            let c = counts.object!
            let a = findings[0].filter { $0.value.rule == rule }, b = findings[1].filter { $0.value.rule == rule }
            #expect(c["underA"] == .number(Double(a.count)) && c["underB"] == .number(Double(b.count)), "\(rule)")
            #expect(c["onlyUnderA"] == .number(Double(a.keys.filter { b[$0] == nil }.count)), "\(rule)")
            #expect(c["onlyUnderB"] == .number(Double(b.keys.filter { a[$0] == nil }.count)), "\(rule)")
            let changed = a.filter { id, v in b[id].map { $0.party != v.party } ?? false }.count
            #expect(c["attributionChanged"] == .number(Double(changed)), "\(rule)")
            checked += a.count + b.count
        }
        #expect(checked > 0)
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
