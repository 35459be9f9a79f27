import Foundation
import GRDB
import GuarantorCore
import GuarantorTesting
import Testing

/// `guarantor verify`, `checkpoint`, `witness` and `redact` as an auditor and a member's witness use them: a store
/// built from a simulated week passes, and every tampering is caught and named.
@Suite struct IntegrityTests {
    /// A mission on the demo line with a signing key and a witness key for FR, a simulated week ingested, and a
    /// checkpoint of it.
    struct Setup {
        let dir: URL
        let mission: String
        let store: String
        var signingKey: String { dir.appendingPathComponent("mission.key").path }

        init() throws {
            dir = try CommandLineTests.temporaryDirectory()
            mission = dir.appendingPathComponent("mission").path
            store = dir.appendingPathComponent("week.sqlite").path
            let sim = dir.appendingPathComponent("sim").path
            for arguments in [
                [
                    "mission", "init", mission, "--line", TestData.demoLine.path, "--party", "UA=35.0462,48.4647",
                    "--party", "RU=39.3078,48.5740",
                ],
                ["simulate", "--mission", mission, "--seed", "3", "--hours", "168", "--out", sim],
                ["ingest", "--mission", mission, "--store", store, sim + "/observations.ndjson"],
                ["keys", "signing", "--mission", mission, "--out", dir.appendingPathComponent("mission.key").path],
                [
                    "witness", "keygen", "--mission", mission, "--member", "FR", "--out",
                    dir.appendingPathComponent("fr.key").path,
                ],
                ["checkpoint", "--mission", mission, "--store", store, "--signing-key", signingKey],
            ] {
                let run = try CommandLineTests.guarantor(arguments)
                #expect(run.status == 0, "\(arguments[0]): \(run.stderr)")
            }
        }

        func verify(_ store: String? = nil) throws -> CommandLineTests.Run {
            try CommandLineTests.guarantor(["verify", "--mission", mission, "--store", store ?? self.store])
        }

        /// A copy of the store, changed behind the tool's back with SQL (the append-only triggers dropped first).
        func tampered(_ name: String, _ change: (Database) throws -> Void) throws -> String {
            let copy = dir.appendingPathComponent("\(name).sqlite").path
            try FileManager.default.copyItem(atPath: store, toPath: copy)
            let queue = try DatabaseQueue(path: copy)
            try queue.write { db in
                for trigger in ["event_no_update", "event_no_delete", "checkpoint_no_update", "checkpoint_no_delete"] {
                    try db.execute(sql: "DROP TRIGGER \(trigger)")
                }
                try change(db)
            }
            try queue.close()
            return copy
        }
    }

    /// What a forger with the database would do after changing an event: recompute every hash of the chain.
    static func rechain(_ db: Database) throws {
        var previous = EventChain.genesis
        for row in try Row.fetchAll(db, sql: "SELECT sequence, kind, payload FROM event ORDER BY sequence") {
            let hash = EventChain.hash(
                previous: previous, sequence: row["sequence"], kind: row["kind"], payload: Array(row["payload"] as Data)
            )
            try db.execute(
                sql: "UPDATE event SET previous_hash = ?, hash = ? WHERE sequence = ?",
                arguments: [Data(previous), Data(hash), row["sequence"] as Int64])
            previous = hash
        }
    }

    @Test func aSimulatedWeekVerifiesAndEveryTamperingIsCaughtAndNamed() throws {
        let s = try Setup()
        let clean = try s.verify()
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("ok: hash chain"))
        #expect(clean.stdout.contains("ok: results: a replay of events 1…"))
        let events = try DatabaseQueue(path: s.store).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM event")! }
        #expect(events > 1_000, "a week of observations")

