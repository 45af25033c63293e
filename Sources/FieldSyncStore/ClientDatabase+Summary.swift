import FieldSyncCore
import FieldSyncSQLite
import GRDB

/// What `fieldsync jobs` shows of one order, read from the summary columns of the view
/// without decoding the order's JSON (schema/client.sql, migration v3-summary).
public struct JobSummary: Sendable, Equatable {
    public var id: String
    public var urgency: Int
    public var status: OrderStatus
    public var responseDeadline: Int64?
    public var createdAt: Int64
    public var onSiteAt: Int64?
    public var customerName: String?
    public var address: String?
    public var customerTier: String?
    public var specialNeeds: String?

    /// The summary of a whole order: what the summary columns must hold for it.
    public init(order: WorkOrder) {
        id = order.id
        urgency = order.urgency
        status = order.status
        responseDeadline = order.responseDeadline
        createdAt = order.createdAt
        onSiteAt = order.onSiteAt
        customerName = order[.customerName]
        address = order[.address]
        customerTier = order[.customerTier]
        specialNeeds = order[.specialNeeds]
    }

    /// A key customer or one with special needs: `jobs` marks the line with `!`.
    public var needsCare: Bool {
        specialNeeds != nil || customerTier == "vip" || customerTier == "major"
    }

    /// Where the order stands against its response deadline at `now`: the same rule as
    /// ``DeadlinePolicy/standing(of:now:)``, from the four fields it reads.
    public func standing(policy: DeadlinePolicy = .standard, now: Int64) -> DeadlineStanding {
        policy.standing(
            responseDeadline: responseDeadline, createdAt: createdAt, onSiteAt: onSiteAt, status: status, now: now)
    }
}

