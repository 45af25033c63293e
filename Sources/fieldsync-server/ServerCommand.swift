import ArgumentParser

/// `fieldsync-server`: serve the sync API and board, and manage users.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldsync-server",
        abstract: "The central FieldSync server: sync API for crews, dispatcher board.",
        subcommands: [ServeCommand.self, UserCommand.self, MigrateCommand.self, BackupCommand.self])
}

/// `--db PATH`, shared by every subcommand.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: "Path of the server's SQLite database file (created if missing).")
    var path: String

    /// A database URL (`postgres://…`, or any `scheme://`) is refused before anything is
    /// created: this build stores in SQLite only, and a URL taken as a path used to make a
    /// folder named `postgres:` with a SQLite file in it.
    func validate() throws {
        if let scheme = path.range(of: "://").map({ String(path[..<$0.lowerBound]) }),
           !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) })
        {
            throw ValidationError(
                "--db \(scheme)://… is a database URL, but this build of fieldsync-server stores in SQLite only: give the path of a SQLite file, e.g. --db /var/lib/fieldsync/depot.sqlite")
        }
    }
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