        func payload(_ db: Database, _ sequence: Int) throws -> [UInt8] {
            Array(try Data.fetchOne(db, sql: "SELECT payload FROM event WHERE sequence = ?", arguments: [sequence])!)
        }
        let cases: [(name: String, expected: String, change: (Database) throws -> Void)] = [
            (
                "flipped", "event 500 (observation) does not match its hash",
                { db in
                    var bytes = try payload(db, 500)
                    bytes[bytes.count / 2] ^= 0x01
                    try db.execute(
                        sql: "UPDATE event SET payload = ? WHERE sequence = 500", arguments: [Data(bytes)])
                }
            ),
            (
                "deleted", "event 500 is missing",
                { db in try db.execute(sql: "DELETE FROM event WHERE sequence = 500") }
            ),
            (
                "reordered", "event 500",
                { db in
                    let (a, b) = (try payload(db, 500), try payload(db, 501))
                    try db.execute(sql: "UPDATE event SET observation_id = NULL WHERE sequence IN (500, 501)")
                    try db.execute(sql: "UPDATE event SET payload = ? WHERE sequence = 500", arguments: [Data(b)])
                    try db.execute(sql: "UPDATE event SET payload = ? WHERE sequence = 501", arguments: [Data(a)])
                }
            ),
            (
                "swapped-result", "incidents.ndjson",
                { db in
                    let files = try String.fetchOne(db, sql: "SELECT result_files FROM checkpoint")!
                    var lines = files.split(separator: "\n").map(String.init)
                    let (i, v) = (lines[0].split(separator: " ")[1], lines[1].split(separator: " ")[1])
                    lines[0] = "incidents.ndjson \(v)"
                    lines[1] = "violations.ndjson \(i)"
                    try db.execute(
                        sql: "UPDATE checkpoint SET result_files = ?", arguments: [lines.joined(separator: "\n")])
                }
            ),
            (
                // A forger who changes an event and recomputes the whole chain: the signed root gives it away.
                "rewritten", "the log was rewritten",
                { db in
                    var bytes = try payload(db, 500)
                    bytes[bytes.count / 2] ^= 0x01
                    try db.execute(
                        sql: "UPDATE event SET payload = ? WHERE sequence = 500", arguments: [Data(bytes)])
                    try IntegrityTests.rechain(db)
                }
            ),
            (
                // A redaction the mission did not sign, appended with a valid chain: refused all the same.
                "forged-redaction", "(redaction) is not signed by the mission's key",
                { db in
                    let last = try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM event")!
                    let payload =
                        #"{"id":"R1","at":"2026-11-22T00:00:00Z","member":"MISSION","user":"x","event":5,"fields":["text"],"reason":"r","signature":"AAAA"}"#
                    try db.execute(
                        sql:
                            "INSERT INTO event (sequence, kind, payload, previous_hash, hash) VALUES (?, 'redaction', ?, x'00', x'00')",
                        arguments: [last + 1, Data(payload.utf8)])
                    try IntegrityTests.rechain(db)
                }
            ),
        ]
        for c in cases {
            let run = try s.verify(try s.tampered(c.name, c.change))
            #expect(run.status != 0, "\(c.name) was not detected: \(run.stdout)")
            let failures = run.stdout.split(separator: "\n").filter { $0.hasPrefix("FAILED") }
            #expect(failures.contains { $0.contains(c.expected) }, "\(c.name): \(run.stdout)")
        }
    }

    /// A daily report is written as HTML, Markdown (and PDF), the same bytes each time from the same log, issued to the
    /// log once; `verify --report` confirms a copy and names an edited one; the public's report is CLEAR only.
    @Test func anIssuedReportIsInTheLogAndAnEditedCopyIsCaught() throws {
        let s = try Setup()
        func report(_ out: String, _ extra: [String] = []) throws -> CommandLineTests.Run {
            try CommandLineTests.guarantor(
                [
                    "report", "daily", "--mission", s.mission, "--store", s.store, "--date", "2026-01-05", "--no-pdf",
                    "--out", s.dir.appendingPathComponent(out).path,
                ] + extra)
        }
        let first = try report("r1")
        #expect(first.status == 0, "\(first.stderr)")
        let again = try report("r2")
        #expect(again.status == 0, "\(again.stderr)")
        let html = s.dir.appendingPathComponent("r1/report.html").path
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(
            page == (try String(contentsOfFile: s.dir.appendingPathComponent("r2/report.html").path, encoding: .utf8)))
        #expect(page.contains("Incidents recorded: ") && page.contains("<svg") && !page.contains("<script"))
        #expect(!page.contains("src=\"http") && !page.contains("href=\"http"), "nothing is fetched from elsewhere")
        // Issued once: the second run found the same files in the log.
        let event = first.stdout.split(separator: "\n").first { $0.contains("issued as event") }
        #expect(event != nil && again.stdout.contains(String(event!)), "\(first.stdout) / \(again.stdout)")

        let checked = try CommandLineTests.guarantor(
            [
                "verify", "--mission", s.mission, "--store", s.store, "--report", html, "--report",
                s.dir.appendingPathComponent("r1/report.md").path,
            ])
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.contains("is report.html of the daily report 2026-01-05 for MISSION"))
        #expect(checked.stdout.contains("reports: 1 issued"))
        let edited = s.dir.appendingPathComponent("edited.html").path
        try page.replacingOccurrences(of: "Incidents recorded: ", with: "Incidents recorded: 1").write(
            toFile: edited, atomically: true, encoding: .utf8)
        let caught = try CommandLineTests.guarantor(
            ["verify", "--mission", s.mission, "--store", s.store, "--report", edited])
        #expect(caught.status == 1 && caught.stdout.contains("edited, or never issued"), "\(caught.stdout)")

        let uk = try report("uk", ["--public", "--lang", "uk"])
        #expect(uk.status == 0, "\(uk.stderr)")
        let ukPage = try String(contentsOfFile: s.dir.appendingPathComponent("uk/report.html").path, encoding: .utf8)
        #expect(ukPage.contains("Щоденний звіт 2026-01-05") && ukPage.contains("TLP:CLEAR"))
        #expect(ukPage.contains("<html lang=\"uk\">"))
        let bad = try report("bad", ["--member", "XX"])
        #expect(bad.status != 0 && bad.stderr.contains("--member"), "\(bad.stderr)")
    }

    @Test func aRedactionHidesTextWithoutBreakingAnyProof() throws {
        let dir = try CommandLineTests.temporaryDirectory()
        let mission = dir.appendingPathComponent("mission").path
        try FileManager.default.copyItem(
            at: CommandLineTests.examples.appendingPathComponent("mission"), to: URL(fileURLWithPath: mission))
        let store = dir.appendingPathComponent("s.sqlite").path, key = dir.appendingPathComponent("m.key").path
        let before = dir.appendingPathComponent("before").path, after = dir.appendingPathComponent("after").path
        for arguments in [
            [
                "ingest", "--mission", mission, "--store", store,
                CommandLineTests.examples.appendingPathComponent("observations.ndjson").path,
            ],
            ["keys", "signing", "--mission", mission, "--out", key],
            ["checkpoint", "--mission", mission, "--store", store, "--signing-key", key],
            ["replay", "--mission", mission, "--store", store, "--out", before],
            [
                "redact", "--mission", mission, "--store", store, "--signing-key", key, "--event", "3", "--field",
                "text", "--reason", "a bystander's name", "--member", "MISSION", "--user", "legal",
            ],
            ["replay", "--mission", mission, "--store", store, "--out", after],
            ["checkpoint", "--mission", mission, "--store", store, "--signing-key", key],
        ] {
            let run = try CommandLineTests.guarantor(arguments)
            #expect(run.status == 0, "\(arguments[0]): \(run.stderr)")
        }
        // Results are the same; both checkpoints, before and after, still hold.
        for file in CommandLineTests.replayFiles {
            #expect(
                try Data(contentsOf: URL(fileURLWithPath: before + "/" + file))
                    == Data(contentsOf: URL(fileURLWithPath: after + "/" + file)), "\(file)")
        }
        let verify = try CommandLineTests.guarantor(["verify", "--mission", mission, "--store", store])
        #expect(verify.status == 0, "\(verify.stdout)")
        #expect(verify.stdout.contains("checkpoints: 2 signed"))
        #expect(verify.stdout.contains("redactions: 1, each signed by the mission"))
        // Only text and evidence may be redacted.
        let refused = try CommandLineTests.guarantor([
            "redact", "--mission", mission, "--store", store, "--signing-key", key, "--event", "3", "--field",
            "location", "--reason", "r", "--member", "MISSION", "--user", "legal",
        ])
        #expect(refused.status != 0 && refused.stderr.contains("--field must be one of"))
    }
}

