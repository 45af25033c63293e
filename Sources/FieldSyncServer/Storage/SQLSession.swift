import Foundation

/// The storage engine behind a ``ServerStore``.
public enum StorageEngine: String, Sendable {
    case sqlite
    case postgres
}

/// One transaction's access to the server's tables, the same on both engines: the
/// service's SQL is written once, with `?` marks (or `:name` marks, see
/// ``rows(_:named:)``), in the subset of SQL both SQLite and PostgreSQL read the same way.
/// The few places the engines differ ask ``engine``.
public protocol SQLSession {
    /// Which engine runs the statements.
    var engine: StorageEngine { get }
    /// Runs a statement and returns every row it produced.
    func rows(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
    /// Runs a statement for its effect.
    func execute(_ sql: String, _ arguments: [SQLValue]) throws
    /// A fresh position in the sequence events are numbered from, for a change that is
    /// not an event (an archiving): later events and cursors sort after it.
    func nextPosition() throws -> Int64
    /// The last position the sequence gave (0 for none). Only a writer reads it: while it
    /// holds the write transaction nobody else moves the sequence.
    func lastPosition() throws -> Int64
    /// Moves the sequence to `position`, after events were written with explicit numbers
    /// up to it.
    func setLastPosition(_ position: Int64) throws
}

extension SQLSession {
    /// Every row of `sql`, with its `?` marks bound to `arguments` in order.
    public func rows(_ sql: String, _ arguments: SQLArguments = []) throws -> [SQLRow] {
        try rows(sql, arguments.sqlValues)
    }

    /// The first row of `sql`, or nil.
    public func row(_ sql: String, _ arguments: SQLArguments = []) throws -> SQLRow? {
        try rows(sql, arguments.sqlValues).first
    }

    /// The first column of the first row, or nil when there is no row or it is NULL.
    public func value<T: SQLValueConvertible>(_ type: T.Type, _ sql: String, _ arguments: SQLArguments = []) throws -> T? {
        guard let row = try rows(sql, arguments.sqlValues).first, let raw = row.values.first, raw != .null else {
            return nil
        }
        guard let value = T(sqlValue: raw) else {
            throw StorageError.badColumn(row.columns.first ?? "?", expected: String(describing: T.self), found: raw)
        }
        return value
    }

    /// The first column of every row (NULLs skipped).
    public func values<T: SQLValueConvertible>(_ type: T.Type, _ sql: String, _ arguments: SQLArguments = []) throws -> [T] {
        try rows(sql, arguments.sqlValues).compactMap { row in
            guard let raw = row.values.first, raw != .null else { return nil }
            guard let value = T(sqlValue: raw) else {
                throw StorageError.badColumn(row.columns.first ?? "?", expected: String(describing: T.self), found: raw)
            }
            return value
        }
    }

    /// Runs `sql` for its effect.
    public func execute(_ sql: String, _ arguments: SQLArguments = []) throws {
        try execute(sql, arguments.sqlValues)
    }

    /// Inserts `rows` into `table` in multi-row statements (each row's values in
    /// `columns` order); `suffix` ends each statement (an `ON CONFLICT …` clause).
    public func insert(into table: String, columns: [String], rows: [[SQLValue]], suffix: String = "") throws {
        guard !rows.isEmpty else { return }
        let perStatement = max(1, 900 / max(columns.count, 1))
        let tuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        let head = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        var start = 0
        while start < rows.count {
            let count = SQLText.chunkSize(left: rows.count - start, most: perStatement, engine: engine)
            let chunk = rows[start..<start + count]
            try execute(head + Array(repeating: tuple, count: count).joined(separator: ", ") + suffix, chunk.flatMap { $0 })
            start += count
        }
    }

    /// Every row of `sql` written with `:name` marks, bound from `arguments` (a name may
    /// be used several times).
    public func rows(_ sql: String, named arguments: [String: SQLValue]) throws -> [SQLRow] {
        let (positional, values) = try SQLText.positional(sql, named: arguments)
        return try rows(positional, values)
    }
}

/// Rewrites of statement text shared by the engines.
enum SQLText {
    /// How many of the `left` rows the next statement of ``insert(into:columns:rows:suffix:)``
    /// writes: at most `most`; on SQLite, below that, a power of two, so that the few
    /// statement texts recur and each is compiled once per connection (a push's last,
    /// odd-sized statement was new text, compiled at every push; with these sizes a warm
    /// server's push compiles nothing in callgrind). PostgreSQL takes the rest in one
    /// statement, each one a round trip.
    static func chunkSize(left: Int, most: Int, engine: StorageEngine) -> Int {
        if left >= most || engine != .sqlite { return min(left, most) }
        var size = 1
        while size * 2 <= left { size *= 2 }
        return size
    }

    /// `sql` with each `:name` mark turned into `?`, and the values in mark order.
    /// Quoted text and PostgreSQL's `::` casts are left alone.
    static func positional(_ sql: String, named arguments: [String: SQLValue]) throws -> (String, [SQLValue]) {
        var out = ""
        var values: [SQLValue] = []
        var chars = Array(sql.unicodeScalars)[...]
        var quoted = false
        while let c = chars.popFirst() {
            if c == "'" { quoted.toggle() }
            if !quoted, c == ":", let next = chars.first {
                if next == ":" {
                    out.unicodeScalars.append(c)
                    out.unicodeScalars.append(chars.removeFirst())
                    continue
                }
                if next.properties.isAlphabetic || next == "_" {
                    var name = ""
                    while let n = chars.first, n.properties.isAlphabetic || n == "_" || ("0"..."9").contains(n) {
                        name.unicodeScalars.append(chars.removeFirst())
                    }
                    guard let value = arguments[name] else {
                        throw StorageError(code: .statement, message: "no value for :\(name)")
                    }
                    values.append(value)
                    out += "?"
                    continue
                }
            }
            out.unicodeScalars.append(c)
        }
        return (out, values)
    }

    /// The statements of a script, split at each `;` outside quotes and `$$` bodies.
    static func statements(_ script: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var quoted = false
        var dollar = false
        var previous: Unicode.Scalar = " "
        for c in script.unicodeScalars {
            if c == "'" && !dollar { quoted.toggle() }
            if c == "$" && previous == "$" && !quoted { dollar.toggle() }
            if c == ";" && !quoted && !dollar {
                let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { statements.append(statement) }
                current = ""
            } else {
                current.unicodeScalars.append(c)
            }
            previous = c
        }
        let last = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !last.isEmpty { statements.append(last) }
        return statements
    }

    /// `sql` with its `?` marks numbered `$1`, `$2`, … for PostgreSQL.
    static func numbered(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var quoted = false
        var n = 0
        for c in sql.unicodeScalars {
            if c == "'" { quoted.toggle() }
            if c == "?" && !quoted {
                n += 1
                out += "$\(n)"
            } else {
                out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
