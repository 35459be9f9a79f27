import ArgumentParser
import Foundation
import GuarantorCore
import GuarantorServer
import GuarantorStore

/// `guarantor serve --mission DIR --store FILE [--host H] [--port P]`, or `guarantor serve --demo`; several nodes
/// share one PostgreSQL store: `guarantor serve --mission DIR --store postgres://… --node NAME --port P`.
public struct ServeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract:
            "Run the HTTP API (embedded SQLite); --demo starts a demo mission with a simulated feed and prints keys.")

    @Option(help: "The mission directory.") var mission: String?
    @Option(
        help: "The store: a SQLite file (created if missing), or postgres://user@host:port/db shared by several nodes.")
    var store: String?
    @Option(
        help:
            "A streaming replica of the PostgreSQL store: this node reads the log there (its engine follows it; auditors' reads, exports and proofs), writes at --store."
    )
    var readStore: String?
    @Option(help: "This node's name on a shared store (its results file is named after it).") var node = "node"
    @Option(help: "The results database (sealed incidents, snapshots; default: beside a SQLite store, else temporary).")
    var results: String?
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port (0: any free port).") var port = 8080
    @Flag(help: "Demo: a mission on the hand-traced line, a simulated feed, and printed API keys.") var demo = false
    @Option(help: "Demo: where to write the demo mission and store.") var demoDirectory = "guarantor-demo"
    @Option(help: "Demo: observations fed per second.") var feedRate = 200
    @Option(help: "The mission's private signing key: checkpoints on integrity.json's cadence and on demand.")
    var signingKey: String?
    @Option(
        help: "Save a snapshot of the engine every this many events (and at least every 5 minutes, and at shutdown).")
    var snapshotEvery = 100_000
    @Option(
        help:
            "The mission's clock: when nothing arrived for this many seconds, a clock event at the server's time (0: never)."
    )
    var clockEvery = 60

    public init() {}

    public func validate() throws {
        if !demo && (mission == nil || store == nil) { throw ValidationError("give --mission and --store, or --demo") }
    }

    public func run() async throws {
        var missionPath = mission ?? ""
        var storePath = store ?? ""
        var feed: [Observation] = []
        if demo {
            let root = URL(fileURLWithPath: demoDirectory, isDirectory: true)
            // The demo's simulated two days (from a day after the agreement) end now: the mission's clock runs on.
            let now = WallClock.now().nanoseconds / 1_000_000_000
            let start = Timestamp(seconds: (now / 3600 - 72) * 3600)
            missionPath = try DemoCommand.createMission(in: root, effectiveAt: start).path
            storePath = root.appendingPathComponent("serve.sqlite").path
            for path in [storePath, EventStore.resultsPath(of: storePath)] {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
        }
        let mission = try Files.loadMission(missionPath)
        let resultsPath =
            results
            ?? (EventStore.isPostgres(storePath)
                ? EventStore.sharedResultsPath(url: storePath, missionId: mission.agreement.id, node: node) : nil)
        let eventStore = try Files.openStore(
            storePath, mission: mission, resultsPath: resultsPath, readReplica: readStore)
        if eventStore.isReadOnly {
            throw CLIError(
                "\(EventStore.redactedURL(storePath)) is a read-only replica: give the primary as --store and the "
                    + "replica as --read-store")
        }
        if demo {
            feed = Self.marked(Simulator.run(mission: mission, seed: 7, hours: 48).observations, mission: mission)
            say("Demo mission in \(missionPath), store \(storePath)")
            for (member, user, role) in [
                ("MISSION", "demo-analyst", Role.analyst), ("US", "us-liaison", .liaison),
                ("MISSION", "demo-admin", .admin), ("PL", "pl-auditor", .auditor),
            ] {
                let key = try APIKeys.create(member: member, user: user, role: role, in: eventStore).key
                say("  \(role.rawValue) key (\(member), \(user)): \(key)")
            }
        }
        let started = ContinuousClock.now
        let state = try MissionState(
            mission: mission, store: eventStore,
            fingerprint: try MissionDirectory.fingerprint(URL(fileURLWithPath: missionPath, isDirectory: true)),
            warn: { say("warning: \($0)") })
        await state.setSnapshotEvery(events: Int64(max(snapshotEvery, 1)))
        if eventStore.isShared {
            say(
                "Node \(node) on the shared store \(EventStore.redactedURL(storePath))"
                    + (readStore.map { ", reading the replica \(EventStore.redactedURL($0))" } ?? "")
                    + ", results in \(resultsPath ?? "")")
            if let coordination = eventStore.coordination {
                let cluster = ClusterNode(name: node, coordination: coordination, mission: mission)
                Task { await state.run(as: cluster) }
            }
        }
        say(
            "Resumed from "
                + (state.startedFrom.map { "the snapshot at event \($0)" } ?? "the start of the log")
                + " in \(started.duration(to: .now))")
        let integrity = try Files.integrity(missionPath)
        let key = try signingKey.map(Files.loadKey)
        let api = GuarantorAPI(
            state: state, integrity: integrity, signingKey: key,
            missionDirectory: URL(fileURLWithPath: missionPath, isDirectory: true))
        let host = self.host
        let feedCount = feed.count
        let app = GuarantorServerRunner.application(api: api, host: host, port: port) { bound in
            say("Guarantor on http://\(host):\(bound)/ — the dashboard (public view; sign in with a key for more),")
            say("  the API at /openapi.json; Ctrl-C stops it")
            if feedCount > 0 {
                say(
                    "  feeding \(feedCount) simulated observations; watch: curl -N -H 'Authorization: Bearer KEY' http://\(host):\(bound)/stream"
                )
            }

        }
        if demo {
            let rate = feedRate
            let observations = feed
            Task { await DemoFeed.run(state: state, observations: observations, perSecond: rate) }
        }
        if clockEvery > 0 {
            let every = clockEvery
            Task { await ClockSchedule.run(state: state, everySeconds: every) }
        }
        if let key, integrity.checkpointEverySeconds > 0 {
            let every = integrity.checkpointEverySeconds
            let index = api.merkle
            Task { await CheckpointSchedule.run(state: state, key: key, index: index, everySeconds: every) }
        }
        try await app.runService()
        // Stopped gracefully: a snapshot, so that the next start replays nothing.
        do {
            try await state.saveSnapshot()
        } catch {
            say("warning: no snapshot saved at shutdown: \(error)")
        }
    }
}

