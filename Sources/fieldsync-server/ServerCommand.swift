import ArgumentParser
import FieldSyncServer

/// `fieldsync-server`: serve the sync API and board, and manage users.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldsync-server",
        abstract: "The central FieldSync server: sync API for crews, dispatcher board.",
        subcommands: [ServeCommand.self, UserCommand.self, MigrateCommand.self, BackupCommand.self])
}

/// `--db PATH|URL`, shared by every subcommand.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("db"),
        help: "The server's database: the path of an SQLite file (created if missing), or a postgres://USER:PASSWORD@HOST:PORT/DATABASE URL shared by several instances.")
    var path: String

    /// A URL of another scheme is refused before anything is created (taken as a path, it
    /// would make a folder named `mysql:` with an SQLite file in it).
    func validate() throws {
        if let scheme = ServerStores.schemeOf(path), scheme != "postgres", scheme != "postgresql" {
            throw ValidationError(
                "--db \(scheme)://… is not a database fieldsync-server stores in: give the path of an SQLite file (e.g. --db /var/lib/fieldsync/depot.sqlite) or a postgres:// URL")
        }
    }

    /// Whether `--db` names a PostgreSQL database.
    var isURL: Bool { ServerStores.schemeOf(path) != nil }

    /// Opens the store (migrating it).
    func open() throws -> any ServerStore {
        try ServerStores.open(path)
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
