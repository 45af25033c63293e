import GRDB
import GRDBSQLite

/// The values of one run of a prepared statement, bound straight through SQLite's C API.
///
/// A first sync runs a few statements per order (its events, its version, its view) on the
/// thread that stores pages, and that thread bounds the sync. GRDB's
/// `execute(arguments:)` builds an array of existential values, converts each to a
/// `DatabaseValue` and checks the count on every run: a fifth of the storing thread in the
/// profile of a desk's first sync. These statements bind their few values here instead.
public struct BoundValues {
    let handle: SQLiteStatement

    /// Binds text (copied by SQLite), or NULL for nil, to the parameter at `index` (from 1).
    public func text(_ index: Int32, _ value: String?) {
        guard var value else {
            sqlite3_bind_null(handle, index)
            return
        }
        // A native Swift string is contiguous UTF-8 already; a bridged one is copied once.
        value.withUTF8 { bytes in
            _ = sqlite3_bind_text(handle, index, bytes.baseAddress, Int32(bytes.count), sqliteTransient)
        }
    }

    /// Binds an integer, or NULL for nil, to the parameter at `index` (from 1).
    public func int(_ index: Int32, _ value: Int64?) {
        if let value {
            sqlite3_bind_int64(handle, index, value)
        } else {
            sqlite3_bind_null(handle, index)
        }
    }

    public func int(_ index: Int32, _ value: Int?) {
        int(index, value.map(Int64.init))
    }

    /// Binds a real number, or NULL for nil, to the parameter at `index` (from 1).
    public func real(_ index: Int32, _ value: Double?) {
        if let value {
            sqlite3_bind_double(handle, index, value)
        } else {
            sqlite3_bind_null(handle, index)
        }
    }

    /// Binds NULL to the parameter at `index` (from 1).
    public func null(_ index: Int32) {
        sqlite3_bind_null(handle, index)
    }
}

/// `SQLITE_TRANSIENT`: SQLite copies the bytes before the call (a bind, a function's
/// result) returns.
public let sqliteTransient = unsafeBitCast(Int(-1), to: sqlite3_destructor_type.self)

extension Statement {
    /// How many parameters the statement has (its highest `?NNN`).
    public var parameterCount: Int {
        Int(sqlite3_bind_parameter_count(sqliteStatement))
    }

    /// Runs this statement, which returns no rows, once with the values `bind` sets: every
    /// parameter must be bound by it (the ones it leaves are NULL, never an earlier run's).
    ///
    /// For statements run per row on a connection with no transaction observer (GRDB's
    /// observers do not see these runs; the CLI registers none). A failure throws the
    /// SQLite error with the statement's text.
    public func run(_ db: Database, binding bind: (BoundValues) -> Void) throws {
        let handle = sqliteStatement
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        bind(BoundValues(handle: handle))
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
        }
        sqlite3_reset(handle)
    }
}
