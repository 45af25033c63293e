import FieldSyncCore
import Foundation
import GRDB
import Testing

@testable import FieldSyncServer

/// The board as it was computed before the summary columns: decode every order's JSON,
/// fold the KPIs in Swift, filter and sort in memory. Kept here as the oracle the SQL
/// board must match.
private func oracleBoard(
    _ service: SyncService, now: Int64, includeFinished: Bool, status: OrderStatus? = nil,
    crew: String? = nil, atRisk: Bool = false, overdue: Bool = false
) throws -> Board {
    let (orders, open) = try service.database.read { db in
        let orders = try db.values(String.self, "SELECT state FROM orders ORDER BY id")
            .map { try StoredJSON.decode(WorkOrder.self, from: $0) }
        var open: [String: Int] = [:]
        for row in try db.rows("""
            SELECT order_id, COUNT(*) AS n FROM conflicts WHERE resolved_at IS NULL GROUP BY order_id
            """)
        {
            open[try row["order_id"]] = try row["n"]
        }
        return (orders, open)
    }
    let policy = service.policy
    var met = 0, late = 0, signOffs = 0, satisfied = 0
    var rows: [BoardRow] = []
    for order in orders {
        switch policy.standing(of: order, now: now) {
        case .met: met += 1
        case .missed, .overdue: late += 1
        default: break
        }
        if let signOff = order.signOff {
            signOffs += 1
            if signOff.signOff.rating >= 4 { satisfied += 1 }
        }
        let shown = status.map { order.status == $0 } ?? (includeFinished || !order.status.isFinished)
        guard shown, crew.map({ order.assignee == $0 }) ?? true else { continue }
        let row = BoardRow(order: order, policy: policy, now: now, openConflicts: open[order.id] ?? 0)
        if overdue && row.standing != "overdue" { continue }
        if atRisk && row.standing != "overdue" && row.standing != "due_soon" { continue }
        rows.append(row)
    }
    rows.sort(by: SyncService.boardOrder)
    return Board(
        generatedAt: now, rows: rows,
        timelinessPercent: met + late == 0 ? nil : Double(met) * 100 / Double(met + late),
        satisfactionPercent: signOffs == 0 ? nil : Double(satisfied) * 100 / Double(signOffs))
}

/// Every page of a board listing, following `nextAfter` until it is nil.
private func allPages(_ service: SyncService, _ query: BoardQuery) throws -> [Board] {
    var pages = [try service.board(as: dispatcher, query: query)]
    while let after = pages.last?.nextAfter, pages.count < 1000 {
        var next = query
        next.after = after
        pages.append(try service.board(as: dispatcher, query: next))
    }
    return pages
}

