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
    /// Why SQL over the summary columns of `orders` (v4-scale): the board costs what one
    /// page holds, not a decode of every order ever opened. The standing depends on `now`,
    /// so it is a SQL expression over `response_deadline`, `created_at`, `on_site_at` and
    /// `finished` with the policy's warning share: the same rule as
    /// ``DeadlinePolicy/standing(of:now:)``. Paging is by keyset on (standing rank,
    /// urgency, deadline, id); the cursor carries the first page's `now`, so an order
    /// neither repeats nor goes missing when its standing changes between pages.
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
            var inner: [String] = []
            var outer: [String] = []
            var arguments: [String: SQLValue] = [
                "now": .integer(now), "warn": .real(policy.warnShare), "limit": .integer(Int64(query.limit + 1)),
            ]
            if let status = query.status {
                inner.append("o.status = :status")
                arguments["status"] = .text(status.rawValue)
            } else if !query.includeFinished {
                inner.append("o.finished = 0")
            }
            if let crew = query.crew {
                inner.append("o.assignee = :crew")
                arguments["crew"] = .text(crew)
            }
            if query.overdue { outer.append("b.board_rank = 0") }
            if query.atRisk { outer.append("b.board_rank <= 1") }
            if let cursor {
                outer.append("(b.board_rank, b.urgency, b.board_deadline, b.id) > (:r, :u, :d, :i)")
                arguments["r"] = .integer(Int64(cursor.rank))
                arguments["u"] = .integer(Int64(cursor.urgency))
                arguments["d"] = .integer(cursor.deadline)
                arguments["i"] = .text(cursor.id)
            }
            // The rank and the filters read the narrow index `orders_rank` (v7) only; the
            // display columns are fetched for the page's rows alone.
            let sql = """
                SELECT o.id, o.kind, o.urgency, o.status, o.customer_name, o.address,
                       o.customer_tier, o.special_needs, o.assignee, o.response_deadline,
                       o.created_at, o.on_site_at, o.completed_at, o.clock_clamped,
                       p.board_rank, p.board_deadline
                FROM (
                    SELECT b.* FROM (
                        SELECT o.id, o.urgency,
                               \(Self.boardRankSQL) AS board_rank,
                               COALESCE(o.response_deadline, \(Int64.max)) AS board_deadline
                        FROM orders o
                        \(inner.isEmpty ? "" : "WHERE " + inner.joined(separator: " AND "))
                    ) b
                    \(outer.isEmpty ? "" : "WHERE " + outer.joined(separator: " AND "))
                    ORDER BY b.board_rank, b.urgency, b.board_deadline, b.id
                    LIMIT :limit
                ) p JOIN orders o ON o.id = p.id
                ORDER BY p.board_rank, p.urgency, p.board_deadline, p.id
                """
            var fetched = try db.rows(sql, named: arguments)
            let hasMore = fetched.count > query.limit
            if hasMore { fetched.removeLast() }
            let open = try Self.openConflicts(of: fetched.map { try $0["id"] as String }, db)
            var rows: [BoardRow] = []
            rows.reserveCapacity(fetched.count)
            for row in fetched {
                let id: String = try row["id"]
                guard let status = OrderStatus(rawValue: try row["status"]) else {
                    throw StorageError(code: .badValue, message: "order \(id) has an unknown status")
                }
                let deadline: Int64? = try row["response_deadline"]
                let onSiteAt: Int64? = try row["on_site_at"]
                let standing = policy.standing(
                    responseDeadline: deadline, createdAt: try row["created_at"], onSiteAt: onSiteAt,
                    status: status, now: now)
                rows.append(BoardRow(
                    id: id, kind: try row["kind"], urgency: try row["urgency"], status: status,
                    customerName: try row["customer_name"], address: try row["address"],
                    customerTier: try row["customer_tier"], specialNeeds: try row["special_needs"],
                    assignee: try row["assignee"], responseDeadline: deadline, standing: standing,
                    onSiteAt: onSiteAt, completedAt: try row["completed_at"],
                    openConflicts: open[id] ?? 0, clockClamped: try row["clock_clamped"]))
            }
            let next = hasMore ? try fetched.last.map { last in
                BoardCursor(
                    now: now, rank: try last["board_rank"], urgency: try last["urgency"],
                    deadline: try last["board_deadline"], id: try last["id"]).text
            } : nil
            let kpi = try db.rows("""
                SELECT
                    SUM(CASE WHEN on_site_at IS NOT NULL AND response_deadline IS NOT NULL
                             AND on_site_at <= response_deadline THEN 1 ELSE 0 END) AS met,
                    SUM(CASE WHEN response_deadline IS NOT NULL
                             AND ((on_site_at IS NOT NULL AND on_site_at > response_deadline)
                                  OR (on_site_at IS NULL AND finished = 0 AND response_deadline < :now))
                             THEN 1 ELSE 0 END) AS late,
                    SUM(CASE WHEN sign_off_rating IS NOT NULL THEN 1 ELSE 0 END) AS signed,
                    SUM(CASE WHEN sign_off_rating >= 4 THEN 1 ELSE 0 END) AS satisfied
                FROM orders
                """, named: ["now": .integer(now)]).first
            let met: Int = try kpi?["met"] ?? 0, late: Int = try kpi?["late"] ?? 0
            let signed: Int = try kpi?["signed"] ?? 0, satisfied: Int = try kpi?["satisfied"] ?? 0
            return Board(
                generatedAt: now, rows: rows,
                timelinessPercent: met + late == 0 ? nil : Double(met) * 100 / Double(met + late),
                satisfactionPercent: signed == 0 ? nil : Double(satisfied) * 100 / Double(signed),
                nextAfter: next)
        }
    }

    /// The board's rank of an order (`o`) at `:now` with warning share `:warn`: 0 overdue,
    /// 1 due soon, 2 the rest — ``DeadlinePolicy/standing(of:now:)`` in portable SQL.
    static let boardRankSQL = """
        CASE
            WHEN o.response_deadline IS NULL OR o.on_site_at IS NOT NULL OR o.finished = 1 THEN 2
            WHEN o.response_deadline < :now THEN 0
            WHEN CAST(o.response_deadline - :now AS DOUBLE PRECISION)
                 <= CAST(CASE WHEN o.response_deadline - o.created_at > 1
                              THEN o.response_deadline - o.created_at ELSE 1 END AS DOUBLE PRECISION) * :warn
                THEN 1
            ELSE 2
        END
        """

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
    /// - Parameter includeResolved: false for open conflicts only.
    public func conflicts(as principal: Principal, includeResolved: Bool) throws(ServiceError) -> [ConflictRecord] {
        let unresolved = includeResolved ? "" : "AND c.resolved_at IS NULL"
        return try inRead { db in
            let rows: [ConflictRow]
            switch principal.role {
            case .dispatcher:
                rows = try db.rows("""
                    SELECT c.* FROM conflicts c WHERE c.id IS NOT NULL \(unresolved) ORDER BY c.created_at, c.id
                    """).map(ConflictRow.init(row:))
            case .technician:
                // The one place the engines' SQL differs: reading a field of stored JSON.
                let (winner, loser) = db.engine == .postgres
                    ? ("(c.body::jsonb -> 'winner' ->> 'actor')", "(c.body::jsonb -> 'loser' ->> 'actor')")
                    : ("json_extract(c.body, '$.winner.actor')", "json_extract(c.body, '$.loser.actor')")
                rows = try db.rows("""
                    SELECT c.* FROM conflicts c LEFT JOIN orders o ON o.id = c.order_id
                    WHERE (o.assignee = :me OR \(winner) = :me OR \(loser) = :me)
                    \(unresolved)
                    ORDER BY c.created_at, c.id
                    """, named: ["me": .text(principal.name)]).map(ConflictRow.init(row:))
            }
            return try rows.map { try $0.record() }
        }
    }

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
