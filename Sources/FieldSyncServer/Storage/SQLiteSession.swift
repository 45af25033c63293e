import FieldSyncSQLite
import GRDB

/// ``SQLSession`` over a GRDB connection: statements are prepared once per connection
/// and cached.
struct SQLiteSession: SQLSession {
    let db: Database

    var engine: StorageEngine { .sqlite }

    func rows(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let statement = try db.cachedStatement(sql: sql)
        guard statement.isReadonly else { return try rowsThroughGRDB(statement, arguments) }
        var result: [SQLRow] = []
        // Names from the first row, not before it: SQLite prepares a statement again when
        // the schema changed (a migration after the connection opened), and the names
        // known before its first step would be the old ones.
        var columns: [String]?
        let body = { (row: ColumnReader) in
            let count = row.count
            if columns == nil { columns = (0..<count).map { row.name($0) } }
            var values: [SQLValue] = []
            values.reserveCapacity(Int(count))
            for index in 0..<count {
                switch row.kind(index) {
                case .null: values.append(.null)
                case .integer: values.append(.integer(row.int64(index)))
                case .real: values.append(.real(row.double(index)))
                case .text, .blob: values.append(.text(row.text(index)))
                }
            }
            result.append(SQLRow(columns: columns ?? [], values: values))
        }
        // The values bound through SQLite's C API; a count that does not match the
        // parameters goes through GRDB, which throws its error for it.
        if arguments.count == statement.parameterCount {
            try statement.forEachRow(binding: { $0.bind(arguments) }, body)
        } else {
            try statement.forEachRow(arguments: StatementArguments(arguments), body)
        }
        return result
    }

    /// A statement that writes and returns rows goes through GRDB, which tracks its changes.
    private func rowsThroughGRDB(_ statement: Statement, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(arguments))
        var result: [SQLRow] = []
        var columns: [String]?
        while let row = try cursor.next() {
            if columns == nil { columns = Array(row.columnNames) }
            var values: [SQLValue] = []
            values.reserveCapacity(row.count)
            for index in 0..<row.count {
                values.append(SQLValue(row[index] as DatabaseValue))
            }
            result.append(SQLRow(columns: columns ?? [], values: values))
        }
        return result
    }

    /// A statement that returns no rows is bound and stepped through SQLite's C API: GRDB's
    /// `execute(arguments:)` made a `DatabaseValue` of each value and checked them again
    /// when binding, a third of this function's instructions in a 500-intent push
    /// (callgrind). The server registers no GRDB transaction observer, which would not see these
    /// runs. Any other statement (one that returns rows or changes the schema, which GRDB
    /// must know of), or a count of values that does not match the parameters, goes
    /// through GRDB (which then throws its own error for the count).
    func execute(_ sql: String, _ arguments: [SQLValue]) throws {
        let statement = try db.cachedStatement(sql: sql)
        guard Self.changesRows(sql), statement.columnCount == 0, arguments.count == statement.parameterCount else {
            return try statement.execute(arguments: StatementArguments(arguments))
        }
        try statement.run(db) { $0.bind(arguments) }
    }

    /// Whether `sql` is an INSERT, UPDATE or DELETE (its first word, in any case).
    static func changesRows(_ sql: String) -> Bool {
        let text = sql.utf8.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") }
        let word = text.prefix { ($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "z") }
        return ["INSERT", "UPDATE", "DELETE"].contains { $0.utf8.elementsEqual(word.lazy.map { $0 & 0xDF }) }
    }

    func lastPosition() throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'events'") ?? 0
    }

    /// An event inserted with a number above the sequence's moves it (`AUTOINCREMENT`);
    /// this makes sure of it.
    func setLastPosition(_ position: Int64) throws {
        try db.execute(sql: "UPDATE sqlite_sequence SET seq = ? WHERE name = 'events' AND seq < ?", arguments: [position, position])
        if db.changesCount == 0, try lastPosition() < position {
            try db.execute(sql: "INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?)", arguments: [position])
        }
    }

    /// `events` is `AUTOINCREMENT`, so `sqlite_sequence` holds its highest number.
    func nextPosition() throws -> Int64 {
        try db.execute(sql: "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'events'")
        if db.changesCount == 0 {
            try db.execute(sql: "INSERT INTO sqlite_sequence (name, seq) VALUES ('events', 1)")
        }
        guard let position = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'events'") else {
            throw StorageError(code: .statement, message: "no event sequence")
        }
        return position
    }
}

extension SQLValue: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let int): int.databaseValue
        case .real(let real): real.databaseValue
        case .text(let text): text.databaseValue
        }
    }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> SQLValue? {
        SQLValue(dbValue)
    }

    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let int): self = .integer(int)
        case .double(let real): self = .real(real)
        case .string(let text): self = .text(text)
        case .blob(let data): self = .text(String(decoding: data, as: UTF8.self))
        }
    }
}

extension BoundValues {
    /// Binds `values` to the parameters 1, 2, … in order.
    func bind(_ values: [SQLValue]) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .null: self.null(index)
            case .integer(let number): self.int(index, number)
            case .real(let number): self.real(index, number)
            case .text(let string): self.text(index, string)
            }
        }
    }
}