/// A random depot: orders of every kind and urgency, opened at different times with
/// deadlines past, near and far (some equal, some none), assigned or not, worked on, some
/// finished, signed with a rating, cancelled (some while the crew was on site: a
/// conflict) or reported with a clock the server clamps.
private func randomDepot(seed: UInt64, orders count: Int) throws -> SyncService {
    var rng = SeededRNG(state: seed)
    let service = try makeService()
    let names = ["王女士", "李先生", "张师傅", "Zhao Lei", "陈阿姨"]
    let kinds: [OrderKind] = [.repair, .complaint, .inspection, .installation]
    for n in 0..<count {
        let id = "WO-\(Int.random(in: 100...999, using: &rng))-\(n)"
        let openedAt = testNow - Int64.random(in: 0...600, using: &rng) * minute
        // Deadlines on a 30-minute grid, so some orders tie and the id decides.
        let deadline: Int64? = Int.random(in: 0..<5, using: &rng) == 0
            ? nil : openedAt + Int64.random(in: 1...16, using: &rng) * 30 * minute
        let fields = orderFields(
            customer: names.randomElement(using: &rng)!, urgency: Int.random(in: 1...3, using: &rng),
            kind: kinds.randomElement(using: &rng)!, deadline: deadline)
        // A desk and a tablet per order, so each order's clocks start at its own opening
        // and only the deliberately slow arrivals below are clamped.
        var desk = TestDevice("disp-\(n)", dispatcher)
        var intents = [desk.intent(id, .create(fields: fields), at: openedAt)]
        let technician: String? = Int.random(in: 0..<4, using: &rng) == 0 ? nil : (Bool.random(using: &rng) ? "alice" : "bob")
        if let technician { intents.append(desk.intent(id, .assign(technician: technician), at: openedAt + minute)) }
        desk.sync(try desk.push(intents, to: service))
        guard let technician else { continue }
        var tablet = TestDevice("tab-\(technician)-\(n)", technician == "alice" ? alice : bob)
        let progress = Int.random(in: 0...5, using: &rng)
        var steps: [Intent] = []
        if progress >= 1 { steps.append(tablet.intent(id, .transition(to: .accepted, note: nil), at: openedAt + 2 * minute)) }
        if progress >= 2 {
            // Sometimes a slow clock claims an arrival before the call: the server clamps it.
            let arrival = Int.random(in: 0..<6, using: &rng) == 0
                ? openedAt - 3 * hour : openedAt + Int64.random(in: 10...400, using: &rng) * minute
            steps.append(tablet.intent(id, .transition(to: .onSite, note: nil), at: min(arrival, testNow)))
        }
        if progress >= 3 { steps.append(tablet.intent(id, .transition(to: .working, note: nil), at: testNow)) }
        if progress >= 4 { steps.append(tablet.intent(id, .transition(to: .completed, note: nil), at: testNow)) }
        if !steps.isEmpty { tablet.sync(try tablet.push(steps, to: service)) }
        if progress == 5 {
            let order = try service.order(id: id, as: dispatcher)
            let signOff = SignOff(
                signerName: "王女士", signerRole: "customer", signatureDigest: String(repeating: "a", count: 64),
                rating: Int.random(in: 1...5, using: &rng), comment: nil, signedAt: testNow,
                contentHash: SignOffContent.hash(of: order))
            tablet.sync(try tablet.push([tablet.intent(id, .signOff(signOff))], to: service))
        }
        if Int.random(in: 0..<6, using: &rng) == 0 {
            // A cancel: applied before work, a `cancel_vs_work` conflict during it.
            desk.sync(try desk.push([desk.intent(id, .transition(to: .cancelled, note: nil))], to: service))
        }
    }
    return service
}

@Suite("board: SQL over summary columns, filters and paging")
struct BoardQueryTests {
    static let seeds: [UInt64] = [1, 2, 3, 4, 5, 6, 7, 8]

    @Test("the SQL board equals the decode-everything board on random depots", arguments: seeds)
    func sqlBoardEqualsTheOracle(seed: UInt64) throws {
        // Given a random depot
        let service = try randomDepot(seed: seed, orders: 60)

        for includeFinished in [false, true] {
            // When the board is listed in one page, and by the old computation
            let board = try service.board(as: dispatcher, query: BoardQuery(includeFinished: includeFinished, limit: 500))
            let oracle = try oracleBoard(service, now: testNow, includeFinished: includeFinished)

            // Then rows, their order and the KPIs are identical
            #expect(board.rows == oracle.rows, "seed \(seed), all=\(includeFinished)")
            #expect(board.timelinessPercent == oracle.timelinessPercent, "seed \(seed)")
            #expect(board.satisfactionPercent == oracle.satisfactionPercent, "seed \(seed)")
            #expect(board.nextAfter == nil)
        }
    }

    @Test("the random depots cover every standing, conflicts, clamps and ratings")
    func generatorCoversTheBoard() throws {
        var standings: Set<String> = [], conflicts = 0, clamped = 0, rated = 0
        for seed in Self.seeds {
            let board = try service(seed).board(as: dispatcher, query: BoardQuery(includeFinished: true, limit: 500))
            standings.formUnion(board.rows.map(\.standing))
            conflicts += board.rows.filter { $0.openConflicts > 0 }.count
            clamped += board.rows.filter(\.clockClamped).count
            rated += board.satisfactionPercent == nil ? 0 : 1
        }
        #expect(standings == ["overdue", "due_soon", "on_time", "met", "missed", "none"])
        #expect(conflicts > 0 && clamped > 0 && rated > 0)
    }

