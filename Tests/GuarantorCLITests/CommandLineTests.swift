import Foundation
import GuarantorCore
import GuarantorTesting
import Testing

/// The `guarantor` executable, run as a user runs it.
@Suite struct CommandLineTests {
    struct Run { var status: Int32; var stdout: String; var stderr: String }

    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("guarantor")
    }

    static func guarantor(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("guarantor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static let examples = TestData.repositoryRoot.appendingPathComponent("docs/examples")

    static let replayFiles = [
        "observations.ndjson", "incidents.ndjson", "violations.ndjson", "actions.ndjson", "impediments.ndjson",
        "alerts.ndjson", "obligations.ndjson", "statements.ndjson", "sanctions.ndjson",
    ]

    @Test func helpListsTheCommands() throws {
        let run = try Self.guarantor(["--help"])
        #expect(run.status == 0)
        for command in ["mission", "ingest", "replay", "demo"] {
            #expect(run.stdout.contains("  \(command)"), "\(command)")
        }
    }

    @Test func theDocumentedExamplesReplayToTheDocumentedOutput() throws {
        let out = try Self.temporaryDirectory()
        let run = try Self.guarantor([
            "replay", "--mission", Self.examples.appendingPathComponent("mission").path,
            "--observations", Self.examples.appendingPathComponent("observations.ndjson").path,
            "--actions", Self.examples.appendingPathComponent("actions.ndjson").path, "--out", out.path,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        for file in Self.replayFiles {
            let produced = try Data(contentsOf: out.appendingPathComponent(file))
            let documented = try Data(contentsOf: Self.examples.appendingPathComponent("replay/" + file))
            #expect(produced == documented, "\(file)")
        }
        let areas = try GeoJSON.namedAreas(
            JSONValue.parse(Data(contentsOf: Self.examples.appendingPathComponent("sectors.geojson"))))
        #expect(areas.map(\.name) == ["North", "South"])
    }

    @Test func initIngestTwiceAndReplayTwice() throws {
        let dir = try Self.temporaryDirectory()
        let mission = dir.appendingPathComponent("mission").path
        let initRun = try Self.guarantor([
            "mission", "init", mission, "--line", TestData.demoLine.path,
            "--party", "UA=35.0462,48.4647", "--party", "RU=39.3078,48.5740",
        ])
        #expect(initRun.status == 0, "\(initRun.stderr)")
        #expect(initRun.stdout.contains("RU on the left"))
        let sources = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: mission + "/sources.json")))
        guard case .object(let root) = sources, case .array(let list)? = root["sources"] else {
            Issue.record("sources.json shape"); return
        }
        #expect(list.count == 12)

        let observations = Self.examples.appendingPathComponent("observations.ndjson").path
        let store = dir.appendingPathComponent("events.sqlite").path
        let first = try Self.guarantor(["ingest", "--mission", mission, "--store", store, observations])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("9 observations, 9 appended, 0 already stored"))
        let second = try Self.guarantor(["ingest", "--mission", mission, "--store", store, observations])
        #expect(second.stdout.contains("0 appended, 9 already stored (nothing added)"))
        #expect(second.stdout.contains("event log: 9 events"))

        let a = dir.appendingPathComponent("a").path, b = dir.appendingPathComponent("b").path
        #expect(
            try Self.guarantor(["replay", "--mission", mission, "--observations", observations, "--out", a]).status == 0
        )
        #expect(
            try Self.guarantor(["replay", "--mission", mission, "--observations", observations, "--out", b]).status == 0
        )
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: a + "/observations.ndjson"))
                == Data(contentsOf: URL(fileURLWithPath: b + "/observations.ndjson")))
    }

    @Test func aFileWithBadLinesIsRejectedWholeAndTheStoreIsUnchanged() throws {
        let dir = try Self.temporaryDirectory()
        let mission = Self.examples.appendingPathComponent("mission").path
        let store = dir.appendingPathComponent("events.sqlite").path
        let good = Self.examples.appendingPathComponent("observations.ndjson").path
        #expect(try Self.guarantor(["ingest", "--mission", mission, "--store", store, good]).status == 0)

        let bad = dir.appendingPathComponent("bad.ndjson")
        try """
        {"id":"n1","source":"us-acoustic-07","observedAt":"2026-03-02T00:00:00Z","kind":"explosion","location":{"lon":37.9,"lat":48.5,"uncertaintyMeters":100}}
        {"id":"n2","source":"nobody","observedAt":"2026-03-02T00:00:00Z","kind":"explosion","location":{"lon":37.9,"lat":48.5,"uncertaintyMeters":100}}
        {"id":"n3","source":"us-acoustic-07","observedAt":"2026-03-02T00:00:00Z","kind":"explosion","location":{"lon":37.9,"lat":91.5,"uncertaintyMeters":100}}
        {"id":"n4",
        {"id":"n1","source":"us-acoustic-07","observedAt":"2026-03-02T00:00:00Z","kind":"explosion","location":{"lon":37.9,"lat":48.5,"uncertaintyMeters":100}}
        """.write(to: bad, atomically: true, encoding: .utf8)
        let run = try Self.guarantor(["ingest", "--mission", mission, "--store", store, bad.path])
        #expect(run.status != 0)
        #expect(run.stderr.contains("4 errors, nothing was stored"))
        #expect(run.stderr.contains("line 2: source: unknown source \"nobody\""))
        #expect(run.stderr.contains("line 3: location.lat: lat 91.5 is outside -90…90"))
        #expect(run.stderr.contains("line 4: malformed JSON"))
        #expect(run.stderr.contains("line 5: id: duplicate id \"n1\" (first on line 1)"))
        let again = try Self.guarantor(["ingest", "--mission", mission, "--store", store, good])
        #expect(again.stdout.contains("event log: 9 events"))
    }

    @Test func emptyMissingAndHugeFilesGetClearErrors() throws {
        let dir = try Self.temporaryDirectory()
        let mission = Self.examples.appendingPathComponent("mission").path
        let store = dir.appendingPathComponent("events.sqlite").path
        let empty = dir.appendingPathComponent("empty.ndjson")
        try Data().write(to: empty)
        let emptyRun = try Self.guarantor(["ingest", "--mission", mission, "--store", store, empty.path])
        #expect(emptyRun.status != 0 && emptyRun.stderr.contains("the file is empty (0 bytes)"))
        let missing = try Self.guarantor([
            "ingest", "--mission", mission, "--store", store, dir.appendingPathComponent("nope").path,
        ])
        #expect(missing.status != 0 && missing.stderr.contains("no such file"))
        // A sparse file of 1 GiB: refused by its size before it is read.
        let huge = dir.appendingPathComponent("huge.ndjson")
        #expect(FileManager.default.createFile(atPath: huge.path, contents: nil))
        let handle = try FileHandle(forWritingTo: huge)
        try handle.truncate(atOffset: 1 << 30)
        try handle.close()
        let hugeRun = try Self.guarantor(["ingest", "--mission", mission, "--store", store, huge.path])
        #expect(hugeRun.status != 0 && hugeRun.stderr.contains("is 1024 MiB; files over 512 MiB must be split"))
        let after = try Self.guarantor([
            "ingest", "--mission", mission, "--store", store,
            Self.examples.appendingPathComponent("observations.ndjson").path,
        ])
        #expect(after.stdout.contains("9 appended"), "the refused files left something in the store")
    }

    @Test func missionInitRefusesBadInputAndWritesNothing() throws {
        let dir = try Self.temporaryDirectory()
        let crossing = dir.appendingPathComponent("crossing.geojson")
        try #"{"type":"LineString","coordinates":[[30,50],[31,51],[31,50],[30,51]]}"#.write(
            to: crossing, atomically: true, encoding: .utf8)
        let malformed = dir.appendingPathComponent("malformed.geojson")
        try #"{"type":"LineString","coordinates":[[30,50],[31,51]"#.write(
            to: malformed, atomically: true, encoding: .utf8)
        let outOfRange = dir.appendingPathComponent("range.geojson")
        try #"{"type":"LineString","coordinates":[[30,50],[31,95]]}"#.write(
            to: outOfRange, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["--line", crossing.path, "--party", "A=29,50.5", "--party", "B=32,50.5"], "the line crosses itself"),
            (["--line", malformed.path, "--party", "A=29,50.5", "--party", "B=32,50.5"], "malformed JSON"),
            (
                ["--line", outOfRange.path, "--party", "A=29,50.5", "--party", "B=32,50.5"],
                "coordinates[1]: lat 95.0 is outside -90…90"
            ),
            (
                ["--line", TestData.demoLine.path, "--party", "UA=37.8020,48.9890", "--party", "RU=39.3,48.5"],
                "parties[0].referencePoint: is 0 m from the line"
            ),
            (["--line", TestData.demoLine.path, "--party", "UA=35,48.4"], "give exactly two --party"),
            (
                ["--line", TestData.demoLine.path, "--party", "UA=35,48.4", "--party", "RU=200,48"],
                "expected ID=LON,LAT"
            ),
        ]
        for (arguments, message) in cases {
            let target = dir.appendingPathComponent("m-\(UUID().uuidString)")
            let run = try Self.guarantor(["mission", "init", target.path] + arguments)
            #expect(run.status != 0)
            #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: target.path))
        }
    }

    @Test func aBrokenMissionFileIsNamedWithItsPath() throws {
        let dir = try Self.temporaryDirectory()
        for name in ["agreement.json", "sources.json", "line.geojson"] {
            try FileManager.default.copyItem(
                at: Self.examples.appendingPathComponent("mission/\(name)"), to: dir.appendingPathComponent(name))
        }
        let sources = dir.appendingPathComponent("sources.json")
        let text = try String(contentsOf: sources, encoding: .utf8).replacingOccurrences(
            of: "\"acoustic\"", with: "\"sonar\"")
        try text.write(to: sources, atomically: true, encoding: .utf8)
        let run = try Self.guarantor([
            "replay", "--mission", dir.path, "--observations",
            Self.examples.appendingPathComponent("observations.ndjson").path,
            "--out", dir.appendingPathComponent("out").path,
        ])
        #expect(run.status != 0)
        #expect(run.stderr.contains("sources.json: sources[0].kind: \"sonar\" is not one of"), "\(run.stderr)")
    }
}

