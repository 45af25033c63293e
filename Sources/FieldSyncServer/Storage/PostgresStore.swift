import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// The server's data in PostgreSQL, shared by every instance that names the same database:
/// the ``ServerStore`` for a city utility's several `fieldsync-server` instances.
///
/// Transactions (see ``ServerStore``): a write begins with
/// `pg_advisory_xact_lock(FieldSync)`, so writers commit one at a time, in the order
/// their events were numbered; a read is a `REPEATABLE READ READ ONLY` snapshot. When the
/// database goes away, calls throw ``StorageError/Code/unavailable`` (the routes answer
/// 503) and the next call connects again.
public final class PostgresStore: ServerStore, @unchecked Sendable {
    /// The advisory lock key every write transaction takes ("FSYN").
    static let writeLock: Int64 = 0x4653_594E

    public var engine: StorageEngine { .postgres }
    public let location: String
    /// The URL as given (with its password), for tests that open a second instance.
    let testURL: String
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let pool: Pool

    /// Connects to the database `url` names (`postgres://user:password@host:port/name`,
    /// `?sslmode=require` for TLS, `?pool=N` connections, default 16) and, unless
    /// `migrate` is false, applies its pending migrations.
    ///
    /// - Throws: ``ServerDatabaseError`` naming the fix: the URL does not parse, or the
    ///   database cannot be reached or refuses the login.
    public init(url: String, migrate: Bool = true, logger: Logger = Logger(label: "fieldsync-server.postgres")) throws(ServerDatabaseError) {
        let (configuration, shown, size) = try Self.parse(url)
        self.configuration = configuration
        location = shown
        testURL = url
        self.logger = logger
        pool = Pool(size: size)
        do {
            if migrate {
                try self.migrate()
            } else {
                try withSession { session in try session.script("SELECT 1") }
            }
        } catch let error as StorageError where error.code == .unavailable {
            throw ServerDatabaseError(code: .cannotOpen, path: shown, message: error.message + ", or pass another --db", cause: error)
        } catch {
            throw ServerDatabaseError(
                code: .cannotOpen, path: shown,
                message: "cannot use the PostgreSQL database \(shown) (\(error)): check the database and its permissions, or pass another --db",
                cause: error)
        }
    }

    deinit {
        pool.closeAll()
    }