    private func service(_ seed: UInt64) throws -> SyncService { try randomDepot(seed: seed, orders: 60) }

    @Test("filters give exactly the oracle's rows", arguments: seeds)
    func filtersMatchTheOracle(seed: UInt64) throws {
        // Given a random depot
        let service = try randomDepot(seed: seed, orders: 60)
        let cases: [(BoardQuery, Board)] = [
            (BoardQuery(status: .assigned, limit: 500), try oracleBoard(service, now: testNow, includeFinished: false, status: .assigned)),
            (BoardQuery(status: .completed, limit: 500), try oracleBoard(service, now: testNow, includeFinished: false, status: .completed)),
            (BoardQuery(crew: "alice", limit: 500), try oracleBoard(service, now: testNow, includeFinished: false, crew: "alice")),
            (BoardQuery(includeFinished: true, crew: "bob", limit: 500), try oracleBoard(service, now: testNow, includeFinished: true, crew: "bob")),
            (BoardQuery(atRisk: true, limit: 500), try oracleBoard(service, now: testNow, includeFinished: false, atRisk: true)),
            (BoardQuery(overdue: true, limit: 500), try oracleBoard(service, now: testNow, includeFinished: false, overdue: true)),
            (BoardQuery(crew: "alice", atRisk: true, limit: 500), try oracleBoard(service, now: testNow, includeFinished: false, crew: "alice", atRisk: true)),
            (BoardQuery(status: .cancelled, crew: "alice", limit: 500), try oracleBoard(service, now: testNow, includeFinished: false, status: .cancelled, crew: "alice")),
            (BoardQuery(status: .assigned, crew: "bob", limit: 500), try oracleBoard(service, now: testNow, includeFinished: false, status: .assigned, crew: "bob")),
        ]
        for (query, oracle) in cases {
            // When filtered in SQL, Then the rows are the oracle's, in its order
            let board = try service.board(as: dispatcher, query: query)
            #expect(board.rows == oracle.rows, "seed \(seed), \(query)")
            #expect(board.timelinessPercent == oracle.timelinessPercent)
        }
        // and the filters mean what they say
        let overdue = try service.board(as: dispatcher, query: BoardQuery(overdue: true, limit: 500))
        #expect(overdue.rows.allSatisfy { $0.standing == "overdue" })
        let risky = try service.board(as: dispatcher, query: BoardQuery(atRisk: true, limit: 500))
        #expect(risky.rows.allSatisfy { ["overdue", "due_soon"].contains($0.standing) })
        #expect(risky.rows.count >= overdue.rows.count)
    }

    @Test("all pages concatenated are the unpaged list, without duplicates", arguments: [1, 3, 7, 100])
    func pagesConcatenateToTheWholeList(limit: Int) throws {
        // Given a random depot
        let service = try randomDepot(seed: 42, orders: 50)
        for base in [
            BoardQuery(includeFinished: true), BoardQuery(), BoardQuery(atRisk: true), BoardQuery(crew: "alice"),
            BoardQuery(includeFinished: true, crew: "bob"),
        ] {
            var paged = base
            paged.limit = limit
            var whole = base
            whole.limit = 500

            // When listed page by page
            let pages = try allPages(service, paged)
            let rows = pages.flatMap(\.rows)
            let unpaged = try service.board(as: dispatcher, query: whole).rows

            // Then the pages are the unpaged list, each full but the last
            #expect(rows == unpaged, "limit \(limit), \(base)")
            #expect(Set(rows.map(\.id)).count == rows.count)
            #expect(pages.dropLast().allSatisfy { $0.rows.count == limit })
            #expect(pages.count == max(1, (unpaged.count + limit - 1) / limit))
        }
    }