/// The verification engine end to end: simulate a day on the demo line, replay it, score it against the truth.
@Suite struct SimulationTests {
    @Test(arguments: [1, 2] as [UInt64])
    func aSimulatedDayIsScoredAgainstItsTruth(seed: UInt64) throws {
        let dir = try CommandLineTests.temporaryDirectory()
        let mission = dir.appendingPathComponent("mission").path
        _ = try CommandLineTests.guarantor([
            "mission", "init", mission, "--line", TestData.demoLine.path, "--party", "UA=35.0462,48.4647", "--party",
            "RU=39.3078,48.5740",
        ])
        let sim = dir.appendingPathComponent("sim").path, out = dir.appendingPathComponent("out").path
        let simulate = try CommandLineTests.guarantor([
            "simulate", "--mission", mission, "--seed", "\(seed)", "--hours", "24", "--out", sim,
        ])
        #expect(simulate.status == 0, "\(simulate.stderr)")
        let replay = try CommandLineTests.guarantor([
            "replay", "--mission", mission, "--observations", sim + "/observations.ndjson", "--out", out,
        ])
        #expect(replay.status == 0, "\(replay.stderr)")
        let score = try CommandLineTests.guarantor(["score", "--truth", sim + "/truth.ndjson", "--results", out])
        #expect(score.status == 0, "\(score.stderr)")
        print(score.stdout)
        func figure(_ label: String, _ name: String) -> Double {
            let line = score.stdout.split(separator: "\n").first { $0.hasPrefix(label) } ?? ""
            guard let range = line.range(of: name + " ") else { return -1 }
            return Double(line[range.upperBound...].prefix { $0 == "." || $0.isNumber }) ?? -1
        }
        // Measured levels of the default (strict) policy; see docs/VERIFICATION.md.
        #expect(figure("clustering", "F1") >= 0.95)
        #expect(figure("verified violations", "precision") >= 0.98)
        #expect(figure("verified violations", "recall") >= 0.85)
        let attribution =
            score.stdout.split(separator: "\n").first { $0.hasPrefix("attribution") }.map(String.init) ?? ""
        #expect((Double(attribution.split(separator: " ").dropFirst(2).first ?? "") ?? 0) >= 0.95, "\(attribution)")
        // Replaying twice gives the same bytes.
        let again = dir.appendingPathComponent("again").path
        _ = try CommandLineTests.guarantor([
            "replay", "--mission", mission, "--observations", sim + "/observations.ndjson", "--out", again,
        ])
        for file in ["observations.ndjson", "incidents.ndjson", "violations.ndjson"] {
            #expect(
                try Data(contentsOf: URL(fileURLWithPath: out + "/" + file))
                    == Data(contentsOf: URL(fileURLWithPath: again + "/" + file)))
        }
    }
}

