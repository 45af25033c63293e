import GRDB
import GRDBSQLite

/// The row a statement stands on, read through SQLite's C API: no `Row`, no
/// `DatabaseValue` for each column (the server's generic reader spent half its time in
/// them; see ``GRDB/Statement/forEachRow(arguments:_:)``).
public struct ColumnReader {
    fileprivate let handle: SQLiteStatement

    /// How SQLite stores a column's value in this row.
    public enum Kind {
        case null, integer, real, text, blob
    }

    /// The number of columns.
    public var count: Int32 { sqlite3_column_count(handle) }

    /// The name of column `index` (from 0), as the statement names it.
    public func name(_ index: Int32) -> String {
        sqlite3_column_name(handle, index).map { String(cString: $0) } ?? ""
    }

    public func kind(_ index: Int32) -> Kind {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: .integer
        case SQLITE_FLOAT: .real
        case SQLITE_TEXT: .text
        case SQLITE_BLOB: .blob
        default: .null
        }
    }

    public func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }

    public func double(_ index: Int32) -> Double { sqlite3_column_double(handle, index) }

    /// The column's bytes as UTF-8 text, all of them (NUL bytes included); a blob's bytes
    /// too, invalid UTF-8 repaired.
    public func text(_ index: Int32) -> String {
        // The length is asked after the pointer, as SQLite's documentation says to.
        guard let bytes = sqlite3_column_text(handle, index) else { return "" }
        let length = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
    }
}

extension Statement {
    /// Runs this read-only statement with `arguments` bound and calls `body` with each row
    /// it produces, in order; the statement is reset afterwards, whatever happens.
    ///
    /// GRDB binds and checks the arguments; the rows are read through SQLite's C API. A
    /// statement that writes is refused: GRDB's bookkeeping of changes (transaction
    /// observers, the schema cache) would not see it.
    ///
    /// - Throws: GRDB's error for bad arguments, SQLite's (naming the statement) for a
    ///   failed step, or what `body` throws.
    public func forEachRow(arguments: StatementArguments, _ body: (ColumnReader) throws -> Void) throws {
        try refuseWrites()
        try setArguments(arguments)
        try stepRows(body)
    }

    /// The same, with the values `bind` sets bound straight through SQLite's C API (as
    /// ``run(_:binding:)`` does): no `StatementArguments`, no `DatabaseValue` for each, no
    /// second check of them (8% of a pull page's instructions on the server). Every
    /// parameter must be bound by `bind`; the ones it leaves are NULL, never an earlier
    /// run's.
    public func forEachRow(binding bind: (BoundValues) -> Void, _ body: (ColumnReader) throws -> Void) throws {
        try refuseWrites()
        let handle = sqliteStatement
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        bind(BoundValues(handle: handle))
        try stepRows(body)
    }

    private func refuseWrites() throws {
        guard isReadonly else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "forEachRow reads; this statement writes", sql: sql)
        }
    }

    private func stepRows(_ body: (ColumnReader) throws -> Void) throws {
        let handle = sqliteStatement
        defer { sqlite3_reset(handle) }
        let reader = ColumnReader(handle: handle)
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else {
                let message = sqlite3_db_handle(handle).flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
            }
            try body(reader)
        }
    }
}
