import FieldSyncCore

extension SyncService {
    /// One order as the server folds it.
    ///
    /// - Throws: 404 `unknown_order`, the same answer for an order that does not exist
    ///   and for one outside a technician's scope, so a technician cannot probe ids.
    public func order(id: String, as principal: Principal) throws(ServiceError) -> WorkOrder {
        let found = try inRead { db -> (OrderRecord, [ChildRecord]?)? in
            guard let record = try OrderRecord.find(id, db) else { return nil }
            return (record, record.childRows ? try OrderLines.all(of: id, db) : nil)
        }
        guard let (record, lines) = found, principal.role != .technician || record.assignee == principal.name else {
            throw .notFound("unknown_order", IntentCheck.unknownOrder(id, role: principal.role).message)
        }
        do {
            var order = try StoredJSON.workOrder(record.state)
            if let lines { order.children = lines }
            return order
        } catch {
            throw .internalError(error)
        }
    }

    /// The dispatcher board, first page of at most ``BoardQuery/defaultLimit`` rows of
    /// unfinished orders (all orders if `includeFinished`).
    public func board(as principal: Principal, includeFinished: Bool) throws(ServiceError) -> Board {
        try board(as: principal, query: BoardQuery(includeFinished: includeFinished))
    }

    /// One page of the dispatcher board: one row per order (unfinished ones only unless
    /// `includeFinished`), overdue first, then due soon, then by urgency and deadline,
    /// then id, with the timeliness and satisfaction KPIs over all orders.
    ///
    /// Timeliness = met ÷ (met + missed + overdue); satisfaction = current sign-offs rated
    /// 4 or 5 ÷ all current sign-offs. Either is nil while its denominator is 0.
    ///
    /// What it costs (v10-board-rank): the orders at risk plus one page, whatever the
    /// number of orders ever opened.
    /// - The orders at risk (overdue or due soon) are the index range `warn_at <= now`:
    ///   every order waiting for its crew keeps the time it becomes due soon. They are read
    ///   whole (they are what a dispatcher must see, and they give the overdue count), and
    ///   ranked here by ``DeadlinePolicy``'s rule.
    /// - The rest rank after them by urgency, deadline (none last) and id, which an index
    ///   of the open orders (one crew's, one status's, or every order's) reads in order:
    ///   a page stops after its rows. One crew's orders with the finished ones
    ///   (v11-crew-history) are a page of its open orders' index and one of its finished
    ///   orders' index, merged.
    /// - The KPIs' counts that do not depend on the time are one row, `board_kpi`, kept by
    ///   triggers on every write of an order.
    ///
    /// Paging is by keyset on (standing rank, urgency, deadline, id); the cursor carries the
    /// first page's `now`, so an order neither repeats nor goes missing when its standing
    /// changes between pages.
    ///
    /// - Throws: 403 `dispatcher_only` for technicians; 400 `bad_after` for a cursor this
    ///   server did not write.
    public func board(as principal: Principal, query: BoardQuery) throws(ServiceError) -> Board {
        guard principal.role == .dispatcher else { throw .dispatcherOnly("the board") }
        var cursor: BoardCursor?
        if let after = query.after {
            guard let parsed = BoardCursor(text: after) else {
                throw .badRequest("bad_after", "after must be the nextAfter of an earlier board page: list the board again from the first page")
            }
            cursor = parsed
        }
        let now = cursor?.now ?? self.now()
        let policy = self.policy
        return try inRead { db in
            let atRisk = try Self.ordersAtRisk(now: now, db)
            let overdueCount = atRisk.filter { $0.key.rank == 0 }.count
            var page = atRisk
                .filter { ranked in
                    (query.status.map { ranked.status == $0.rawValue } ?? true)
                        && (query.crew.map { ranked.assignee == $0 } ?? true)
                        && (!query.overdue || ranked.key.rank == 0)
                        && (cursor.map { ranked.key.isAfter($0) } ?? true)
                }
                .map(\.key)
                .sorted { $0.isBefore($1) }
            if page.count > query.limit + 1 { page.removeLast(page.count - query.limit - 1) }
            if page.count <= query.limit, !query.overdue, !query.atRisk {
                page += try Self.restOfBoard(
                    query, now: now, after: cursor.flatMap { $0.rank == 2 ? $0 : nil },
                    limit: query.limit + 1 - page.count, db)
            }
            let hasMore = page.count > query.limit
            if hasMore { page.removeLast() }
            let rows = try Self.boardRows(page, now: now, policy: policy, db)
            let next = hasMore ? page.last.map {
                BoardCursor(now: now, rank: $0.rank, urgency: $0.urgency, deadline: $0.deadline, id: $0.id).text
            } : nil
            // One row on SQLite; 64 on PostgreSQL (pg9-kpi-shards), summed.
            let kpi = try db.row(Self.kpiStatement)
            let met: Int = try kpi?["met"] ?? 0, missed: Int = try kpi?["missed"] ?? 0
            let signed: Int = try kpi?["signed"] ?? 0, satisfied: Int = try kpi?["satisfied"] ?? 0
            let late = missed + overdueCount
            return Board(
                generatedAt: now, rows: rows,
                timelinessPercent: met + late == 0 ? nil : Double(met) * 100 / Double(met + late),
                satisfactionPercent: signed == 0 ? nil : Double(satisfied) * 100 / Double(signed),
                nextAfter: next)
        }
    }

