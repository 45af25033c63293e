import Foundation
import GRDB

/// An online copy of a server database file through SQLite's backup API, for
/// `fieldsync-server backup`.
///
/// Safe while the server runs: the copy reads one snapshot (WAL mode lets pushes go on
/// meanwhile) and is as of one commit. It is written beside the target as `FILE.partial`
/// and renamed when whole and checked, so a crash never leaves a half copy under the
/// target's name.
public enum ServerBackup {
    /// What a finished backup holds.
    public struct Summary: Sendable, Equatable {
        /// The size of the copy in bytes.
        public var bytes: Int64
        /// The migrations the copy has (as the source had them).
        public var migrations: [String]
    }

    /// Copies the database at `source` to a new file `target`.
    ///
    /// - Throws: ``MaintenanceError`` when `source` is missing or not a server database,
    ///   `target` exists already or is `source`, or the copy fails its integrity check;
    ///   `target` is then left as it was.
    public static func copy(from source: String, to target: String) throws(MaintenanceError) -> Summary {
        let sourceURL = URL(fileURLWithPath: source).standardizedFileURL
        let targetURL = URL(fileURLWithPath: target).standardizedFileURL
        guard FileManager.default.fileExists(atPath: source) else {
            throw MaintenanceError(path: source, message: "no database at \(source): check --db")
        }
        guard sourceURL.resolvingSymlinksInPath() != targetURL.resolvingSymlinksInPath() else {
            throw MaintenanceError(path: target, message: "--to \(target) is the database itself: name a new file")
        }
        guard !FileManager.default.fileExists(atPath: target) else {
            throw MaintenanceError(
                path: target, message: "\(target) exists already: name a new file, or move the old backup aside first")
        }
        let migrations: [String]
        do throws(ServerDatabaseError) {
            migrations = try ServerMigrations.status(path: source).applied
        } catch {
            throw MaintenanceError(path: source, message: error.message, cause: error)
        }
        let partial = target + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            // Not `readonly` (SQLite cannot open a WAL file read-only once its `-wal` is
            // gone); only the backup's read runs. A write lock held a moment: wait.
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            let from = try DatabaseQueue(path: source, configuration: configuration)
            let to = try DatabaseQueue(path: partial)
            try from.backup(to: to)
            let check = try to.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
            guard check == "ok" else {
                throw MaintenanceError(path: target, message: "the copy of \(source) failed SQLite's integrity check (\(check ?? "no answer")): check the disk, then run the backup again")
            }
            try to.close()
            try from.close()
            try FileManager.default.moveItem(atPath: partial, toPath: target)
        } catch let error as MaintenanceError {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw MaintenanceError(
                path: target,
                message: "cannot back up \(source) to \(target) (\(error)): check both paths, their permissions and the free space",
                cause: error)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: target)[.size] as? NSNumber)?.int64Value ?? 0
        return Summary(bytes: size, migrations: migrations)
    }
}