    @Test("one crew's orders with the finished ones, page by page, are the oracle's", arguments: seeds)
    func aCrewsWholeListingPageByPageIsTheOracles(seed: UInt64) throws {
        // Given a random depot: each crew has orders open (some at risk) and finished, with
        // tied deadlines, so pages end inside the at-risk rows, the open ones and the
        // finished ones, and the merge of the crew's two indexes decides ties by id
        let service = try randomDepot(seed: seed, orders: 60)
        for crew in ["alice", "bob"] {
            let oracle = try oracleBoard(service, now: testNow, includeFinished: true, crew: crew)
            #expect(oracle.rows.contains { $0.status.isFinished } && oracle.rows.contains { !$0.status.isFinished })
            for limit in [1, 2, 5, 500] {
                // When it is listed page by page
                let pages = try allPages(service, BoardQuery(includeFinished: true, crew: crew, limit: limit))

                // Then the pages are the oracle's rows, each once, each page full but the last
                let rows = pages.flatMap(\.rows)
                #expect(rows == oracle.rows, "seed \(seed), crew \(crew), limit \(limit)")
                #expect(pages.dropLast().allSatisfy { $0.rows.count == limit })
                #expect(pages.count == max(1, (oracle.rows.count + limit - 1) / limit))
                #expect(pages.allSatisfy { $0.timelinessPercent == oracle.timelinessPercent })
            }
        }
    }

