import FieldSyncCore
import Foundation
import GRDB

/// The technician's (or dispatcher's) local SQLite store: confirmed events from the server,
/// the outbox of intents not yet acknowledged, and the local view both make.
///
/// Every public method that changes something is one write transaction, so a crash leaves
/// either all of a user action or none of it.
public final class ClientDatabase: Sendable {
    let writer: any DatabaseWriter

    /// Opens (creating if needed) the store at `path` in WAL mode and migrates it.
    ///
    /// One connection: a command runs on one thread, and other commands (another
    /// terminal) are other processes, which WAL serves as before. A `DatabasePool` opened a
    /// second connection for the first read, and, because the last connection to close
    /// removes the WAL file, its set-up created and dropped a table on every open to
    /// recreate one: a schema-changing write in front of every `show`. The profile of a
    /// `sync` with nothing new put the store's opening at a seventh of the process.
    public convenience init(path: String) throws(StoreError) {
        let writer: any DatabaseWriter
        do {
            var config = Self.configuration()
            config.prepareDatabase { db in
                // WAL is kept in the file once set. FULL: a commit waits for the disk, so an
                // action the technician saw saved survives a power cut as well as a crash.
                // Pull transactions lower it to NORMAL (a page can be fetched again).
                let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                guard mode == "wal" else {
                    throw DatabaseError(message: "could not switch to WAL mode (journal mode is \(mode ?? "unknown"))")
                }
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            writer = try DatabaseQueue(path: path, configuration: config)
        } catch {
            throw StoreError.unreadable(path: path, cause: "\(error)")
        }
        try self.init(writer: writer, path: path)
    }

    /// A store in memory, for tests and simulations.
    public static func inMemory() throws(StoreError) -> ClientDatabase {
        do {
            return try ClientDatabase(writer: DatabaseQueue(configuration: configuration()), path: ":memory:")
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.unreadable(path: ":memory:", cause: "\(error)")
        }
    }

    init(writer: any DatabaseWriter, path: String) throws(StoreError) {
        self.writer = writer
        do {
            try Self.migrator.migrate(writer)
        } catch {
            throw StoreError.unreadable(path: path, cause: "\(error)")
        }
    }

    /// Every connection of the store: a busy timeout, and the checksum terms the
    /// `confirmed_order` triggers call (``ClientSchema``, migration v4).
    static func configuration() -> Configuration {
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in try ChecksumFunctions.register(db) }
        return config
    }

    /// The named, append-only migrations of ``ClientSchema``.
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (name, sql) in ClientSchema.migrations {
            migrator.registerMigration(name) { db in
                try db.execute(sql: sql)
                // v3 adds columns an older file's rows must get from their JSON.
                if name == "v3-summary" { try backfillSummaries(db) }
                // v4 keeps the sum from now on; it starts as the sum of the rows.
                if name == "v4-checksum-triggers" { try setMeta(db, checksumKey, String(try fullChecksum(db))) }
            }
        }
        return migrator
    }

    /// Copies the whole store, consistently, into a new SQLite file at `path` (SQLite's
    /// online backup): a copy taken while the device works, as a tablet backup would. A
    /// store later replaced by such a copy recovers on its next sync (POST /v1/sync/recover).
    public func backup(to path: String) throws {
        try writer.backup(to: try DatabaseQueue(path: path))
    }

    /// Runs `PRAGMA integrity_check`; "ok" when the file is sound.
    public func integrityCheck() throws -> String {
        try writer.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "" }
    }

    // MARK: - Shared helpers

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static func encode<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    /// An intent stored as JSON: read by ``PullPageDecoder`` (the profile of a first sync
    /// showed `JSONDecoder` reading back stored events as an eighth of its time), with
    /// `JSONDecoder` for anything that reader is not sure of.
    static func decodeIntent(_ text: String) throws -> Intent {
        if let intent = PullPageDecoder.intent(text) { return intent }
        return try decode(Intent.self, text)
    }
}

/// A problem with the local store, with what to do about it.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// The file is not a FieldSync store or is damaged.
    case unreadable(path: String, cause: String)
    /// No `fieldsync login` yet.
    case notLoggedIn
    /// The id matches no order (or several).
    case unknownOrder(String)
    case ambiguousOrder(String, candidates: [String])
    /// The action was refused by the rules before anything was written.
    case refused(Rejection)
    /// Logging in as someone else (or elsewhere) would drop actions not yet sent.
    case unsentWork(user: String, server: String, count: Int)
    /// The lifecycle does not allow this step from the current status.
    case illegalTransition(order: String, from: OrderStatus, to: OrderStatus, role: Role)
    /// The device has no number from the server yet, so it cannot make order ids.
    case noDeviceNumber

    public var description: String {
        switch self {
        case .unreadable(let path, let cause):
            return "cannot open the store \(path) (\(cause)): move the file aside and run `fieldsync login` again to rebuild it from the server"
        case .notLoggedIn:
            return "not logged in: run `fieldsync login --server URL --token TOKEN` once while online"
        case .unknownOrder(let id):
            return "no order matches '\(id)': run `fieldsync jobs` to see your orders (sync first if it was just assigned; orders finished longer ago than the server's retention, 30 days unless set otherwise, leave devices; the dispatcher's board still has them)"
        case .ambiguousOrder(let id, let candidates):
            return "'\(id)' matches several orders (\(candidates.joined(separator: ", "))): type more of the id"
        case .refused(let rejection):
            return rejection.message
        case .unsentWork(let user, let server, let count):
            return "this device holds \(count) action(s) by \(user) not yet sent to \(server): "
                + "run `fieldsync sync` as \(user) first, or log in with another --home"
        case .noDeviceNumber:
            return "this device has no number from the server yet, which order ids need: run `fieldsync login` again while online"
        case .illegalTransition(let order, let from, let to, let role):
            let next = from.next.filter { $0.owner == role && $0 != .signedOff }
                .map(\.rawValue).joined(separator: ", ")
            return "order \(order) is \(from.rawValue) (\(from.chinese)); it cannot go to \(to.rawValue) from there"
                + (next.isEmpty ? "" : ". Next steps: \(next)")
        }
    }
}
