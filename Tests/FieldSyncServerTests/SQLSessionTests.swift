import Testing

@testable import FieldSyncServer

/// The statements both engines share: multi-row inserts cut into recurring sizes, and
/// values bound of every kind (on SQLite through its C API).
@Suite struct SQLSessionTests {
    @Test func insertsAreCutIntoStatementsOfRecurringSizes() {
        for most in [1, 7, 45, 225] {
            var sizes: Set<Int> = []
            for rows in 1...600 {
                for engine in [StorageEngine.sqlite, .postgres] {
                    var cut: [Int] = []
                    var left = rows
                    while left > 0 {
                        let size = SQLText.chunkSize(left: left, most: most, engine: engine)
                        #expect(size >= 1 && size <= min(left, most), "\(rows) rows, \(most) a statement")
                        cut.append(size)
                        left -= size
                    }
                    #expect(cut.reduce(0, +) == rows)
                    if engine == .postgres {
                        // The rest in one statement: every statement but the last is full.
                        #expect(cut.dropLast().allSatisfy { $0 == most })
                    } else {
                        // Below the full size, powers of two, largest first.
                        let rest = cut.drop { $0 == most }
                        #expect(rest.allSatisfy { $0 & ($0 - 1) == 0 }, "\(cut)")
                        #expect(rest.elementsEqual(rest.sorted(by: >)))
                        sizes.formUnion(cut)
                    }
                }
            }
            // So a table's inserts compile a handful of statement texts, whatever the counts.
            #expect(sizes.count <= most.bitWidth - most.leadingZeroBitCount + 1, "\(sizes.sorted())")
        }
    }

    @Test func valuesOfEveryKindAreWrittenAndReadBack() throws {
        let store = try makeStore()
        var generator = SeededRNG(state: 7)
        let rows: [[SQLValue]] = (0..<300).map { k in
            let text: SQLValue = [.null, .text(""), .text("王国庆 \(k)"), .text(String(repeating: "锅炉房", count: k % 40))]
                .randomElement(using: &generator)!
            let real: SQLValue = Bool.random(using: &generator) ? .real(Double(k) * 0.25 - 20) : .null
            let int: SQLValue = Bool.random(using: &generator) ? .integer(Int64(k) * 1_000_003 - 150_000_000) : .null
            return [.integer(Int64(k)), text, real, int]
        }
        try store.write { db in
            try db.execute("CREATE TABLE probe (k INTEGER PRIMARY KEY, t TEXT, r DOUBLE PRECISION, n BIGINT)")
            try db.insert(into: "probe", columns: ["k", "t", "r", "n"], rows: rows)
        }
        let read = try store.read { db in try db.rows("SELECT k, t, r, n FROM probe ORDER BY k", []) }
        #expect(read.map(\.values) == rows)

        // A value too few: refused, naming the problem, and nothing is written.
        #expect(throws: (any Error).self) {
            try store.write { db in try db.execute("INSERT INTO probe (k, t) VALUES (?, ?)", [.integer(1_000)]) }
        }
        #expect(try store.read { db in try db.rows("SELECT k FROM probe WHERE k = 1000", []) }.isEmpty)
    }

    @Test func onlyInsertsUpdatesAndDeletesTakeTheBoundPath() {
        #expect(SQLiteSession.changesRows("INSERT INTO x VALUES (1)"))
        #expect(SQLiteSession.changesRows("\n  update x SET a = 1"))
        #expect(SQLiteSession.changesRows("Delete FROM x"))
        #expect(!SQLiteSession.changesRows("CREATE TABLE x (a)"))
        #expect(!SQLiteSession.changesRows("SELECT 1"))
        #expect(!SQLiteSession.changesRows("INSERTX"))  // (a statement SQLite would refuse anyway)
        #expect(!SQLiteSession.changesRows(""))
    }
}