    public func write<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL READ COMMITTED", lock: true, body)
    }

    public func read<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", lock: false, body)
    }

    public func migrations() throws -> (applied: [String], pending: [String]) {
        try withSession { session in
            // Read only: a database never migrated has no bookkeeping table yet.
            let exists = try session.value(String.self, "SELECT to_regclass('fieldsync_migrations')::text") != nil
            let applied = exists
                ? try session.values(String.self, "SELECT name FROM fieldsync_migrations ORDER BY applied_at, name") : []
            let known = Set(PostgresSchema.migrations.map(\.name))
            if let unknown = applied.first(where: { !known.contains($0) }) {
                throw StorageError(code: .badValue, message: "the database holds migration \(unknown), which this release does not know: it was written by a newer fieldsync-server; run that release")
            }
            let done = Set(applied)
            return (applied, PostgresSchema.migrations.map(\.name).filter { !done.contains($0) })
        }
    }

    @discardableResult
    public func migrate() throws -> [String] {
        _ = try migrations()
        // Instances starting together: one migrates, the others wait on the lock and
        // then find nothing to do.
        return try write { session in
            guard let postgres = session as? PostgresSession else { return [] }
            try postgres.script("CREATE TABLE IF NOT EXISTS fieldsync_migrations (name TEXT PRIMARY KEY NOT NULL, applied_at BIGINT NOT NULL)")
            let done = Set(try session.values(String.self, "SELECT name FROM fieldsync_migrations"))
            var applied: [String] = []
            for (name, sql) in PostgresSchema.migrations where !done.contains(name) {
                try postgres.script(sql)
                try session.execute(
                    "INSERT INTO fieldsync_migrations (name, applied_at) VALUES (?, ?)",
                    [name, Int64(Date().timeIntervalSince1970 * 1000)])
                applied.append(name)
            }
            return applied
        }
    }

    /// Runs statements outside any transaction (`CREATE DATABASE` for tests).
    func script(_ sql: String) throws {
        try withSession { session in try session.script(sql) }
    }

    // MARK: - Transactions

    private func transaction<T>(_ begin: String, lock: Bool, _ body: (any SQLSession) throws -> T) throws -> T {
        try withSession { session in
            try session.script(begin)
            do {
                if lock { try session.execute("SELECT pg_advisory_xact_lock(?)", [Self.writeLock]) }
                let result = try body(session)
                try session.script("COMMIT")
                return result
            } catch {
                if !session.broken { try? session.script("ROLLBACK") }
                throw error
            }
        }
    }

    private func withSession<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        let connection = try pool.acquire(connect: connect)
        let session = PostgresSession(connection: connection, logger: logger)
        do {
            let result = try body(session)
            pool.release(connection, broken: session.broken)
            return result
        } catch {
            pool.release(connection, broken: session.broken || connection.isClosed)
            throw error
        }
    }

    private func connect() throws -> PostgresConnection {
        do {
            return try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                id: Int.random(in: 1...Int.max), logger: logger
            ).wait()
        } catch {
            throw StorageError.unavailable("cannot connect to PostgreSQL at \(location) (\(Self.reason(error))): check that it runs and accepts the user and password")
        }
    }

    private static func reason(_ error: any Error) -> String {
        if let psql = error as? PSQLError, let message = psql.serverInfo?[.message] { return message }
        if let psql = error as? PSQLError { return psql.underlying.map { "\($0)" } ?? "\(psql.code)" }
        return "\(error)"
    }

    // MARK: - URL

    /// The connection settings of a `postgres://` URL, the URL as shown (no password),
    /// and the pool size.
    static func parse(_ url: String) throws(ServerDatabaseError) -> (PostgresConnection.Configuration, String, Int) {
        func refuse(_ problem: String) -> ServerDatabaseError {
            ServerDatabaseError(
                code: .cannotOpen, path: url,
                message: "--db: \(problem): write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(),
              scheme == "postgres" || scheme == "postgresql"
        else { throw refuse("\(url) is not a PostgreSQL URL") }
        guard let host = parts.host, !host.isEmpty else { throw refuse("the URL names no host") }
        guard let user = parts.user, !user.isEmpty else { throw refuse("the URL names no user") }
        let database = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        guard !database.isEmpty else { throw refuse("the URL names no database") }
        let port = parts.port ?? 5432
        var tls = PostgresConnection.Configuration.TLS.disable
        var size = 16
        for item in parts.queryItems ?? [] {
            switch (item.name, item.value ?? "") {
            case ("sslmode", "disable"): tls = .disable
            case ("sslmode", "require"):
                do {
                    tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
                } catch {
                    throw refuse("TLS cannot be set up (\(error))")
                }
            case ("pool", let value):
                guard let n = Int(value), (1...256).contains(n) else { throw refuse("pool must be 1 to 256 connections") }
                size = n
            default:
                throw refuse("the URL option \(item.name)=\(item.value ?? "") is not known (known: sslmode=disable|require, pool=N)")
            }
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: parts.password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        // `pg_stat_activity` tells the instances apart: which one holds the write lock.
        configuration.options.additionalStartupParameters = [("application_name", "fieldsync-server/\(getpid())")]
        var shown = parts
        shown.password = parts.password == nil ? nil : "***"
        return (configuration, shown.string ?? "postgres://\(host)", size)
    }

    // MARK: - Pool

    /// At most `size` connections, reused; a broken one is closed and replaced on demand.
    final class Pool: @unchecked Sendable {
        private let condition = NSCondition()
        private var idle: [PostgresConnection] = []
        private var open = 0
        let size: Int

        init(size: Int) { self.size = size }

        func acquire(connect: () throws -> PostgresConnection) throws -> PostgresConnection {
            condition.lock()
            let deadline = Date().addingTimeInterval(10)
            while true {
                if let connection = idle.popLast() {
                    if connection.isClosed {
                        open -= 1
                        continue
                    }
                    condition.unlock()
                    return connection
                }
                if open < size {
                    open += 1
                    condition.unlock()
                    do {
                        return try connect()
                    } catch {
                        condition.lock()
                        open -= 1
                        condition.signal()
                        condition.unlock()
                        throw error
                    }
                }
                if !condition.wait(until: deadline) {
                    condition.unlock()
                    throw StorageError.unavailable("all \(size) PostgreSQL connections were busy for 10 s: raise ?pool= in --db, or max_connections")
                }
            }
        }

        func release(_ connection: PostgresConnection, broken: Bool) {
            condition.lock()
            if broken {
                open -= 1
                Self.close(connection)
            } else {
                idle.append(connection)
            }
            condition.signal()
            condition.unlock()
        }

        /// Closes and waits (postgres-nio wants a connection closed before it is freed).
        private static func close(_ connection: PostgresConnection) {
            let closing: EventLoopFuture<Void> = connection.close()
            try? closing.wait()
        }

        func closeAll() {
            condition.lock()
            let connections = idle
            idle = []
            open -= connections.count
            condition.unlock()
            for connection in connections { Self.close(connection) }
        }
    }
}
