import Foundation
import Logging
import NIOCore
import PostgresNIO

/// ``SQLSession`` over one PostgreSQL connection. The service's code runs synchronously
/// on the database queue (``Offload``), never on an event loop, so it waits for each
/// statement's future there.
final class PostgresSession: SQLSession {
    let connection: PostgresConnection
    let logger: Logger
    /// Set when the connection failed: it goes back to no pool.
    private(set) var broken = false

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    var engine: StorageEngine { .postgres }

    func rows(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        var binds = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .null: binds.appendNull()
            case .integer(let int): binds.append(int)
            case .real(let real): binds.append(real)
            case .text(let text): binds.append(text)
            }
        }
        let query = PostgresQuery(unsafeSQL: PostgresStatements.numbered(sql), binds: binds)
        let result: PostgresQueryResult
        do {
            result = try connection.query(query, logger: logger).wait()
        } catch {
            throw classify(error, sql: sql)
        }
        var rows: [SQLRow] = []
        rows.reserveCapacity(result.rows.count)
        var columns: [String]?
        for row in result.rows {
            var values: [SQLValue] = []
            values.reserveCapacity(row.count)
            for cell in row {
                values.append(try Self.value(of: cell))
            }
            if columns == nil { columns = row.map(\.columnName) }
            rows.append(SQLRow(columns: columns ?? [], values: values))
        }
        return rows
    }

    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        _ = try rows(sql, arguments)
    }

    /// Runs statements without arguments, one after the other (several may be separated
    /// by `;`: a migration).
    func script(_ sql: String) throws {
        for statement in SQLText.statements(sql) {
            do {
                _ = try connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).wait()
            } catch {
                throw classify(error, sql: statement)
            }
        }
    }

    func nextPosition() throws -> Int64 {
        guard let position = try value(Int64.self, "SELECT nextval(pg_get_serial_sequence('events', 'seq'))") else {
            throw StorageError(code: .statement, message: "no event sequence")
        }
        return position
    }

    func lastPosition() throws -> Int64 {
        guard let row = try row("SELECT last_value, is_called FROM events_seq_seq") else { return 0 }
        let last: Int64 = try row["last_value"]
        return try row["is_called"] as Bool ? last : last - 1
    }

    func setLastPosition(_ position: Int64) throws {
        try execute("SELECT setval('events_seq_seq', ?)", [position])
    }

    /// A cell as the one of four kinds the schema uses.
    private static func value(of cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid:
            return .integer(try cell.decode(Int64.self))
        case .float4, .float8:
            return .real(try cell.decode(Double.self))
        case .bool:
            return .integer(try cell.decode(Bool.self) ? 1 : 0)
        default:
            return .text(try cell.decode(String.self))
        }
    }

    /// A statement's failure: the server's own message for an SQL error; for a lost or
    /// refused connection, ``StorageError/Code/unavailable`` (the request may succeed
    /// later) and the connection is dropped.
    func classify(_ error: any Error, sql: String) -> any Error {
        if let psql = error as? PSQLError {
            if psql.code == .server, let info = psql.serverInfo {
                let state = info[.sqlState] ?? ""
                // 08: connection exception; 57P: operator intervention (shutdown, restart).
                if state.hasPrefix("08") || state.hasPrefix("57P") {
                    broken = true
                    return StorageError.unavailable("PostgreSQL stopped serving (\(state) \(info[.message] ?? "")): check the database server")
                }
                return PostgresStatementError(sqlState: state, message: info[.message] ?? "\(psql)", sql: sql)
            }
            broken = true
            return StorageError.unavailable("lost the connection to PostgreSQL (\(psql.code)): check that the database server runs and is reachable")
        }
        if error is ChannelError || error is IOError {
            broken = true
            return StorageError.unavailable("lost the connection to PostgreSQL (\(error)): check that the database server runs and is reachable")
        }
        return error
    }
}

/// An SQL error PostgreSQL reported, with its SQLSTATE (`23505`: a unique key exists).
struct PostgresStatementError: Error, CustomStringConvertible {
    var sqlState: String
    var message: String
    var sql: String

    var description: String { "PostgreSQL \(sqlState): \(message)" }
}

/// Statement texts numbered for PostgreSQL once, then reused.
enum PostgresStatements {
    nonisolated(unsafe) private static var cache: [String: String] = [:]
    private static let lock = NSLock()

    static func numbered(_ sql: String) -> String {
        if let done = lock.withLock({ cache[sql] }) { return done }
        let numbered = SQLText.numbered(sql)
        lock.withLock {
            if cache.count > 4_096 { cache.removeAll() }
            cache[sql] = numbered
        }
        return numbered
    }
}