/// A member's witness against a real `guarantor serve`: it cosigns checkpoints that extend the last one it cosigned,
/// a checkpoint is published at the quorum, and a server whose history was rewritten gets no cosignature.
@Suite struct WitnessTests {
    /// `guarantor serve` in its own process; the port it bound is read from its first line.
    final class Server {
        let process = Process()
        var port = 0

        init(mission: String, store: String, signingKey: String) throws {
            process.executableURL = CommandLineTests.binary
            process.arguments = [
                "serve", "--mission", mission, "--store", store, "--port", "0", "--signing-key", signingKey,
            ]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            var text = ""
            while port == 0 {
                let data = out.fileHandleForReading.availableData
                if data.isEmpty { throw CLIFailure("the server stopped before it listened") }
                text += String(decoding: data, as: UTF8.self)
                if let range = text.range(of: "http://127.0.0.1:") {
                    port = Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
                }
            }
        }

        func stop() {
            process.terminate()
            process.waitUntilExit()
        }

        func curl(_ method: String, _ path: String, key: String, body: String? = nil) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            var arguments = ["-s", "-X", method, "-H", "Authorization: Bearer \(key)"]
            if let body { arguments += ["-H", "Content-Type: application/x-ndjson", "--data-binary", body] }
            p.arguments = arguments + ["http://127.0.0.1:\(port)\(path)"]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
    }