extension CommandLineTests {
    /// A new API key, through `guarantor keys create` (its last line of output).
    static func createKey(mission: String, store: String, member: String, user: String, role: String) throws
        -> String
    {
        let run = try guarantor([
            "keys", "create", "--mission", mission, "--store", store, "--member", member, "--user", user, "--role",
            role,
        ])
        return String(run.stdout.split(separator: "\n").last ?? "")
    }

    /// Analysts act through the store: each action is checked against the log first, a refused one is not stored, and
    /// replaying the store gives what replaying the files gives.
    @Test func reviewActionsGoThroughTheLogAndReplayFromTheStore() throws {
        let dir = try Self.temporaryDirectory()
        let mission = Self.examples.appendingPathComponent("mission").path
        let store = dir.appendingPathComponent("events.sqlite").path
        let ingest = try Self.guarantor([
            "ingest", "--mission", mission, "--store", store,
            Self.examples.appendingPathComponent("observations.ndjson").path,
        ])
        #expect(ingest.status == 0, "\(ingest.stderr)")
        func act(_ arguments: [String]) throws -> Run {
            try Self.guarantor(["review", "act", "--mission", mission, "--store", store] + arguments)
        }
        func key(_ member: String, _ user: String, _ role: String) throws -> String {
            try Self.createKey(mission: mission, store: store, member: member, user: user, role: role)
        }
        let us = try key("US", "us-analyst-2", "analyst"), uk = try key("UK", "uk-analyst-1", "analyst")
        let list = try Self.guarantor(["keys", "list", "--mission", mission, "--store", store])
        #expect(list.stdout.hasPrefix("2 keys, 2 standing") && list.stdout.contains("US  us-analyst-2  analyst"))
        let ru = try key("RU", "ru-analyst", "analyst"), liaison = try key("UK", "uk-liaison", "liaison")
        // A member acts only through its key; a party never decides on an incident; a role acts within its rights.
        let noKey = try act([
            "--action", "verify", "--incident", "I65d187b436520109", "--member", "US", "--user", "us-analyst-2",
            "--reason", "crater analysis", "--at", "2026-03-01T06:00:00Z",
        ])
        #expect(noKey.status != 0 && noKey.stderr.contains("needs that member's API key"), "\(noKey.stderr)")
        let party = try act([
            "--action", "verify", "--incident", "I65d187b436520109", "--key", ru, "--reason", "ours",
            "--at", "2026-03-01T06:00:00Z",
        ])
        #expect(
            party.status != 0 && party.stderr.contains("RU is a party to the ceasefire")
                && party.stderr.contains("nothing was stored"), "\(party.stderr)")
        let wrongRole = try act([
            "--action", "verify", "--incident", "I65d187b436520109", "--key", liaison, "--reason", "r",
            "--at", "2026-03-01T06:00:00Z",
        ])
        #expect(wrongRole.status != 0 && wrongRole.stderr.contains("the role liaison cannot review"))
        let ahead = try act([
            "--action", "dispute", "--incident", "I65d187b436520109", "--key", uk, "--reason", "r",
            "--at", "2031-01-01T00:00:00Z",
        ])
        #expect(
            ahead.status != 0 && ahead.stderr.contains("is after the action's receipt")
                && ahead.stderr.contains("2031-01-01T00:00:00Z"), "\(ahead.stderr)")
        let verify = try act([
            "--action", "verify", "--incident", "I65d187b436520109", "--key", us, "--reason", "crater analysis",
            "--at", "2026-03-01T06:00:00Z",
        ])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("incident I65d187b436520109 is verified"))
        #expect(verify.stdout.contains("event log: 14 events"), "9 observations, 4 keys made, 1 action")
        let again = try act([
            "--action", "verify", "--incident", "I65d187b436520109", "--key", uk, "--reason", "second look",
            "--at", "2026-03-01T07:00:00Z",
        ])
        #expect(again.status != 0 && again.stderr.contains("cannot verify an incident that is verified"))
        #expect(again.stderr.contains("nothing was stored"))
        let noReason = try act([
            "--action", "reject", "--incident", "I65d187b436520109", "--member", "MISSION", "--user", "u",
            "--reason", " ",
        ])
        #expect(noReason.status != 0 && noReason.stderr.contains("reason: every action needs a reason"))
        // Without --at, the action is dated by the log's latest record, never by the wall clock, and says so.
        #expect(noReason.stdout.contains("at 2026-03-0") && noReason.stdout.contains("the log's latest record"))
        let unknown = try act([
            "--action", "dispute", "--incident", "Inothere", "--key", uk, "--reason", "r",
        ])
        #expect(unknown.status != 0 && unknown.stderr.contains("no incident Inothere"))
        let queue = try Self.guarantor(["review", "queue", "--mission", mission, "--store", store])
        #expect(queue.stdout.contains("verified: 3") && queue.stdout.contains("I65d187b436520109"))

        // The store holds 9 observations and 1 action; its replay equals the files' replay with that action.
        let actions = dir.appendingPathComponent("actions.ndjson")
        let fromStore = dir.appendingPathComponent("store-replay"),
            fromFiles = dir.appendingPathComponent("file-replay")
        let storeRun = try Self.guarantor([
            "replay", "--mission", mission, "--store", store, "--out", fromStore.path,
        ])
        #expect(storeRun.status == 0, "\(storeRun.stderr)")
        try Data(contentsOf: fromStore.appendingPathComponent("actions.ndjson")).write(to: actions)
        let fileRun = try Self.guarantor([
            "replay", "--mission", mission, "--observations",
            Self.examples.appendingPathComponent("observations.ndjson").path, "--actions", actions.path,
            "--out", fromFiles.path,
        ])
        #expect(fileRun.status == 0, "\(fileRun.stderr)")
        for file in Self.replayFiles {
            let a = try Data(contentsOf: fromStore.appendingPathComponent(file))
            let b = try Data(contentsOf: fromFiles.appendingPathComponent(file))
            #expect(a == b, "\(file)")
        }
    }
}

