import Crypto
import Foundation
import GuarantorCore

/// A mission directory on disk (DESIGN §3.1): agreement.json, sources.json and the files they name.
public enum MissionDirectory {
    public static let agreementFile = "agreement.json"
    public static let sourcesFile = "sources.json"
    public static let declarationsFile = "declarations.json"
    public static let coalitionFile = "coalition.json"
    public static let triggersFile = "triggers.json"

    /// Reads, validates and indexes the mission in `directory`.
    /// - Throws: ``ConfigurationError`` naming the file, the JSON path and the reason.
    public static func load(_ directory: URL) throws -> Mission {
        let agreementValue = try readJSON(directory, agreementFile)
        let agreement = try wrap(agreementFile) { try Agreement(json: agreementValue) }
        let lineParts: [[GeoPoint]]
        let lineFile: String
        switch agreement.line {
        case .inline(let value):
            lineFile = agreementFile
            lineParts = try wrap(agreementFile) { try GeoJSON.lineParts(value, path: "line") }
        case .file(let path):
            lineFile = path
            let value = try readJSON(directory, path)
            lineParts = try wrap(path) { try GeoJSON.lineParts(value) }
        }
        var areas: [GeoJSON.NamedArea]?
        if case .areas(let path) = agreement.sectors {
            let value = try readJSON(directory, path)
            areas = try wrap(path) { try GeoJSON.namedAreas(value) }
        }
        let sourcesValue = try readJSON(directory, sourcesFile)
        let sources = try wrap(sourcesFile) { try SourceRegistry(json: sourcesValue) }
        // Without the file, no party has declared anything: each one is reported for it.
        var declarations = Declarations.none
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent(declarationsFile).path) {
            let value = try readJSON(directory, declarationsFile)
            declarations = try wrap(declarationsFile) {
                try Declarations(json: value, parties: agreement.parties.map(\.id))
            }
        }
        var mission: Mission
        do {
            mission = try Mission(
                agreement: agreement, lineParts: lineParts, areas: areas, sources: sources,
                declarations: declarations, lineFile: lineFile)
        } catch let problem as Mission.Problem {
            throw ConfigurationError(file: problem.file, path: problem.error.path, reason: problem.error.reason)
        }
        // The guarantee engine needs both files; with neither the mission only verifies.
        let hasCoalition = exists(directory, coalitionFile), hasTriggers = exists(directory, triggersFile)
        if hasCoalition != hasTriggers {
            throw ConfigurationError(
                file: hasCoalition ? triggersFile : coalitionFile, path: "",
                reason: "missing: the guarantee needs both coalition.json and triggers.json")
        }
        if hasCoalition {
            let coalitionValue = try readJSON(directory, coalitionFile)
            let triggersValue = try readJSON(directory, triggersFile)
            let members = try wrap(coalitionFile) { try Coalition(json: coalitionValue) }.members.map(\.id)
            let book = try wrap(triggersFile) {
                try TriggerBook(
                    json: triggersValue, rules: mission.ruleIds, sectors: mission.sectors.names,
                    zones: agreement.zones.map(\.id), parties: agreement.parties.map(\.id), members: members)
            }
            // Levels named by pledges and sanctions packages must exist on the ladder.
            mission.coalition = try wrap(coalitionFile) {
                try Coalition(json: coalitionValue, highestLevel: book.highestLevel)
            }
            mission.triggers = book
        }
        return mission
    }

    /// A digest of every file that decides the mission's results (the agreement and the files it names, sources,
    /// declarations, coalition, triggers): derived results kept in a store are valid only for the same digest.
    public static func fingerprint(_ directory: URL) throws -> String {
        var names = [agreementFile, sourcesFile, declarationsFile, coalitionFile, triggersFile]
        if let agreement = try? Agreement(json: readJSON(directory, agreementFile)) {
            if case .file(let path) = agreement.line { names.append(path) }
            if case .areas(let path) = agreement.sectors { names.append(path) }
        }
        var hasher = SHA256()
        for name in names {
            let url = URL(fileURLWithPath: name, relativeTo: directory)
            hasher.update(data: Array("\(name)\u{0}".utf8))
            if let data = FileManager.default.contents(atPath: url.path) {
                hasher.update(data: Array("\(data.count)\u{0}".utf8))
                hasher.update(data: data)
            } else {
                hasher.update(data: Array("-\u{0}".utf8))
            }
        }
        return EventChain.hex(Array(hasher.finalize()))
    }

    private static func exists(_ directory: URL, _ name: String) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path)
    }

    /// Writes a JSON file as people read it (indented, sorted members).
    public static func write(_ value: JSONValue, to url: URL) throws {
        try Data(value.prettyPrinted.utf8).write(to: url, options: .atomic)
    }

    /// Reads and parses a JSON file of the mission.
    public static func readJSON(_ directory: URL, _ name: String) throws -> JSONValue {
        let url = URL(fileURLWithPath: name, relativeTo: directory)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ConfigurationError(file: name, path: "", reason: "cannot read \(url.path)")
        }
        if data.isEmpty { throw ConfigurationError(file: name, path: "", reason: "the file is empty") }
        do {
            return try JSONValue.parse(data)
        } catch {
            throw ConfigurationError(file: name, path: "", reason: error.description)
        }
    }

    private static func wrap<T>(_ file: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as FieldError {
            throw ConfigurationError(file: file, path: error.path, reason: error.reason)
        }
    }
}

/// A mission file that cannot be used: which file, where in it (a JSON path) and why.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var path: String
    public var reason: String

    public init(file: String, path: String, reason: String) {
        self.file = file
        self.path = path
        self.reason = reason
    }

    public var description: String { path.isEmpty ? "\(file): \(reason)" : "\(file): \(path): \(reason)" }
}
