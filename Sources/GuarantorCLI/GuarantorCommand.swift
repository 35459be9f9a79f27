import ArgumentParser

/// `guarantor`: the command-line tool of the monitoring and verification mechanism.
public struct GuarantorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "guarantor",
        abstract: "Monitoring and verification of a ceasefire: observations in, classified and verified records out.",
        subcommands: [
            MissionCommand.self, LinesCommand.self, IngestCommand.self, ReplayCommand.self, SimulateCommand.self,
            ScoreCommand.self,
            ReviewCommand.self, GuaranteeCommand.self, StatusCommand.self, ServeCommand.self, KeysCommand.self,
            DemoCommand.self, CheckpointCommand.self, VerifyCommand.self, WitnessCommand.self, RedactCommand.self,
            ReportCommand.self, ExportCommand.self, ImportCommand.self,
        ]
    )

    public init() {}
}

/// `guarantor mission …`
public struct MissionCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mission", abstract: "Create and check mission directories.",
        subcommands: [MissionInitCommand.self])

    public init() {}
}

/// A failure the user can act on: printed as `Error: <message>`, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
