import Foundation
import FieldSyncSQLite
import GRDB

/// The central server's SQLite database, the embedded ``ServerStore``: owns the
/// connection and the migrator, and runs the migrations when it opens.
///
/// A file opens as a `DatabasePool` (WAL), so pulls read a snapshot while a push
/// writes. Every write is one `BEGIN IMMEDIATE` transaction: SQLite serialises writers,
/// so the order of event sequence numbers is the order of commits and a pull cursor
/// never skips a change.
public final class ServerDatabase: ServerStore {
    /// The connection: a pool for a file, a queue for an in-memory database.
    let writer: any DatabaseWriter
    /// The file, or nil in memory.
    public let path: String?
    /// Checkpoints the file's WAL off the write path (nil in memory).
    let checkpointer: WALCheckpointer?
    /// WAL pages after which the committing connection checkpoints itself anyway, when the
    /// ``checkpointer`` falls behind (SQLite's `wal_autocheckpoint`; about 80 MB of 4 KB
    /// pages).
    static let walBackstopPages = 20_000

    /// Opens (creating if needed, with its directory) the database file at `path` and
    /// migrates it.
    ///
    /// - Throws: ``ServerDatabaseError`` naming the file and the fix when it is not an
    ///   SQLite file, cannot be created, or was written by a newer release.
    public convenience init(path: String, migrate: Bool = true) throws(ServerDatabaseError) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ServerDatabaseError(
                code: .cannotOpen, path: path,
                message: "cannot create the directory of the database \(path): check the path and its permissions, or pass another --db",
                cause: error)
        }
        let writer: DatabasePool
        do {
            writer = try DatabasePool(path: path, configuration: Self.configuration)
        } catch {
            throw Self.openError(error, path: path)
        }
        let checkpointer: WALCheckpointer
        do {
            checkpointer = try WALCheckpointer(path: path, label: "fieldsync-server checkpoint", interval: 0.25)
        } catch {
            throw Self.openError(error, path: path)
        }
        try self.init(writer: writer, path: path, migrate: migrate, checkpointer: checkpointer)
    }

    /// A fresh database in memory, for tests and in-process use.
    public static func inMemory() throws(ServerDatabaseError) -> ServerDatabase {
        do {
            return try ServerDatabase(
                writer: DatabaseQueue(configuration: configuration), path: nil)
        } catch let error as ServerDatabaseError {
            throw error
        } catch {
            throw openError(error, path: ":memory:")
        }
    }

    private init(
        writer: any DatabaseWriter, path: String?, migrate: Bool = true, checkpointer: WALCheckpointer? = nil
    ) throws(ServerDatabaseError) {
        self.writer = writer
        self.path = path
        self.checkpointer = checkpointer
        let name = path ?? ":memory:"
        do {
            let superseded = try writer.read { db in try Self.migrator.hasBeenSuperseded(db) }
            if superseded {
                throw ServerDatabaseError(
                    code: .tooNew, path: name,
                    message: "\(name) was written by a newer fieldsync-server: run that release, or pass another --db")
            }
            if migrate { try Self.migrator.migrate(writer) }
        } catch let error as ServerDatabaseError {
            throw error
        } catch {
            throw Self.openError(error, path: name)
        }
    }

    private static var configuration: Configuration {
        var config = Configuration()
        config.label = "fieldsync-server"
        // `fieldsync-server user add` may write while the server runs: wait, do not fail.
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            db.add(function: wrapAdd)
            // Pages are read through a memory map of the file, not one `pread` each: the
            // profile of a desk's first sync (every order, 100 pages) showed those reads as
            // a third of the server's CPU with SQLite's 2 MB page cache. The map shares the
            // operating system's cache among the pool's connections; writes still go
            // through the WAL.
            try db.execute(sql: "PRAGMA mmap_size = \(mmapBytes)")
            // The WAL goes back into the file on a thread of its own (``WALCheckpointer``);
            // a connection checkpoints itself only past this backstop.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(walBackstopPages)")
        }
        return config
    }

    /// How much of the database file each connection maps (SQLite caps it at its
    /// compile-time maximum, 2 GB by default).
    static let mmapBytes: Int64 = 1 << 30

    /// `fieldsync_wrap_add(a, b)`: a + b modulo 2^64, as the scope checksums add (SQLite's
    /// own `+` turns an overflowing sum into a float). PostgreSQL has the same function
    /// (``PostgresSchema``), so the checksum update is one statement on both.
    private static let wrapAdd = DatabaseFunction("fieldsync_wrap_add", argumentCount: 2, pure: true) { values in
        let a = Int64.fromDatabaseValue(values[0]) ?? 0
        let b = Int64.fromDatabaseValue(values[1]) ?? 0
        return a &+ b
    }

    public var engine: StorageEngine { .sqlite }

    public var location: String { path ?? ":memory:" }

    public func write<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try sqliteWrite { db in try body(SQLiteSession(db: db)) }
    }

    public func read<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try sqliteRead { db in try body(SQLiteSession(db: db)) }
    }

    public func migrations() throws -> (applied: [String], pending: [String]) {
        let applied = try writer.read { db in try Self.migrator.appliedMigrations(db) }
        let done = Set(applied)
        return (applied, ServerSchema.migrations.map(\.name).filter { !done.contains($0) })
    }

    @discardableResult
    public func migrate() throws -> [String] {
        let pending = try migrations().pending
        try Self.migrator.migrate(writer)
        return pending
    }

    /// Named, append-only migrations. Never edit a shipped one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (name, sql) in ServerSchema.migrations {
            migrator.registerMigration(name) { db in try db.execute(sql: sql) }
        }
        return migrator
    }

    private static func openError(_ error: any Error, path: String) -> ServerDatabaseError {
        if let db = error as? DatabaseError,
           db.resultCode == .SQLITE_NOTADB || db.resultCode == .SQLITE_CORRUPT
        {
            return ServerDatabaseError(
                code: .notADatabase, path: path,
                message: "\(path) is not a FieldSync server database (SQLite says: \(db.resultCode)): pass the right --db, or move the file aside to start an empty database",
                cause: error)
        }
        return ServerDatabaseError(
            code: .cannotOpen, path: path,
            message: "cannot open the database \(path) (\(error)): check the path and its permissions, or pass another --db",
            cause: error)
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction on the GRDB connection itself
    /// (SQLite-only work: schema checks, tests); an error thrown rolls it back.
    func sqliteWrite<T>(_ body: (Database) throws -> T) throws -> T {
        let result: T = try writer.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            guard let result else { throw DatabaseError(message: "transaction produced no result") }
            return result
        }
        checkpointer?.committed()
        return result
    }


    /// Runs `body` in one read transaction (a snapshot in WAL mode) on the GRDB connection.
    func sqliteRead<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.read(body)
    }

    /// The names of the user tables and their columns, in table order, for schema checks.
    func tableColumns() throws -> [String: [String]] {
        try sqliteRead { db in
            let tables = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table'
                AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'
                """)
            var result: [String: [String]] = [:]
            for table in tables {
                result[table] = try db.columns(in: table).map(\.name)
            }
            return result
        }
    }
}