extension ServeCommand {
    /// The demo's releasability, so that every view has something to show: what the mission sees itself (patrols,
    /// cameras) and what is public anyway (open sources, the parties' claims) is TLP:CLEAR; the members' sensors stay
    /// GREEN (the coalition); satellite imagery is AMBER (the mission and its originator); one in ten of the UK's
    /// UAV reports is RED (the UK only).
    static func marked(_ observations: [Observation], mission: Mission) -> [Observation] {
        observations.enumerated().map { n, observation in
            var o = observation
            guard let source = mission.sources[o.source] else { return o }
            switch source.kind {
            case .patrol, .staticCamera, .osint, .partyClaim: o.tlp = .clear
            case .satellite: o.tlp = .amber
            case .uav where source.organisation == "UK" && n % 10 == 0:
                o.tlp = .red
                o.originator = "UK"
            default: break
            }
            return o
        }
    }
}

/// `guarantor keys create --mission DIR --store FILE --member FR --user NAME --role analyst`
public struct KeysCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "API keys: random, shown once, stored only as hashes.",
        subcommands: [KeysCreateCommand.self, KeysListCommand.self, KeysRevokeCommand.self, KeysSigningCommand.self])

    public init() {}
}

public struct KeysCreateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an API key.")

    @Option(help: "The mission directory.") var mission: String
    @Option(help: "The store.") var store: String
    @Option(help: "The member state of the key's holder (MISSION for the mission's own staff).") var member: String
    @Option(help: "The holder's user id.") var user: String
    @Option(help: "monitor, sensor, analyst, liaison, auditor or admin.") var role: String

    public init() {}

    public func run() throws {
        guard let role = Role(rawValue: role) else {
            throw CLIError("unknown role \(role) (\(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let mission = try Files.loadMission(self.mission)
        let (key, holder) = try APIKeys.create(
            member: member, user: user, role: role, in: try Files.openStore(store, mission: mission))
        say("API key \(holder.id) for \(holder.user) (\(holder.member), \(holder.role)) — shown once, keep it safe:")
        say(key)
    }
}

/// `guarantor keys list --mission DIR --store FILE`
public struct KeysListCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the API keys: id, holder, role, when made and revoked (never the keys).")

    @Option(help: "The mission directory.") var mission: String
    @Option(help: "The store.") var store: String

    public init() {}

    public func run() throws {
        let mission = try Files.loadMission(self.mission)
        let keys = try Files.openStore(store, mission: mission).keys()
        say("\(keys.count) keys, \(keys.filter { $0.revokedAt == nil }.count) standing")
        for k in keys {
            say(
                "\(k.holder.id)  \(k.holder.member)  \(k.holder.user)  \(k.holder.role)  created \(k.createdAt)"
                    + (k.revokedAt.map { "  revoked \($0)" } ?? ""))
        }
    }
}

/// `guarantor keys revoke --mission DIR --store FILE --id ID --reason WHY`
public struct KeysRevokeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke an API key at once; the revocation is an event in the log.")

    @Option(help: "The mission directory.") var mission: String
    @Option(help: "The store.") var store: String
    @Option(help: "The key's id (as `keys list` shows it).") var id: String
    @Option(help: "Why; recorded in the log.") var reason: String

    public init() {}

    public func run() throws {
        let mission = try Files.loadMission(self.mission)
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw CLIError("give a --reason") }
        do {
            try Files.openStore(store, mission: mission).revokeKey(
                id: id, at: WallClock.now().rfc3339, reason: reason)
        } catch let error as StoreError {
            throw CLIError("\(error)")
        }
        say("key \(id) revoked: requests with it are refused from now on")
    }
}

/// Writes a line to standard output at once (a server's output is often a pipe, where `print` would wait).
func say(_ line: String, terminator: String = "\n") {
    FileHandle.standardOutput.write(Data((line + terminator).utf8))
}