    /// Where an order sorts on the board: standing rank (0 overdue, 1 due soon, 2 the
    /// rest), urgency, deadline (`Int64.max` for none), id.
    struct BoardKey {
        var rank: Int
        var urgency: Int
        var deadline: Int64
        var id: String

        func isBefore(_ other: BoardKey) -> Bool {
            (rank, urgency, deadline, id) < (other.rank, other.urgency, other.deadline, other.id)
        }

        func isAfter(_ cursor: BoardCursor) -> Bool {
            (rank, urgency, deadline, id) > (cursor.rank, cursor.urgency, cursor.deadline, cursor.id)
        }
    }

    /// Every order overdue or due soon at `now`, with what the filters need.
    private static func ordersAtRisk(
        now: Int64, _ db: any SQLSession
    ) throws -> [(key: BoardKey, status: String, assignee: String?)] {
        try db.rows("""
            SELECT id, urgency, response_deadline, status, assignee FROM orders
            WHERE warn_at IS NOT NULL AND warn_at <= :now
            """, named: ["now": .integer(now)]
        ).map { row in
            let deadline: Int64 = try row["response_deadline"]
            let key = BoardKey(rank: deadline < now ? 0 : 1, urgency: try row["urgency"], deadline: deadline, id: try row["id"])
            return (key, try row["status"], try row["assignee"])
        }
    }

    /// The next `limit` orders not at risk at `now` that `query` shows, after `cursor`
    /// (one of theirs) or from the first, read in board order from an index.
    private static func restOfBoard(
        _ query: BoardQuery, now: Int64, after cursor: BoardCursor?, limit: Int, _ db: any SQLSession
    ) throws -> [BoardKey] {
        let (sql, arguments) = restOfBoardStatement(query, now: now, after: cursor, limit: limit)
        return try db.rows(sql, named: arguments).map { row in
            BoardKey(rank: 2, urgency: try row["urgency"], deadline: try row["board_deadline"], id: try row["id"])
        }
    }

    /// The statement of ``restOfBoard(_:now:after:limit:_:)`` (tests read its query plan).
    static func restOfBoardStatement(
        _ query: BoardQuery, now: Int64, after cursor: BoardCursor?, limit: Int
    ) -> (sql: String, arguments: [String: SQLValue]) {
        let deadline = "COALESCE(response_deadline, \(Int64.max))"
        var conditions = ["(warn_at IS NULL OR warn_at > :now)"]
        var arguments: [String: SQLValue] = ["now": .integer(now), "limit": .integer(Int64(limit))]
        // Each shape reads one index in order: orders_status_rank, orders_crew_rank,
        // orders_crew_status_rank (v12), orders_open_rank or orders_all_rank; one crew's
        // with finished orders reads two (below).
        if let status = query.status {
            conditions.append("status = :status")
            arguments["status"] = .text(status.rawValue)
        } else if !query.includeFinished {
            conditions.append("finished = 0")
        }
        if let crew = query.crew {
            conditions.append("assignee = :crew")
            arguments["crew"] = .text(crew)
        }
        if let cursor {
            conditions.append("(urgency, \(deadline), id) > (:u, :d, :i)")
            arguments["u"] = .integer(Int64(cursor.urgency))
            arguments["d"] = .integer(cursor.deadline)
            arguments["i"] = .text(cursor.id)
        }
        let page = """
            SELECT id, urgency, \(deadline) AS board_deadline FROM orders
            WHERE \(conditions.joined(separator: " AND "))
            """
        let order = "ORDER BY urgency, \(deadline), id LIMIT :limit"
        // One crew's orders, finished ones too: its open ones are in orders_crew_rank and
        // its finished ones in orders_crew_history (v11-crew-history), so a page of each,
        // merged. (One SELECT over both would read and sort the crew's whole history, on
        // both engines.) The literal `finished = 0` / `= 1` let both use the partial indexes.
        let sql = query.crew != nil && query.includeFinished && query.status == nil
            ? """
                SELECT id, urgency, board_deadline FROM (\(page) AND finished = 0 \(order)) AS open_orders
                UNION ALL
                SELECT id, urgency, board_deadline FROM (\(page) AND finished = 1 \(order)) AS finished_orders
                ORDER BY urgency, board_deadline, id LIMIT :limit
                """
            : "\(page)\n\(order)"
        return (sql, arguments)
    }

