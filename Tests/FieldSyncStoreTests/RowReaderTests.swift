import Foundation
import FieldSyncSQLite
import GRDB
import GRDBSQLite
import PropertyBased
import Testing

/// The server's rows are read through SQLite's C API (`Statement.forEachRow`): what it
/// reads must be what the database holds, byte for byte, and a statement it cannot run
/// must throw and leave the connection usable.
@Suite struct RowReaderTests {
    /// One row's columns as the reader gives them, kind and value.
    enum Read: Equatable {
        case null, integer(Int64), real(Double), text(String)
    }

    static func read(_ db: Database, _ sql: String, _ arguments: StatementArguments = []) throws -> (names: [String], rows: [[Read]]) {
        var names: [String] = []
        var rows: [[Read]] = []
        try db.cachedStatement(sql: sql).forEachRow(arguments: arguments) { row in
            names = (0..<row.count).map { row.name($0) }
            rows.append((0..<row.count).map { index in
                switch row.kind(index) {
                case .null: .null
                case .integer: .integer(row.int64(index))
                case .real: .real(row.double(index))
                case .text, .blob: .text(row.text(index))
                }
            })
        }
        return (names, rows)
    }

    @Test func rowsReadBackAsStored() async throws {
        let texts = Gen.element(of: ["李", "暖气片", "'", "\"", "é", "😀", "a", " ", "\u{1}", "\u{0}"])
            .array(of: 0...12).map { $0.map { $0 ?? "" }.joined() }
        await propertyCheck(count: 200, input: texts.optional, Gen.int64().optional, Gen.int64()) { label, n, m in
            // Given a row stored with every byte of its text (bound through the C API)
            let queue = try DatabaseQueue()
            let (names, rows, hex) = try queue.write { db in
                try db.execute(sql: "CREATE TABLE t (label TEXT, n INTEGER, m INTEGER NOT NULL, r REAL)")
                try db.cachedStatement(sql: "INSERT INTO t (label, n, m, r) VALUES (?, ?, ?, ? / 4.0)").run(db) { values in
                    values.text(1, label)
                    values.int(2, n)
                    values.int(3, m)
                    values.int(4, m % 1000)
                }
                let hex = try String.fetchOne(db, sql: "SELECT hex(CAST(label AS BLOB)) FROM t")
                let read = try Self.read(db, "SELECT label, n, m, r, CAST(label AS BLOB) AS b FROM t WHERE m = ?", [m])
                return (read.names, read.rows, hex)
            }
            // When the reader reads it, then every column is what was stored: the text's
            // bytes (NUL bytes and Chinese included, as text or as a blob), NULLs as NULL
            #expect(names == ["label", "n", "m", "r", "b"])
            #expect(rows.count == 1)
            let expectedText: Read = label.map { .text($0) } ?? .null
            #expect(rows.first == [expectedText, n.map { .integer($0) } ?? .null, .integer(m), .real(Double(m % 1000) / 4.0), expectedText])
            if let label {
                #expect(hex == label.utf8.map { String(format: "%02X", $0) }.joined())
            }
        }
    }