extension CommandLineTests {
    /// Members answer obligations through the store; `status` shows the guarantee at a glance.
    @Test func guaranteeActionsGoThroughTheLogAndStatusShowsTheGuarantee() throws {
        let dir = try Self.temporaryDirectory()
        let mission = Self.examples.appendingPathComponent("mission").path
        let store = dir.appendingPathComponent("events.sqlite").path
        _ = try Self.guarantor([
            "ingest", "--mission", mission, "--store", store,
            Self.examples.appendingPathComponent("observations.ndjson").path,
        ])
        func act(_ arguments: [String]) throws -> Run {
            try Self.guarantor(["guarantee", "act", "--mission", mission, "--store", store] + arguments)
        }
        func key(_ member: String, _ user: String) throws -> String {
            try Self.createKey(mission: mission, store: store, member: member, user: user, role: "liaison")
        }
        let fr = try key("FR", "fr-1"), uk = try key("UK", "uk-1")
        let obligation = "A45aeee055cbfd767/consultations/UK"
        let wrong = try act([
            "--action", "fulfil", "--obligation", obligation, "--key", fr, "--reference", "x",
            "--at", "2026-03-02T09:00:00Z",
        ])
        #expect(
            wrong.status != 0 && wrong.stderr.contains("obliges UK, not FR")
                && wrong.stderr.contains("nothing was stored"))
        let right = try act([
            "--action", "fulfil", "--obligation", obligation, "--key", uk, "--reference", "record 2026-03-02/1",
            "--at", "2026-03-02T09:00:00Z",
        ])
        #expect(right.status == 0, "\(right.stderr)")
        #expect(right.stdout.contains("obligation \(obligation) is fulfilled"))
        let past = try act([
            "--action", "decline", "--obligation", obligation, "--key", uk, "--reason", "r",
            "--at", "2026-03-02T10:00:00Z",
        ])
        #expect(past.status != 0 && past.stderr.contains("is already fulfilled"))
        let status = try Self.guarantor(["status", "--mission", mission, "--store", store])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("km 450-500: 4 — Reinforcement"))
        #expect(status.stdout.contains("Deterrence force: 4,000 deployed, 28,500 pledged, ceiling 30,000"))
        #expect(status.stdout.contains("energy-and-finance: active since 2026-03-02T03:10:00Z"))
    }

    @Test func aBadCoalitionFileIsNamedWithItsPath() throws {
        let dir = try Self.temporaryDirectory()
        let mission = dir.appendingPathComponent("m")
        try FileManager.default.copyItem(at: Self.examples.appendingPathComponent("mission"), to: mission)
        let file = mission.appendingPathComponent("coalition.json")
        let text = try String(contentsOf: file, encoding: .utf8)
        try text.replacingOccurrences(of: "\"personnel\": 10000", with: "\"personnel\": 20000").write(
            to: file, atomically: true, encoding: .utf8)
        let run = try Self.guarantor([
            "replay", "--mission", mission.path, "--observations",
            Self.examples.appendingPathComponent("observations.ndjson").path, "--out",
            dir.appendingPathComponent("o").path,
        ])
        #expect(run.status != 0)
        #expect(
            run.stderr.contains(
                "coalition.json: deterrenceForce.contributions: 38500 personnel pledged, beyond the ceiling of 30000"))
    }
}