    /// The board rows of `keys`, in that order: display columns, standing, open conflicts.
    private static func boardRows(
        _ keys: [BoardKey], now: Int64, policy: DeadlinePolicy, _ db: any SQLSession
    ) throws -> [BoardRow] {
        guard !keys.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: keys.count).joined(separator: ", ")
        var byId: [String: SQLRow] = [:]
        for row in try db.rows("""
            SELECT id, kind, urgency, status, customer_name, address, customer_tier, special_needs,
                   assignee, response_deadline, created_at, on_site_at, completed_at, clock_clamped
            FROM orders WHERE id IN (\(marks))
            """, keys.map(\.id.sqlValue))
        {
            byId[try row["id"]] = row
        }
        let open = try openConflicts(of: keys.map(\.id), db)
        return try keys.compactMap { key in
            guard let row = byId[key.id] else { return nil }
            guard let status = OrderStatus(rawValue: try row["status"]) else {
                throw StorageError(code: .badValue, message: "order \(key.id) has an unknown status")
            }
            let deadline: Int64? = try row["response_deadline"]
            let onSiteAt: Int64? = try row["on_site_at"]
            let standing = policy.standing(
                responseDeadline: deadline, createdAt: try row["created_at"], onSiteAt: onSiteAt,
                status: status, now: now)
            return BoardRow(
                id: key.id, kind: try row["kind"], urgency: try row["urgency"], status: status,
                customerName: try row["customer_name"], address: try row["address"],
                customerTier: try row["customer_tier"], specialNeeds: try row["special_needs"],
                assignee: try row["assignee"], responseDeadline: deadline, standing: standing,
                onSiteAt: onSiteAt, completedAt: try row["completed_at"],
                openConflicts: open[key.id] ?? 0, clockClamped: try row["clock_clamped"])
        }
    }

    /// Open (unresolved) conflicts per order, for the orders of one page.
    private static func openConflicts(of ids: [String], _ db: any SQLSession) throws -> [String: Int] {
        guard !ids.isEmpty else { return [:] }
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        var open: [String: Int] = [:]
        for row in try db.rows("""
            SELECT order_id, COUNT(*) AS n FROM conflicts
            WHERE resolved_at IS NULL AND order_id IN (\(marks)) GROUP BY order_id
            """, ids.map(\.sqlValue))
        {
            open[try row["order_id"]] = try row["n"]
        }
        return open
    }

    /// Overdue, then due soon, then the rest; within each, urgency 1 first, then the
    /// earliest deadline (none last), then the id.
    static func boardOrder(_ a: BoardRow, _ b: BoardRow) -> Bool {
        func rank(_ row: BoardRow) -> Int {
            switch row.standing {
            case "overdue": 0
            case "due_soon": 1
            default: 2
            }
        }
        if rank(a) != rank(b) { return rank(a) < rank(b) }
        if a.urgency != b.urgency { return a.urgency < b.urgency }
        let da = a.responseDeadline ?? .max, db = b.responseDeadline ?? .max
        if da != db { return da < db }
        return a.id < b.id
    }

    /// Conflict records, oldest first: a dispatcher sees all, a technician those on orders
    /// assigned to him or where he was the winner or the loser.
    ///
    /// - Parameters:
    ///   - includeResolved: false for open conflicts only.
    ///   - page: nil for the whole list; else the newest `limit` recorded before the
    ///     conflict `before` (or the newest of all), still oldest first.
    /// - Throws: 404 `unknown_conflict` when `before` names no conflict.
    public func conflicts(
        as principal: Principal, includeResolved: Bool, page: ConflictPage? = nil
    ) throws(ServiceError) -> [ConflictRecord] {
        try inRead { db in
            var arguments: [String: SQLValue] = [:]
            if principal.role == .technician { arguments["me"] = .text(principal.name) }
            var rows: [ConflictRow]
            if let page {
                if let before = page.before {
                    guard let row = try db.row("SELECT created_at, id FROM conflicts WHERE id = ?", [before]) else {
                        throw ServiceError.notFound(
                            "unknown_conflict", "no conflict \(before) to list the ones before: take an id the list showed")
                    }
                    arguments["before_at"] = .integer(try row["created_at"])
                    arguments["before_id"] = .text(try row["id"])
                }
                arguments["limit"] = .integer(Int64(page.limit))
                let sql = Self.pagedConflictsStatement(
                    technician: principal.role == .technician, includeResolved: includeResolved, before: page.before != nil)
                rows = try db.rows(sql, named: arguments).map(ConflictRow.init(row:))
                rows.reverse()
            } else if principal.role == .dispatcher {
                rows = try db.rows(Self.conflictsStatement(includeResolved: includeResolved)).map(ConflictRow.init(row:))
            } else {
                rows = try db.rows(Self.technicianConflictsStatement(includeResolved: includeResolved), named: arguments)
                    .map(ConflictRow.init(row:))
            }
            return try rows.map { try $0.record() }
        }
    }

    /// The dispatcher's list of conflicts (tests read its query plan): the open ones read
    /// `conflicts_unresolved` (v14) in order.
    static func conflictsStatement(includeResolved: Bool) -> String {
        "SELECT c.* FROM conflicts c WHERE c.id IS NOT NULL \(unresolvedFilter(includeResolved)) ORDER BY c.created_at, c.id"
    }

    /// A page of the conflict list, newest first (the caller turns it round): the
    /// dispatcher's reads `conflicts_time` (v16) or `conflicts_unresolved` backwards from
    /// `:before_at`/`:before_id`; a technician's pages his own list.
    static func pagedConflictsStatement(technician: Bool, includeResolved: Bool, before: Bool) -> String {
        if technician {
            let boundary = before ? "WHERE (p.created_at, p.id) < (:before_at, :before_id)" : ""
            return """
                SELECT p.* FROM (\(technicianConflicts(includeResolved: includeResolved))) p \(boundary)
                ORDER BY p.created_at DESC, p.id DESC LIMIT :limit
                """
        }
        let boundary = before ? "AND (c.created_at, c.id) < (:before_at, :before_id)" : ""
        return """
            SELECT c.* FROM conflicts c WHERE c.id IS NOT NULL \(unresolvedFilter(includeResolved)) \(boundary)
            ORDER BY c.created_at DESC, c.id DESC LIMIT :limit
            """
    }

    /// A technician's list of conflicts (tests read its query plan), oldest first.
    static func technicianConflictsStatement(includeResolved: Bool) -> String {
        technicianConflicts(includeResolved: includeResolved) + "\nORDER BY created_at, id"
    }

    /// A technician's conflicts, unordered: those on the orders assigned to him, where he
    /// won and where he lost (v15-conflict-sides), each read by an index; a conflict in two
    /// of them is listed once.
    private static func technicianConflicts(includeResolved: Bool) -> String {
        let unresolved = unresolvedFilter(includeResolved)
        return """
            SELECT c.* FROM orders o JOIN conflicts c ON c.order_id = o.id WHERE o.assignee = :me \(unresolved)
            UNION
            SELECT c.* FROM conflicts c WHERE c.winner_actor = :me \(unresolved)
            UNION
            SELECT c.* FROM conflicts c WHERE c.loser_actor = :me \(unresolved)
            """
    }

    /// The condition keeping only open conflicts (`c`), or none.
    private static func unresolvedFilter(_ includeResolved: Bool) -> String {
        includeResolved ? "" : "AND c.resolved_at IS NULL"
    }

    /// The board's KPI counts: the sum of `board_kpi`'s rows.
    static let kpiStatement = """
        SELECT CAST(COALESCE(SUM(met), 0) AS BIGINT) AS met, CAST(COALESCE(SUM(missed), 0) AS BIGINT) AS missed,
               CAST(COALESCE(SUM(signed), 0) AS BIGINT) AS signed, CAST(COALESCE(SUM(satisfied), 0) AS BIGINT) AS satisfied
        FROM board_kpi
        """

    /// Records a dispatcher's review of a conflict (a later review replaces it).
    ///
    /// - Throws: 403 `dispatcher_only`; 400 `missing_resolution` for empty text;
    ///   404 `unknown_conflict`.
    public func resolveConflict(id: String, resolution: String, as principal: Principal) throws(ServiceError) -> ConflictRecord {
        guard principal.role == .dispatcher else { throw .dispatcherOnly("resolving conflicts") }
        let text = resolution.trimmingWhitespace
        guard !text.isEmpty else {
            throw .badRequest("missing_resolution", "say how the conflict was resolved: the resolution text is empty")
        }
        guard text.utf8.count <= 4000 else {
            throw .badRequest("missing_resolution", "the resolution is longer than 4000 bytes: shorten it")
        }
        let now = self.now()
        return try inWrite { db in
            guard var row = try ConflictRow.find(id, db) else {
                throw ServiceError.notFound("unknown_conflict", "no conflict \(id): list them with `fieldsync dispatch conflicts`")
            }
            row.resolvedBy = principal.name
            row.resolution = text
            row.resolvedAt = now
            try row.updateReview(db)
            return try row.record()
        }
    }
}
