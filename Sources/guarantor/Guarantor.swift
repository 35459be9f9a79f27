import ArgumentParser
import GuarantorCLI

/// The executable: ``GuarantorCommand``'s commands, run asynchronously (the server is async).
@main
struct Guarantor: AsyncParsableCommand {
    static let configuration = GuarantorCommand.configuration
}
