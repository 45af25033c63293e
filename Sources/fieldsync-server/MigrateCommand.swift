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
}
