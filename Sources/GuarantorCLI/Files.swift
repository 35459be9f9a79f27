import Foundation
import GuarantorCore
import GuarantorServer
import GuarantorStore

/// File helpers shared by the commands.
enum Files {
    /// The largest observation file read in one go.
    static let maximumObservationFileBytes = 512 * 1024 * 1024

    /// Reads an observation file whole, refusing one larger than the limit before reading it.
    static func readObservations(_ path: String) throws -> [UInt8] {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw CLIError("cannot read \(path): no such file")
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        if size > maximumObservationFileBytes {
            throw CLIError(
                "\(path) is \(size / (1024 * 1024)) MiB; files over \(maximumObservationFileBytes / (1024 * 1024)) MiB must be split"
            )
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        return [UInt8](data)
    }

    /// Loads a mission directory, turning configuration errors into user-facing errors.
    static func loadMission(_ directory: String) throws -> Mission {
        do {
            return try MissionDirectory.load(URL(fileURLWithPath: directory, isDirectory: true))
        } catch let error as ConfigurationError {
            throw CLIError("mission \(directory): \(error)")
        }
    }

    /// Parses and validates an observation file against a mission; a rejection lists every error.
    static func parseObservations(_ path: String, mission: Mission) throws -> ObservationBatch {
        let bytes = try readObservations(path)
        switch ObservationBatch.parse(bytes, isKnownSource: mission.sources.contains) {
        case .success(let batch): return batch
        case .failure(let rejection):
            let count = rejection.totalErrors == 1 ? "1 error" : "\(rejection.totalErrors) errors"
            throw CLIError("\(path) rejected, \(count), nothing was stored or written:\n\(rejection)")
        }
    }

    /// Parses and validates an actions file; a rejection lists every error.
    static func parseActions(_ path: String) throws -> [MissionAction] {
        switch MissionAction.parseFile(try readObservations(path)) {
        case .success(let actions): return actions
        case .failure(let rejection):
            let count = rejection.totalErrors == 1 ? "1 error" : "\(rejection.totalErrors) errors"
            throw CLIError("\(path) rejected, \(count), nothing was stored or written:\n\(rejection)")
        }
    }

    /// A candidate line: the id of one the mission keeps, or a GeoJSON file; with the mission under it.
    static func candidate(_ name: String, mission: Mission, directory: String) throws -> LineComparison.Candidate {
        let url = URL(fileURLWithPath: directory, isDirectory: true)
        do {
            let lines = try CandidateLines(directory: url)
            if let entry = lines.entry(name) {
                return .init(id: entry.id, title: entry.title, mission: try lines.mission(name, base: mission))
            }
            guard FileManager.default.fileExists(atPath: name) else {
                throw CLIError(
                    "no line \"\(name)\": neither a candidate (\(lines.entries.map(\.id).joined(separator: ", "))) nor a file"
                )
            }
            let file = URL(fileURLWithPath: name)
            let id = file.deletingPathExtension().lastPathComponent
            return .init(
                id: id, title: id,
                mission: try CandidateLines.mission(mission, lineAt: file, name: file.lastPathComponent))
        } catch let error as ConfigurationError {
            throw CLIError("line \(name): \(error)")
        }
    }

    /// Opens a mission's store, turning store errors into user-facing errors.
    static func openStore(
        _ path: String, mission: Mission, resultsPath: String? = nil, readReplica: String? = nil
    ) throws -> EventStore {
        do {
            return try EventStore(
                path: path, missionId: mission.agreement.id, resultsPath: resultsPath, readReplica: readReplica)
        } catch let error as StoreError {
            throw CLIError("\(error)")
        }
    }

    /// The engine's inputs: from files, or from a store's event log (in log order).
    static func inputs(mission: Mission, observations: String?, actions: String?, store: String?) throws -> (
        ObservationBatch, [MissionAction]
    ) {
        if let observations {
            return (try parseObservations(observations, mission: mission), try actions.map(parseActions) ?? [])
        }
        do {
            return try openStore(store!, mission: mission).replayInputs()
        } catch let error as StoreError {
            throw CLIError("\(error)")
        }
    }

    /// Who acts on a store from the command line: with `--key`, that API key's holder, whose role must carry the right
    /// the action needs, as over HTTP; without, the mission's own staff (MISSION) operating the store. The actor is
    /// recorded in the event.
    static func actor(key: String?, member: String?, user: String?, mission: Mission, store path: String) throws
        -> (member: String, user: String, role: Role?)
    {
        guard let key else {
            guard member == nil || member == Releasability.mission else {
                throw CLIError(
                    "acting as \(member!) needs that member's API key (--key); without one you act as the mission's "
                        + "staff (--member \(Releasability.mission))")
            }
            guard let user else { throw CLIError("give --user (who of the mission's staff acts), or --key") }
            return (Releasability.mission, user, nil)
        }
        guard let holder = try APIKeys.holder(of: key, in: openStore(path, mission: mission)) else {
            throw CLIError("--key: no such API key in \(path)")
        }
        if let member, member != holder.member {
            throw CLIError("--member \(member) is not the key's (\(holder.member))")
        }
        if let user, user != holder.user { throw CLIError("--user \(user) is not the key's (\(holder.user))") }
        return (holder.member, holder.user, Role(rawValue: holder.role))
    }

    /// Refuses an action the acting key's role may not take (mission staff without a key may take any).
    static func checkRight(_ action: MissionAction, role: Role?) throws {
        guard let role else { return }
        let right = Right.needed(for: action)
        guard role.rights.contains(right) else {
            throw CLIError("the role \(role.rawValue) cannot \(right.rawValue); nothing was stored")
        }
    }

    /// The members every action has. Without `--at` the action is dated at the store's latest receipt time — never
    /// the wall clock, which would move the mission's event time to today — and the command says so.
    static func actionFields(
        action: String, key: String?, member: String?, user: String?, at: String?, mission: Mission,
        store path: String
    ) throws -> (fields: [String: JSONValue], role: Role?) {
        let actor = try Self.actor(key: key, member: member, user: user, mission: mission, store: path)
        var time = at
        if time == nil {
            guard let latest = try openStore(path, mission: mission).latestRecordTime() else {
                throw CLIError("give --at: the store holds no record to date the action by")
            }
            time = latest.rfc3339
            print("at \(latest.rfc3339): the event time of the log's latest record (give --at to date it otherwise)")
        }
        let fields: [String: JSONValue] = [
            "action": .string(action), "member": .string(actor.member), "user": .string(actor.user),
            "at": .string(time ?? ""),
        ]
        return (fields, actor.role)
    }

    /// Decodes an action built from options, its id given or derived from its content.
    static func decodeAction<A>(_ fields: [String: JSONValue], id: String?, decode: (JSONValue) throws -> A) throws -> A
    {
        var fields = fields
        fields["id"] = .string(id ?? "A" + EventChain.digestPrefix(Array(JSONValue.object(fields).prettyPrinted.utf8)))
        do {
            return try decode(.object(fields))
        } catch let error as FieldError {
            throw CLIError("action refused: \(error)")
        }
    }

    /// The mission's engine over a store: resumed from the latest good snapshot and the log after it (refused
    /// snapshots are reported on standard error).
    static func openEngine(missionDirectory: String, mission: Mission, store path: String) throws -> StoredEngine {
        let store = try openStore(path, mission: mission)
        do {
            return try StoredEngine(
                mission: mission, store: store,
                fingerprint: MissionDirectory.fingerprint(URL(fileURLWithPath: missionDirectory, isDirectory: true)),
                warn: { FileHandle.standardError.write(Data("warning: \($0)\n".utf8)) })
        } catch let error as StoreError {
            throw CLIError("\(error)")
        }
    }

    /// After a command replayed a long tail of the log, a snapshot saves the next command from doing it again.
    static func snapshotIfLong(_ engine: inout StoredEngine) {
        if engine.position - (engine.startedFrom ?? 0) >= 10_000 { try? engine.saveSnapshot() }
    }

    /// Tries an action on the engine (resumed from the store) and appends it only if it applies; returns the
    /// changes it made.
    static func record(_ action: MissionAction, missionDirectory: String, mission: Mission, store path: String)
        throws -> (engine: StoredEngine, changes: EngineChanges, stored: EventStore.IngestResult)
    {
        let action = action.received(at: WallClock.now())
        var engine = try openEngine(missionDirectory: missionDirectory, mission: mission, store: path)
        // A retry of a stored action (only applied actions are stored) is that action: nothing to do again.
        if try engine.store.action(id: action.id) != nil {
            do {
                let stored = try engine.store.record(action)
                return (engine, EngineChanges(), stored)
            } catch let error as StoreError {
                throw CLIError("\(error); nothing was stored")
            }
        }
        var trial = engine.engine
        trial.add(action)
        trial.refresh()
        let changes = trial.takeChanges()
        let outcome: String
        switch action {
        case .review(let a): outcome = changes.outcomes.last { $0.action.id == a.id }?.outcome ?? "refused: not applied"
        case .guarantee(let a):
            outcome =
                changes.guarantee?.actions.first { $0.action.id == a.id }?.outcome
                ?? "refused: the mission has no guarantee (coalition.json, triggers.json)"
        }
        guard outcome == "applied" else { throw CLIError("action \(action.id) \(outcome); nothing was stored") }
        do {
            let stored = try engine.store.record(action)
            engine.adopt(trial, changes: changes, through: stored.eventCount)
            snapshotIfLong(&engine)
            return (engine, changes, stored)
        } catch let error as StoreError {
            throw CLIError("\(error) — nothing was stored")
        }
    }

    static func write(_ bytes: [UInt8], to url: URL) throws {
        try Data(bytes).write(to: url, options: .atomic)
    }
}

/// Progress on a terminal (standard error), silent when it is not one.
struct Progress {
    let total: Int
    let label: String
    let enabled = isatty(2) == 1

    func update(_ done: Int) {
        guard enabled, total > 0 else { return }
        FileHandle.standardError.write(Data("\r\(label) \(done)/\(total) (\(done * 100 / total) %)".utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

extension Int {
    /// 1234567 → "1,234,567".
    var grouped: String {
        let digits = String(abs(self))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return self < 0 ? "-" + out : out
    }
}
