import Foundation
import GRDB

/// The versioned migrations of a server database file, for `fieldsync-server migrate`:
/// which are applied, which are pending, and applying them.
///
/// `ServerDatabase` migrates on open as ever (so `serve` needs no separate step); this
/// lets an operator see and run that step alone, e.g. before starting a new release on
/// several instances at once.
public enum ServerMigrations {
    /// Every migration this release knows, in the order they apply.
    public static var names: [String] { ServerSchema.migrations.map(\.name) }

    /// The migrations a database file has and lacks.
    public struct Status: Sendable, Equatable {
        /// Applied, in this release's order.
        public var applied: [String]
        /// Not applied yet, in the order they would apply.
        public var pending: [String]
        /// Whether the file exists (a missing one is created by ``migrate(path:)``).
        public var exists: Bool
    }

    /// What `path` has and lacks, read without changing it (nothing is created).
    ///
    /// - Throws: ``ServerDatabaseError`` when the file is not a server database, cannot be
    ///   read, or was written by a newer release.
    public static func status(path: String) throws(ServerDatabaseError) -> Status {
        guard FileManager.default.fileExists(atPath: path) else {
            return Status(applied: [], pending: names, exists: false)
        }
        // Not `readonly`: SQLite cannot open a WAL file read-only once its `-wal` is gone.
        // Only reads run, so the file is left as it was.
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            let (applied, superseded) = try queue.read { db in
                (try ServerDatabase.migrator.appliedIdentifiers(db), try ServerDatabase.migrator.hasBeenSuperseded(db))
            }
            if superseded {
                throw ServerDatabaseError(
                    code: .tooNew, path: path,
                    message: "\(path) was written by a newer fieldsync-server: run that release, or pass another --db")
            }
            return Status(
                applied: names.filter(applied.contains), pending: names.filter { !applied.contains($0) }, exists: true)
        } catch let error as ServerDatabaseError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT {
            throw ServerDatabaseError(
                code: .notADatabase, path: path,
                message: "\(path) is not a FieldSync server database (SQLite says: \(error.resultCode)): pass the right --db",
                cause: error)
        } catch {
            throw ServerDatabaseError(
                code: .cannotOpen, path: path,
                message: "cannot read the database \(path) (\(error)): check the path and its permissions, or pass another --db",
                cause: error)
        }
    }

    /// Applies the pending migrations of `path` (creating the file if missing) and returns
    /// those it applied, in order; empty when it was up to date.
    ///
    /// - Throws: ``ServerDatabaseError`` as ``status(path:)`` and `ServerDatabase(path:)` do;
    ///   nothing is applied then.
    public static func migrate(path: String) throws(ServerDatabaseError) -> [String] {
        let before = try status(path: path)
        _ = try ServerDatabase(path: path)
        let after = try status(path: path)
        return after.applied.filter { !before.applied.contains($0) }
    }
}