    @Test func aStatementThatWritesIsRefusedAndChangesNothing() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (k TEXT)")
            #expect(throws: DatabaseError.self) {
                try db.cachedStatement(sql: "INSERT INTO t (k) VALUES (?) RETURNING k").forEachRow(arguments: ["x"]) { _ in }
            }
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM t") == 0)
        }
    }

    @Test func aFailingStepThrowsSQLitesErrorAndTheTransactionStillCommits() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (n INTEGER)")
            try db.execute(sql: "INSERT INTO t (n) VALUES (1), (-9223372036854775808), (3)")
            // When a row's expression overflows halfway through the rows
            var seen: [Int64] = []
            do {
                try db.cachedStatement(sql: "SELECT abs(n) FROM t ORDER BY rowid").forEachRow(arguments: []) { row in
                    seen.append(row.int64(0))
                }
                Issue.record("abs() of the smallest integer did not fail")
            } catch let error as DatabaseError {
                // Then the rows before it were read, and the error is SQLite's, naming the statement
                #expect(error.resultCode == .SQLITE_ERROR)
                #expect(error.message?.contains("integer overflow") == true)
                #expect(error.sql == "SELECT abs(n) FROM t ORDER BY rowid")
            }
            #expect(seen == [1])
            #expect(sqlite3_stmt_busy(try db.cachedStatement(sql: "SELECT abs(n) FROM t ORDER BY rowid").sqliteStatement) == 0)
            // And the statement was reset: the table can change and the transaction commit
            try db.execute(sql: "DELETE FROM t")
        }
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == 0)
    }

    @Test func aThrowingBodyStopsTheRowsAndResetsTheStatement() throws {
        struct Stop: Error {}
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (n INTEGER)")
            try db.execute(sql: "INSERT INTO t (n) VALUES (1), (2), (3)")
            let statement = try db.cachedStatement(sql: "SELECT n FROM t WHERE n >= ? ORDER BY n")
            var seen: [Int64] = []
            #expect(throws: Stop.self) {
                try statement.forEachRow(arguments: [1]) { row in
                    seen.append(row.int64(0))
                    if seen.count == 2 { throw Stop() }
                }
            }
            #expect(seen == [1, 2])
            // The statement was reset: it no longer holds the read it stopped in
            #expect(sqlite3_stmt_busy(statement.sqliteStatement) == 0)
            // The same statement runs again from its first row, with its new arguments
            #expect(try Self.read(db, "SELECT n FROM t WHERE n >= ? ORDER BY n", [2]).rows == [[.integer(2)], [.integer(3)]])
            // A wrong number of arguments is GRDB's error, before any step
            #expect(throws: DatabaseError.self) { try statement.forEachRow(arguments: [1, 2]) { _ in } }
        }
    }

    /// The rows read with the values bound through the C API are the ones GRDB's binding
    /// reads, and each run binds afresh: a parameter the closure leaves is NULL, not the
    /// previous run's value.
    @Test func valuesBoundThroughTheCAPIReadTheSameRows() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (n INTEGER, label TEXT, r REAL)")
            try db.execute(sql: "INSERT INTO t VALUES (1, '锅炉', 0.5), (2, NULL, 1.5), (3, 'x', NULL), (4, '锅炉', 2.5)")
            let sql = "SELECT n FROM t WHERE (label = ? OR ? IS NULL) AND n >= ? AND (r < ? OR ? IS NULL) ORDER BY n"
            let statement = try db.cachedStatement(sql: sql)
            func bound(_ label: String?, _ n: Int64, _ r: Double?) throws -> [Int64] {
                var seen: [Int64] = []
                try statement.forEachRow(binding: { values in
                    values.text(1, label)
                    values.text(2, label)
                    values.int(3, n)
                    values.real(4, r)
                    values.real(5, r)
                }) { row in seen.append(row.int64(0)) }
                return seen
            }
            for (label, n, r) in [("锅炉", Int64(0), Double?.none), (nil, 2, 2.0), ("x", 0, nil), ("锅炉", 0, 1.0)] as [(String?, Int64, Double?)] {
                let viaGRDB = try Self.read(db, sql, [label, label, n, r, r]).rows.map { row -> Int64 in
                    guard case .integer(let value) = row[0] else { return -1 }
                    return value
                }
                #expect(try bound(label, n, r) == viaGRDB, "\(String(describing: label)) \(n) \(String(describing: r))")
            }
            #expect(try bound("锅炉", 0, nil) == [1, 4])
            // A run that binds only the first parameter: the others are NULL, so `n >= NULL`
            // matches nothing (with the last run's 0 still bound, it would match 1 and 4)
            var seen: [Int64] = []
            try statement.forEachRow(binding: { $0.text(1, "锅炉") }) { row in seen.append(row.int64(0)) }
            #expect(seen.isEmpty)
            // A statement that writes is refused here too, and nothing is written
            #expect(throws: DatabaseError.self) {
                try db.cachedStatement(sql: "INSERT INTO t (n) VALUES (?) RETURNING n").forEachRow(binding: { $0.int(1, Int64(9)) }) { _ in }
            }
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM t") == 4)
        }
    }
}
