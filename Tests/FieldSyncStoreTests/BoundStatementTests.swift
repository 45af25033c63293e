import Foundation
import FieldSyncSQLite
import GRDB
import PropertyBased
import Testing

/// The pull's per-order statements bind their values through SQLite's C API
/// (`Statement.run(_:binding:)`): what they store must be what GRDB's own binding stores,
/// and a failing run must throw and leave the statement usable.
@Suite struct BoundStatementTests {
    static func table() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (k TEXT PRIMARY KEY NOT NULL, label TEXT, n INTEGER, m INTEGER NOT NULL)")
        }
        return queue
    }

    @Test func boundValuesReadBackAsGRDBBindsThem() async throws {
        let texts = Gen.element(of: ["李", "暖气片", "'", "\"", "é", "😀", "a", " ", "\u{1}"])
            .array(of: 0...12).map { $0.map { $0 ?? "" }.joined() }
        await propertyCheck(count: 200, input: texts, texts.optional, Gen.int64().optional, Gen.int64()) { key, label, n, m in
            // Given the same row written once through GRDB and once through the C API
            let queue = try Self.table()
            let stored = try queue.write { db -> [Row] in
                let insert = try db.cachedStatement(sql: "INSERT INTO t (k, label, n, m) VALUES (?, ?, ?, ?)")
                try insert.execute(arguments: ["G" + key, label, n, m])
                try insert.run(db) { values in
                    values.text(1, "B" + key)
                    values.text(2, label)
                    values.int(3, n)
                    values.int(4, m)
                }
                return try Row.fetchAll(db, sql: "SELECT substr(hex(CAST(k AS BLOB)), 3) AS key, hex(CAST(label AS BLOB)) AS label, typeof(label) AS type, n, m FROM t ORDER BY k DESC")
            }
            // Then both rows hold the same values, Chinese text and NULLs included, and the
            // key's bytes are its UTF-8
            #expect(stored.count == 2)
            #expect(stored.first == stored.last, "bound \(String(describing: stored.last)) != GRDB \(String(describing: stored.first))")
            #expect(stored.last?["key"] == key.utf8.map { String(format: "%02X", $0) }.joined())
        }
    }

    /// GRDB binds text up to its first NUL byte; these bind every byte.
    @Test func aNulByteIsStoredNotCutOff() throws {
        let queue = try Self.table()
        let stored = try queue.write { db -> String? in
            try db.cachedStatement(sql: "INSERT INTO t (k, m) VALUES (?, 0)").run(db) { values in values.text(1, "李\u{0}x") }
            return try String.fetchOne(db, sql: "SELECT hex(CAST(k AS BLOB)) FROM t")
        }
        #expect(stored == "E69D8E0078")
    }

    @Test func aFailingRunThrowsNamesTheStatementAndLeavesItUsable() throws {
        let queue = try Self.table()
        try queue.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO t (k, label, n, m) VALUES (?, ?, ?, ?)")
            // Given a run that bound every parameter
            try insert.run(db) { values in
                values.text(1, "x")
                values.text(2, "暖气片")
                values.int(3, 5)
                values.int(4, 1)
            }
            // When a run breaks a constraint (m NOT NULL)
            do {
                try insert.run(db) { values in
                    values.text(1, "a")
                    values.int(4, nil as Int64?)
                }
                Issue.record("a NULL for a NOT NULL column was stored")
            } catch let error as DatabaseError {
                // Then the error is SQLite's, with the statement's text
                #expect(error.resultCode == .SQLITE_CONSTRAINT)
                #expect(error.sql?.contains("INSERT INTO t") == true)
            }
            // And a run that binds fewer values than the first leaves none of the first's bound
            try insert.run(db) { values in
                values.text(1, "b")
                values.int(4, 7)
            }
            let row = try Row.fetchOne(db, sql: "SELECT label, n, m FROM t WHERE k = 'b'")
            #expect(row == ["label": nil, "n": nil, "m": 7])
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM t") == 2)
        }
    }
}