    struct CLIFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test func aWitnessCosignsOnlyCheckpointsThatExtendWhatItCosigned() throws {
        let dir = try CommandLineTests.temporaryDirectory()
        let mission = dir.appendingPathComponent("mission").path
        try FileManager.default.copyItem(
            at: CommandLineTests.examples.appendingPathComponent("mission"), to: URL(fileURLWithPath: mission))
        let store = dir.appendingPathComponent("s.sqlite").path
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        func run(_ arguments: [String]) throws -> CommandLineTests.Run {
            let run = try CommandLineTests.guarantor(arguments)
            #expect(run.status == 0, "\(arguments[0]) \(arguments[1]): \(run.stderr)")
            return run
        }
        let observations = CommandLineTests.examples.appendingPathComponent("observations.ndjson").path
        _ = try run(["ingest", "--mission", mission, "--store", store, observations])
        let missionKey = try run(["keys", "signing", "--mission", mission, "--out", path("mission.key")])
            .stdout.split(separator: "\n").last.map(String.init)!
        for member in ["FR", "UK"] {
            _ = try run(["witness", "keygen", "--mission", mission, "--member", member, "--out", path("\(member).key")])
        }
        func key(_ member: String, _ role: String) throws -> String {
            try run([
                "keys", "create", "--mission", mission, "--store", store, "--member", member, "--user",
                "\(member.lowercased())-\(role)", "--role", role,
            ]).stdout.split(separator: "\n").last.map(String.init)!
        }
        let admin = try key("MISSION", "admin"), sensor = try key("MISSION", "sensor")
        let auditors = ["FR": try key("FR", "auditor"), "UK": try key("UK", "auditor")]
        func cosign(_ member: String, _ server: Server) throws -> CommandLineTests.Run {
            try CommandLineTests.guarantor([
                "witness", "cosign", "--url", "http://127.0.0.1:\(server.port)", "--api-key", auditors[member]!,
                "--key", path("\(member).key"), "--mission-public-key", missionKey, "--state",
                path("\(member).state"),
            ])
        }

        var server = try Server(mission: mission, store: store, signingKey: path("mission.key"))
        defer { server.stop() }
        // 9 observations and the creation of 4 keys.
        #expect(try server.curl("POST", "/checkpoints", key: admin).contains(#""size": 13"#))
        for member in ["FR", "UK"] { #expect(try cosign(member, server).stdout.contains("cosigned checkpoint 13")) }
        #expect(try server.curl("GET", "/checkpoints/13", key: admin).contains(#""published": true"#))

        // More records, a new checkpoint: FR checks it extends 13 and cosigns.
        let more = try String(contentsOfFile: observations, encoding: .utf8)
            .replacingOccurrences(of: #""id":""#, with: #""id":"more-"#)
        #expect(try server.curl("POST", "/observations", key: sensor, body: more).contains(#""appended":9"#))
        #expect(try server.curl("POST", "/checkpoints", key: admin).contains(#""size": 22"#))
        #expect(try cosign("FR", server).stdout.contains("cosigned checkpoint 22 (root"))

        // A redaction hides the text of event 3 from the log endpoint; the checkpoints still verify.
        _ = try run([
            "redact", "--mission", mission, "--store", store, "--signing-key", path("mission.key"), "--event", "3",
            "--field", "text", "--reason", "a bystander's name", "--member", "MISSION", "--user", "legal",
        ])
        let entry = try server.curl("GET", "/log/3", key: auditors["FR"]!)
        #expect(entry.contains(#""redacted": ["#) && entry.contains(#""text""#) && !entry.contains("Bursts heard"))
        #expect(try run(["verify", "--mission", mission, "--store", store]).stdout.contains("ok: checkpoints: 2"))

        // The operator rewrites event 2 and recomputes the chain, then signs a new checkpoint: no witness cosigns it.
        server.stop()
        let queue = try DatabaseQueue(path: store)
        try queue.write { db in
            try db.execute(sql: "DROP TRIGGER event_no_update")
            try db.execute(
                sql:
                    "UPDATE event SET payload = CAST(replace(CAST(payload AS TEXT), 'artilleryFire', 'mortarFire') AS BLOB) "
                    + "WHERE sequence = 1")
            try IntegrityTests.rechain(db)
        }
        try queue.close()
        server = try Server(mission: mission, store: store, signingKey: path("mission.key"))
        _ = try server.curl(
            "POST", "/observations", key: sensor, body: more.replacingOccurrences(of: "more-", with: "again-"))
        _ = try server.curl("POST", "/checkpoints", key: admin)
        let refused = try cosign("FR", server)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("history was rewritten"), "\(refused.stdout)\(refused.stderr)")
    }
}
