import FieldSyncCore
import GRDB

extension SyncService {
    /// The largest page a pull returns.
    public static let maxPullLimit = 500

    /// The changes in the caller's scope after `cursor`, oldest first, one page at a time.
    ///
    /// Scope: a technician gets the orders assigned to him plus revocations of orders that
    /// left him; a dispatcher gets every order. Items are ordered by the server sequence
    /// number of their change (an order's `version`, a revocation's `seq`), which is commit
    /// order because SQLite serialises writers, so a cursor never skips a change. The
    /// checksum comes with the last page only, read in the same snapshot.
    ///
    /// - Parameters:
    ///   - cursor: the `cursor` of the previous page, 0 at first.
    ///   - limit: items per page, clamped to 1…500.
    /// - Throws: 400 `bad_cursor` for a negative cursor.
    public func pull(as principal: Principal, cursor: Int64, limit: Int) throws(ServiceError) -> PullResponse {
        guard cursor >= 0 else {
            throw .badRequest("bad_cursor", "cursor must be 0 or the cursor of an earlier pull, not \(cursor)")
        }
        let limit = min(max(limit, 1), Self.maxPullLimit)
        let page = try inRead { db in try self.page(for: principal, after: cursor, limit: limit, db) }
        return PullResponse(
            orders: page.orders, revoked: page.revoked, cursor: page.cursor, hasMore: page.hasMore,
            checksum: page.checksum, serverHLC: clock.stamp(receiving: [], now: now()))
    }

    private struct Page {
        var orders: [OrderSnapshot] = []
        var revoked: [String] = []
        var cursor: Int64
        var hasMore = false
        var checksum: String?
    }

    private func page(for principal: Principal, after cursor: Int64, limit: Int, _ db: Database) throws -> Page {
        let rows: [Row]
        let scope: String
        switch principal.role {
        case .technician:
            scope = principal.name
            // A revocation of an order that is assigned to him again is superseded by the
            // order itself, which comes later (its version is greater).
            rows = try Row.fetchAll(db, sql: """
                SELECT 'order' AS kind, id, version AS seq FROM orders
                  WHERE assignee = :me AND version > :cursor
                UNION ALL
                SELECT 'revoked' AS kind, order_id AS id, seq FROM revocations r
                  WHERE technician = :me AND seq > :cursor
                  AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = r.order_id AND o.assignee = :me)
                ORDER BY seq
                LIMIT :limit
                """, arguments: ["me": principal.name, "cursor": cursor, "limit": limit + 1])
        case .dispatcher:
            scope = ScopeSumRecord.allOrders
            rows = try Row.fetchAll(db, sql: """
                SELECT 'order' AS kind, id, version AS seq FROM orders
                  WHERE version > :cursor ORDER BY version LIMIT :limit
                """, arguments: ["cursor": cursor, "limit": limit + 1])
        }
        var page = Page(cursor: cursor)
        page.hasMore = rows.count > limit
        for row in rows.prefix(limit) {
            let id: String = row["id"]
            let seq: Int64 = row["seq"]
            let kind: String = row["kind"]
            if kind == "order" {
                page.orders.append(OrderSnapshot(id: id, version: seq, events: try loadEvents(of: id, db)))
            } else if !page.revoked.contains(id) {
                page.revoked.append(id)
            }
            page.cursor = seq
        }
        if !page.hasMore {
            page.checksum = String(try ScopeSumRecord.checksum(of: scope, db))
        }
        return page
    }
}
