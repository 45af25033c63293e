import ArgumentParser
import FieldSyncServer

/// `fieldsync-server backup --db PATH --to FILE`: an online copy of the SQLite database,
/// safe while the server runs (SQLite's backup API, one consistent snapshot).
///
/// Restore by stopping the server and putting the copy in place of the database file
/// (with its `-wal` and `-shm` files removed). For PostgreSQL use `pg_dump` (README).
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database to a new file while the server runs.",
        discussion: "The copy is checked with SQLite's integrity check before it takes the name given to --to; an existing file is never replaced.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The new file to write the copy to; it must not exist.")
    var to: String

    func validate() throws {
        guard !to.isEmpty else { throw ValidationError("--to is empty: name the new backup file") }
    }

    func run() throws {
        if database.isURL {
            throw ValidationError(
                "backup copies an SQLite file; for PostgreSQL use pg_dump, e.g. `pg_dump --format=custom --file=fieldsync.dump \"$URL\"` (README: Operating the server)")
        }
        let path = database.path
        let summary = try ServerBackup.copy(from: path, to: to)
        print("backed up \(path) to \(to): \(summary.bytes) bytes, migrations up to \(summary.migrations.last ?? "none")")
    }
}
