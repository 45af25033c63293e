import FieldSyncCore
import GRDB

extension SyncService {
    /// One order as the server folds it.
    ///
    /// - Throws: 404 `unknown_order`, the same answer for an order that does not exist
    ///   and for one outside a technician's scope, so a technician cannot probe ids.
    public func order(id: String, as principal: Principal) throws(ServiceError) -> WorkOrder {
        let record = try inRead { db in try OrderRecord.fetchOne(db, key: id) }
        guard let record, principal.role != .technician || record.assignee == principal.name else {
            throw .notFound("unknown_order", IntentCheck.unknownOrder(id, role: principal.role).message)
        }
        do {
            return try StoredJSON.decode(WorkOrder.self, from: record.state)
        } catch {
            throw .internalError(error)
        }
    }

    /// The dispatcher board: one row per order (unfinished ones only unless
    /// `includeFinished`), overdue first, then due soon, then by urgency and deadline,
    /// with the timeliness and satisfaction KPIs over all orders.
    ///
    /// Timeliness = met ÷ (met + missed + overdue); satisfaction = current sign-offs rated
    /// 4 or 5 ÷ all current sign-offs. Either is nil while its denominator is 0.
    ///
    /// - Throws: 403 `dispatcher_only` for technicians.
    public func board(as principal: Principal, includeFinished: Bool) throws(ServiceError) -> Board {
        guard principal.role == .dispatcher else { throw .dispatcherOnly("the board") }
        let now = self.now()
        let (orders, open) = try inRead { db in
            let orders = try String.fetchAll(db, sql: "SELECT state FROM orders ORDER BY id")
                .map { try StoredJSON.decode(WorkOrder.self, from: $0) }
            var open: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT order_id, COUNT(*) AS n FROM conflicts WHERE resolved_at IS NULL GROUP BY order_id
                """)
            {
                open[row["order_id"]] = row["n"]
            }
            return (orders, open)
        }
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
            if includeFinished || !order.status.isFinished {
                rows.append(BoardRow(order: order, policy: policy, now: now, openConflicts: open[order.id] ?? 0))
            }
        }
        rows.sort(by: Self.boardOrder)
        return Board(
            generatedAt: now, rows: rows,
            timelinessPercent: met + late == 0 ? nil : Double(met) * 100 / Double(met + late),
            satisfactionPercent: signOffs == 0 ? nil : Double(satisfied) * 100 / Double(signOffs))
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
                rows = try ConflictRow.fetchAll(db, sql: """
                    SELECT c.* FROM conflicts c WHERE 1 \(unresolved) ORDER BY c.created_at, c.rowid
                    """)
            case .technician:
                rows = try ConflictRow.fetchAll(db, sql: """
                    SELECT c.* FROM conflicts c LEFT JOIN orders o ON o.id = c.order_id
                    WHERE (o.assignee = :me
                           OR json_extract(c.body, '$.winner.actor') = :me
                           OR json_extract(c.body, '$.loser.actor') = :me)
                    \(unresolved)
                    ORDER BY c.created_at, c.rowid
                    """, arguments: ["me": principal.name])
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
            guard var row = try ConflictRow.fetchOne(db, key: id) else {
                throw ServiceError.notFound("unknown_conflict", "no conflict \(id): list them with `fieldsync dispatch conflicts`")
            }
            row.resolvedBy = principal.name
            row.resolution = text
            row.resolvedAt = now
            try row.update(db)
            return try row.record()
        }
    }
}