extension CommandLineTests {
    /// A simulated week on the real front line with the default coalition: alerts, obligations, overdue obligations,
    /// continuity alerts and a drafted statement, and the triggers checked against the moments ground truth crossed
    /// each threshold.
    @Test(.enabled(if: TestData.hasSharedData, "needs ../shared/data (GUARANTOR_DATA)"))
    func aSimulatedWeekOnTheRealLineProducesTheGuaranteeCheckedAgainstTruth() throws {
        let dir = try Self.temporaryDirectory()
        let mission = dir.appendingPathComponent("mission").path
        let sim = dir.appendingPathComponent("sim").path, out = dir.appendingPathComponent("out").path
        for arguments in [
            [
                "mission", "init", mission, "--line", TestData.realFrontLine.path, "--sectors", TestData.oblasts.path,
                "--party", "UA=35.0462,48.4647", "--party", "RU=39.3078,48.5740",
            ],
            ["simulate", "--mission", mission, "--seed", "1", "--hours", "168", "--out", sim],
            [
                "replay", "--mission", mission, "--observations", sim + "/observations.ndjson", "--actions",
                sim + "/actions.ndjson", "--out", out,
            ],
        ] {
            let run = try Self.guarantor(arguments)
            #expect(run.status == 0, "\(arguments[0]): \(run.stderr)")
        }
        func records(_ file: String) throws -> [[String: JSONValue]] {
            try String(contentsOfFile: out + "/" + file, encoding: .utf8).split(separator: "\n").map {
                try JSONValue.parse(String($0)).object!
            }
        }
        let alerts = try records("alerts.ndjson")
        let kinds = Set(alerts.compactMap { $0["kind"]?.string })
        #expect(kinds.isSuperset(of: ["trigger", "tripwire", "overdue", "continuity"]), "\(kinds)")
        #expect(alerts.contains { $0["kind"]?.string == "tripwire" && $0["provisional"] == .bool(true) })
        // The one pledge the simulator let lapse, and only it, breaks continuity.
        let truthLines = try String(contentsOfFile: sim + "/truth.ndjson", encoding: .utf8).split(separator: "\n")
        let shortfall = try #require(truthLines.first { $0.contains(#""type":"shortfall""#) })
        let lapsed = try #require(try JSONValue.parse(String(shortfall)).object?["pledge"]?.string)
        let continuity = Set(alerts.filter { $0["kind"]?.string == "continuity" }.compactMap { $0["pledgeId"]?.string })
        #expect(continuity == [lapsed])
        let obligations = try records("obligations.ndjson")
        #expect(obligations.count > 20)
        #expect(obligations.contains { $0["status"]?.string == "overdue" }, "nobody answered: deadlines pass")
        let statements = try records("statements.ndjson")
        #expect(statements.contains { $0["markdown"]?.string?.contains("verified") == true })

        let score = try Self.guarantor(["score", "--truth", sim + "/truth.ndjson", "--results", out])
        #expect(score.status == 0, "\(score.stderr)")
        // "triggers: T true firings, A alerts: O on time (±1 h), E early, L late, M missed, S spurious"
        let line = try #require(score.stdout.split(separator: "\n").first { $0.hasPrefix("triggers:") })
        let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        let (truth, missed, spurious) = (numbers[0], numbers[numbers.count - 2], numbers[numbers.count - 1])
        #expect(truth > 100, "\(line)")
        #expect(Double(missed) <= 0.1 * Double(truth), "\(line)")
        #expect(Double(spurious) <= 0.01 * Double(truth), "\(line)")
        let tripwire = try #require(score.stdout.split(separator: "\n").first { $0.hasPrefix("tripwire:") })
        #expect(tripwire.contains("alert at most"), "\(tripwire)")
    }
}
