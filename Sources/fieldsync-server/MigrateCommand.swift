import ArgumentParser
import FieldSyncServer

/// `fieldsync-server migrate --db PATH [--dry-run]`: applies the database's pending
/// migrations and names them; `--dry-run` only lists them.
///
/// `serve` migrates on open as well; this runs the step alone (say, once before several
/// instances of a new release start).
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the database's pending migrations and list them.",
        discussion: "`serve` applies them on start as well. A database written by a newer release is refused, unchanged.")

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "List the pending migrations without applying them (nothing is created or changed).")
    var dryRun = false

    func run() throws {
        if database.isURL { return try runOnPostgres() }
        let path = database.path
        if dryRun {
            let status = try ServerMigrations.status(path: path)
            if status.pending.isEmpty {
                print("\(path) is up to date (\(status.applied.count) migrations): nothing pending")
                return
            }
            for name in status.pending { print("pending \(name)") }
            let creates = status.exists ? "" : " (the file does not exist yet; migrate creates it)"
            print("\(status.pending.count) pending\(creates): run `fieldsync-server migrate --db \(path)` to apply them")
            return
        }
        let applied = try ServerMigrations.migrate(path: path)
        if applied.isEmpty {
            print("\(path) is up to date (\(ServerMigrations.names.count) migrations)")
            return
        }
        for name in applied { print("applied \(name)") }
        print("\(applied.count) applied: \(path) is up to date")
    }

    /// The same on PostgreSQL: its own migrations, recorded in `fieldsync_migrations`.
    private func runOnPostgres() throws {
        let store = try PostgresStore(url: database.path, migrate: false)
        let status = try store.migrations()
        if dryRun {
            if status.pending.isEmpty {
                print("\(store.location) is up to date (\(status.applied.count) migrations): nothing pending")
                return
            }
            for name in status.pending { print("pending \(name)") }
            print("\(status.pending.count) pending: run `fieldsync-server migrate --db URL` to apply them")
            return
        }
        let applied = try store.migrate()
        if applied.isEmpty {
            print("\(store.location) is up to date (\(status.applied.count) migrations)")
            return
        }
        for name in applied { print("applied \(name)") }
        print("\(applied.count) applied: \(store.location) is up to date")
    }
}
