import ArgumentParser

/// `fieldsync-server`: serve the sync API and board, and manage users.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldsync-server",
        abstract: "The central FieldSync server: sync API for crews, dispatcher board.",
        subcommands: [ServeCommand.self, UserCommand.self])
}

/// `--db PATH`, shared by every subcommand.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: "Path of the server's SQLite database file (created if missing).")
    var path: String
}

extension ServerCommand {
    /// Parses the command line and runs the chosen subcommand, awaiting async ones;
    /// an error prints a usage or error message and exits non-zero (1 for failures,
    /// 64 for usage errors).
    ///
    /// (Top-level code would pick the synchronous `run()` overload, which only prints
    /// help; inside an async function the async one is chosen.)
    static func start() async {
        do {
            var command = try await asyncParseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