extension ClientDatabase {
    /// The orders of the local view as `jobs` lists them — most urgent and soonest due
    /// first — from the summary columns: no order's JSON is decoded.
    /// - Parameters:
    ///   - includeFinished: also list completed, signed-off, closed and cancelled orders.
    ///   - limit: at most this many (the most urgent), read through the rank index; nil
    ///     for all.
    public func jobSummaries(includeFinished: Bool, limit: Int? = nil) throws -> [JobSummary] {
        try writer.read { db in
            var sql = """
                SELECT id, status, urgency, deadline, created_at, on_site_at, customer_name,
                       address, customer_tier, special_needs
                FROM order_view
                """
            var arguments = StatementArguments()
            if !includeFinished {
                sql += Self.openFilter
                arguments = Self.openFilterArguments
            }
            sql += " ORDER BY urgency, deadline IS NULL, deadline, id"
            if let limit {
                sql += " LIMIT ?"
                arguments += [limit]
            }
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                let statusText: String = row["status"]
                guard let status = OrderStatus(rawValue: statusText) else {
                    throw StoreError.unreadable(
                        path: "order_view", cause: "unknown status '\(statusText)' of order \(row["id"] as String)")
                }
                var summary = JobSummary(id: row["id"], status: status)
                summary.urgency = row["urgency"]
                summary.responseDeadline = row["deadline"]
                summary.createdAt = row["created_at"]
                summary.onSiteAt = row["on_site_at"]
                summary.customerName = row["customer_name"]
                summary.address = row["address"]
                summary.customerTier = row["customer_tier"]
                summary.specialNeeds = row["special_needs"]
                return summary
            }
        }
    }

    /// How many orders ``jobSummaries(includeFinished:limit:)`` would list without a limit:
    /// the counts the triggers of migrations v8-view-counts and v9-view-count-case keep,
    /// not a count of the rows.
    public func jobCount(includeFinished: Bool) throws -> Int {
        try writer.read { db in
            try Int.fetchOne(
                db, sql: "SELECT \(includeFinished ? "all_orders" : "open_orders") FROM view_count WHERE id = 1") ?? 0
        }
    }

    private static let openFilter = " WHERE status NOT IN ("
        + OrderStatus.allCases.filter(\.isFinished).map { _ in "?" }.joined(separator: ", ") + ")"
    private static let openFilterArguments = StatementArguments(OrderStatus.allCases.filter(\.isFinished).map(\.rawValue))

    // MARK: - Writing the view and its summaries

    /// Writes `order` into the view with its summary columns, and keeps `view_conflict`
    /// equal to the conflicts it shows. A conflict already reported (in `seen_conflict`)
    /// comes back as seen, so it is never reported twice.
    ///
    /// `conflictsHeld` false says `view_conflict` holds no row of the order (the caller
    /// knows the table was empty), so there is nothing to delete: a first sync's pages
    /// write thousands of views, nearly all without conflicts.
    ///
    /// `statement` is ``writeViewSQL`` already prepared, for a caller writing many views.
    static func writeView(
        _ db: Database, _ order: WorkOrder, materialized: Bool = true, conflictsHeld: Bool = true,
        statement: Statement? = nil
    ) throws {
        try (statement ?? db.cachedStatement(sql: writeViewSQL)).run(db) { [state = materialized ? try encode(order) : ""] values in
            values.text(1, order.id)
            values.text(2, order.status.rawValue)
            values.int(3, order.urgency)
            values.int(4, order.responseDeadline)
            values.text(5, order.assignee)
            values.text(6, state)
            values.text(7, order[.customerName])
            values.text(8, order[.address])
            values.text(9, order[.customerTier])
            values.text(10, order[.specialNeeds])
            values.int(11, order.createdAt)
            values.int(12, order.onSiteAt)
        }
        if conflictsHeld {
            try db.cachedStatement(sql: "DELETE FROM view_conflict WHERE order_id = ?")
                .execute(arguments: [order.id])
        }
        for conflict in order.conflicts {
            try db.cachedStatement(sql: """
                INSERT INTO view_conflict(id, order_id, at, body, seen)
                VALUES (?, ?, ?, ?, EXISTS (SELECT 1 FROM seen_conflict WHERE id = ?))
                ON CONFLICT(id) DO UPDATE SET order_id = excluded.order_id, at = excluded.at,
                  body = excluded.body, seen = excluded.seen
                """
            ).execute(arguments: [conflict.id, order.id, conflict.at, encode(conflict), conflict.id])
        }
    }

    static let writeViewSQL = """
        INSERT INTO order_view(id, status, urgency, deadline, assignee, state, customer_name,
                               address, customer_tier, special_needs, created_at, on_site_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET status = excluded.status, urgency = excluded.urgency,
          deadline = excluded.deadline, assignee = excluded.assignee, state = excluded.state,
          customer_name = excluded.customer_name, address = excluded.address,
          customer_tier = excluded.customer_tier, special_needs = excluded.special_needs,
          created_at = excluded.created_at, on_site_at = excluded.on_site_at
        """

    /// Removes an order from the view (no create is held for it any more).
    static func deleteView(_ db: Database, _ orderId: String) throws {
        try db.cachedStatement(sql: "DELETE FROM order_view WHERE id = ?").execute(arguments: [orderId])
        try db.cachedStatement(sql: "DELETE FROM view_conflict WHERE order_id = ?").execute(arguments: [orderId])
    }

    /// Fills what migration v3-summary added from the rows an older release wrote: the
    /// summary columns and `view_conflict` from each view's JSON, and the stored checksum
    /// from `confirmed_order`. Runs once, inside the migration's transaction.
    static func backfillSummaries(_ db: Database) throws {
        let ids = try String.fetchAll(db, sql: "SELECT id FROM order_view")
        for id in ids {
            if let order = try view(db, id) { try writeView(db, order) }
        }
        try setMeta(db, checksumKey, String(try fullChecksum(db)))
    }

    // MARK: - The confirmed checksum, kept incrementally

    static let checksumKey = "confirmed_checksum"

    /// The stored sum, kept by the `confirmed_order` triggers; a store without it (never
    /// after migration v3) is summed once.
    static func storedChecksum(_ db: Database) throws -> UInt64 {
        if let text = try meta(db, checksumKey), let sum = UInt64(text) { return sum }
        return try fullChecksum(db)
    }

    /// The checksum summed over every confirmed order: the reference the stored one must
    /// equal (and the start of the stored sum at migration).
    static func fullChecksum(_ db: Database) throws -> UInt64 {
        var sum: UInt64 = 0
        let rows = try Row.fetchCursor(db, sql: "SELECT id, version FROM confirmed_order")
        while let row = try rows.next() {
            sum &+= ScopeChecksum.term(orderId: row["id"], version: row["version"])
        }
        return sum
    }

    /// Sets (or, with nil, removes) the confirmed version of an order; the triggers move
    /// the stored checksum.
    ///
    /// `statement` is ``confirmVersionSQL`` already prepared, for a caller storing many.
    static func setConfirmedVersion(
        _ db: Database, _ orderId: String, _ version: Int64?, statement: Statement? = nil
    ) throws {
        if let version {
            try (statement ?? db.cachedStatement(sql: confirmVersionSQL)).run(db) { values in
                values.text(1, orderId)
                values.int(2, version)
            }
        } else {
            try db.cachedStatement(sql: "DELETE FROM confirmed_order WHERE id = ?").execute(arguments: [orderId])
        }
    }

    static let confirmVersionSQL = """
        INSERT INTO confirmed_order(id, version) VALUES (?, ?)
        ON CONFLICT(id) DO UPDATE SET version = excluded.version WHERE version <> excluded.version
        """
}

extension JobSummary {
    init(id: String, status: OrderStatus) {
        self.id = id
        self.status = status
        urgency = 3
        createdAt = 0
    }
}