    @Test(.disabled(if: testEngineIsPostgres, "SQLite's query planner"))
    func eachShapeOfTheBoardReadsItsIndexInOrder() throws {
        // Given SQLite, which plans from the schema alone (the server never runs ANALYZE),
        // so the plans here are those of a depot of any size
        let service = try makeService()
        let cursor = BoardCursor(now: testNow, rank: 2, urgency: 2, deadline: testNow, id: "WO-1")
        for after in [nil, cursor] {
            // When each shape's statement of the board's rest (after the orders at risk) is planned
            func plan(_ query: BoardQuery) throws -> [(id: Int, parent: Int, detail: String)] {
                let (sql, arguments) = SyncService.restOfBoardStatement(query, now: testNow, after: after, limit: 101)
                return try service.database.read { db in
                    try db.rows("EXPLAIN QUERY PLAN " + sql, named: arguments).map {
                        (try $0["id"], try $0["parent"], try $0["detail"])
                    }
                }
            }
            // Then each reads the orders through its index in board order: no sort of the orders
            let single: [(BoardQuery, String)] = [
                (BoardQuery(), "orders_open_rank"), (BoardQuery(includeFinished: true), "orders_all_rank"),
                (BoardQuery(crew: "alice"), "orders_crew_rank"), (BoardQuery(status: .assigned), "orders_status_rank"),
                // one crew's orders of one status (v12): a finished status no longer reads
                // that status's whole history
                (BoardQuery(status: .cancelled, crew: "alice"), "orders_crew_status_rank"),
                (BoardQuery(status: .enRoute, crew: "alice"), "orders_crew_status_rank"),
            ]
            for (query, index) in single {
                let steps = try plan(query).map(\.detail)
                let words = steps.first?.split(separator: " ").map(String.init) ?? []
                #expect(steps.count == 1 && Array(words.dropFirst().prefix(4)) == ["orders", "USING", "INDEX", index], "\(query): \(steps)")
            }
            // and one crew's orders with the finished ones read a page of its open orders'
            // index and one of its finished orders' index, each in order: only the two pages
            // (at most `limit` rows each) are sorted into one
            let merged = try plan(BoardQuery(includeFinished: true, crew: "alice"))
            let reads = merged.filter { $0.detail.hasPrefix("SEARCH orders") || $0.detail.hasPrefix("SCAN orders") }
            #expect(reads.map(\.detail).sorted() == [
                "SEARCH orders USING INDEX orders_crew_history (assignee=?\(after == nil ? "" : " AND urgency>?"))",
                "SEARCH orders USING INDEX orders_crew_rank (assignee=?\(after == nil ? "" : " AND urgency>?"))",
            ], "\(merged.map(\.detail))")
            let pages = Set(merged.filter { $0.detail.hasPrefix("CO-ROUTINE") }.map(\.id))
            #expect(pages.count == 2 && reads.allSatisfy { pages.contains($0.parent) }, "\(merged)")
            #expect(!merged.contains { pages.contains($0.parent) && $0.detail.contains("TEMP B-TREE") }, "\(merged)")
        }
    }

    @Test func laterPagesKeepTheFirstPagesClock() throws {
        // Given a board whose first page was listed at testNow
        let database = try makeStore()
        let clock = TestClock(testNow)
        let service = SyncService(database: database, now: { clock.now })
        var desk = TestDevice("disp-1", dispatcher)
        _ = try desk.push([
            desk.intent("A", .create(fields: orderFields(urgency: 1, deadline: testNow + 30 * minute))),
            desk.intent("B", .create(fields: orderFields(urgency: 2, deadline: testNow + 4 * hour))),
            desk.intent("C", .create(fields: orderFields(urgency: 3, deadline: testNow + 8 * hour))),
        ], to: service)
        let first = try service.board(as: dispatcher, query: BoardQuery(limit: 1))

        // When time moves on so that C is overdue, and the next pages are fetched
        clock.now = testNow + 9 * hour
        var query = BoardQuery(limit: 1)
        query.after = first.nextAfter
        let second = try service.board(as: dispatcher, query: query)
        query.after = second.nextAfter
        let third = try service.board(as: dispatcher, query: query)

        // Then the listing is the one of testNow: every order once, in that order
        #expect((first.rows + second.rows + third.rows).map(\.id) == ["A", "B", "C"])
        #expect(second.generatedAt == testNow && third.nextAfter == nil)
        // and a fresh listing uses the new time
        #expect(try service.board(as: dispatcher, query: BoardQuery(limit: 1)).rows.first?.standing == "overdue")
    }

    @Test func aCursorTheServerDidNotWriteIsRefused() throws {
        let service = try makeService()
        for bad in ["", "x", "b1.1.9.1.1.A", "b1.now.0.1.1.A", "b1.1.0.1.1."] {
            let error = #expect(throws: ServiceError.self, "\(bad)") {
                try service.board(as: dispatcher, query: BoardQuery(after: bad.isEmpty ? "b2" : bad))
            }
            #expect(error?.body.error == "bad_after")
        }
    }

    @Test func theLimitDefaultsTo100AndIsClampedTo500() {
        #expect(BoardQuery().limit == 100)
        #expect(BoardQuery(limit: 0).limit == 1)
        #expect(BoardQuery(limit: 10_000).limit == 500)
    }

    @Test(.disabled(if: testEngineIsPostgres, "SQLite's v4-scale migration"))
    func theMigrationBackfillsTheSummaryFromTheStoredFold() throws {
        // Given a depot whose summary columns are wiped, as in a database before v4-scale
        let service = try randomDepot(seed: 9, orders: 40)
        let before = try service.board(as: dispatcher, query: BoardQuery(includeFinished: true, limit: 500))
        try service.database.write { db in
            try db.execute("""
                UPDATE orders SET kind = '', customer_name = '', address = '', customer_tier = NULL,
                    special_needs = NULL, created_at = 0, response_deadline = NULL, on_site_at = NULL,
                    completed_at = NULL, clock_clamped = 0, finished = 0, sign_off_rating = NULL
                """)
            // When the migration's backfill runs (its UPDATE; the ALTERs already ran)
            let backfill = ServerSchema.v4Scale.components(separatedBy: "UPDATE orders SET")[1]
                .components(separatedBy: ";")[0]
            try db.execute("UPDATE orders SET" + backfill)
        }

        // Then the board is the one written by the push
        let after = try service.board(as: dispatcher, query: BoardQuery(includeFinished: true, limit: 500))
        #expect(after == before)
        #expect(before.rows.count == 40)
    }

    @Test("warn_at and board_kpi, as every write keeps them, equal the v9 migration's recomputation", arguments: [11, 12, 13] as [UInt64])
    func theBoardRankColumnsEqualTheirRecomputation(seed: UInt64) throws {
        // Given a random depot, its warning times and KPI counts as the writes left them
        let service = try randomDepot(seed: seed, orders: 60)
        let board = try service.board(as: dispatcher, query: BoardQuery(includeFinished: true, limit: 500))
        func columns() throws -> ([String], [Int64]) {
            try service.database.read { db in
                let warn = try db.rows("SELECT id, warn_at FROM orders ORDER BY id").map { row in
                    "\(try row["id"] as String)=\(try row["warn_at"] as Int64?, default: "-")"
                }
                let kpi = try db.row(SyncService.kpiStatement)
                return (warn, try ["met", "missed", "signed", "satisfied"].map { try kpi?[$0] ?? -1 })
            }
        }
        let kept = try columns()
        // (on PostgreSQL the counts are spread over rows by order id: pg9-kpi-shards)
        let kpiRows = try service.database.read { db in try db.value(Int.self, "SELECT count(*) FROM board_kpi") }
        #expect(testEngineIsPostgres ? kpiRows ?? 0 > 1 : kpiRows == 1, "\(kpiRows ?? -1) rows")

        // When they are wiped and the migration's backfill runs (this engine's text)
        let migration = testEngineIsPostgres ? PostgresSchema.pg3BoardRank : ServerSchema.v10BoardRank
        let statements = migration.components(separatedBy: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let backfill = try #require(statements.first { $0.hasPrefix("UPDATE orders SET warn_at") })
        let count = try #require(statements.first { $0.hasPrefix("INSERT INTO board_kpi") })
        try service.database.write { db in
            try db.execute("UPDATE orders SET warn_at = NULL")
            try db.execute("DELETE FROM board_kpi")
            try db.execute(backfill)
            try db.execute(count)
        }

        // Then both are what the writes kept, and the board has not moved
        let recomputed = try columns()
        #expect(recomputed.0 == kept.0, "seed \(seed)")
        #expect(recomputed.1 == kept.1, "seed \(seed)")
        #expect(kept.0.contains { !$0.hasSuffix("=-") } && kept.1.reduce(0, +) > 0)
        #expect(try service.board(as: dispatcher, query: BoardQuery(includeFinished: true, limit: 500)) == board)
    }

    @Test func anOrderAtRiskMovesUpTheBoardAsTimePassesWithoutAnyWrite() throws {
        // Given two open orders: A due in 8 hours (opened now), B due in 2 hours, less urgent
        let clock = TestClock(testNow)
        let service = SyncService(database: try makeStore(), now: { clock.now })
        var desk = TestDevice("disp-1", dispatcher)
        _ = try desk.push([
            desk.intent("A", .create(fields: orderFields(urgency: 1, deadline: testNow + 8 * hour))),
            desk.intent("B", .create(fields: orderFields(urgency: 3, deadline: testNow + 2 * hour))),
        ], to: service)
        func board() throws -> [String] {
            try service.board(as: dispatcher, query: BoardQuery()).rows.map { "\($0.id):\($0.standing)" }
        }

        // When time passes: B becomes due soon, then overdue; then A due soon
        let start = try board()
        clock.now = testNow + 90 * minute
        let bDueSoon = try board()
        clock.now = testNow + 2 * hour + 1
        let bOverdue = try board()
        clock.now = testNow + 6 * hour
        let aDueSoon = try board()

        // Then the order at risk leads, by standing before urgency
        #expect(start == ["A:on_time", "B:on_time"])
        #expect(bDueSoon == ["B:due_soon", "A:on_time"])
        #expect(bOverdue == ["B:overdue", "A:on_time"])
        #expect(aDueSoon == ["B:overdue", "A:due_soon"])
    }
}

/// A clock a test moves by hand.
private final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64
    init(_ value: Int64) { self.value = value }
    var now: Int64 {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
