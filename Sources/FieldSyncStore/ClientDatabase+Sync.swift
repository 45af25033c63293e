import FieldSyncCore
import GRDB

extension ClientDatabase {
    /// The oldest pending intents, in device order: the next push batch.
    public func pendingBatch(limit: Int) throws -> [Intent] {
        try writer.read { db in
            try String.fetchAll(
                db, sql: "SELECT body FROM outbox WHERE state = 'pending' ORDER BY device_seq LIMIT ?",
                arguments: [limit]
            ).map { try Self.decode(Intent.self, $0) }
        }
    }

    /// Stores the outcomes of a push in one transaction. An intent leaves the outbox only
    /// here, once its outcome is stored: applied and merged ones become confirmed events,
    /// rejected ones stay in the outbox with their reason, deferred ones wait.
    public func applyPush(_ response: PushResponse, now: Int64) throws {
        try writer.write { db in
            guard let account = try Self.account(db) else { throw StoreError.notLoggedIn }
            var touched: Set<String> = []
            for outcome in response.outcomes {
                guard let orderId = try String.fetchOne(
                    db, sql: "SELECT order_id FROM outbox WHERE device_seq = ? AND op_id = ?",
                    arguments: [outcome.deviceSeq, outcome.opId])
                else { continue }  // answered before: nothing left to do
                switch outcome.result {
                case .applied, .merged:
                    if let stored = outcome.stored {
                        try Self.upsertConfirmed(db, stored)
                    }
                    try db.execute(sql: "DELETE FROM outbox WHERE device_seq = ?", arguments: [outcome.deviceSeq])
                case .rejected:
                    try db.execute(
                        sql: "UPDATE outbox SET state = 'rejected', reason_code = ?, reason_message = ? WHERE device_seq = ?",
                        arguments: [outcome.rejection?.code.rawValue ?? "rejected",
                                    outcome.rejection?.message ?? "", outcome.deviceSeq])
                case .deferred:
                    continue
                }
                touched.insert(orderId)
            }
            var clock = try Self.clock(db, device: account.deviceId)
            clock.receive(response.serverHLC, now: now)
            try Self.setMeta(db, "hlc", try Self.encode(clock.last))
            for id in touched { try Self.refreshView(db, id) }
        }
    }

    /// Stores one pull page in one transaction: each order's events replace the confirmed
    /// ones, revoked orders leave, the cursor moves, the views are rebased.
    /// - Returns: the ids of the orders in the page.
    @discardableResult
    public func applyPull(_ page: PullResponse, now: Int64) throws -> [String] {
        try writer.write { db in
            guard let account = try Self.account(db) else { throw StoreError.notLoggedIn }
            var clock = try Self.clock(db, device: account.deviceId)
            var touched: Set<String> = []
            for id in page.revoked {
                try db.execute(sql: "DELETE FROM confirmed_event WHERE order_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM confirmed_order WHERE id = ?", arguments: [id])
                touched.insert(id)
            }
            for snapshot in page.orders {
                try db.execute(sql: "DELETE FROM confirmed_event WHERE order_id = ?", arguments: [snapshot.id])
                for event in snapshot.events {
                    try Self.upsertConfirmed(db, event)
                    clock.receive(event.hlc, now: now)
                }
                try db.execute(
                    sql: "INSERT INTO confirmed_order(id, version) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version",
                    arguments: [snapshot.id, snapshot.version])
                touched.insert(snapshot.id)
            }
            clock.receive(page.serverHLC, now: now)
            try Self.setMeta(db, "hlc", try Self.encode(clock.last))
            try Self.setMeta(db, "cursor", String(page.cursor))
            for id in touched { try Self.refreshView(db, id) }
            return page.orders.map(\.id)
        }
    }

    /// Ends a repair: drops confirmed orders the server no longer listed for this scope.
    /// Pending intents are kept and the views rebased.
    public func dropConfirmed(notIn keep: Set<String>) throws {
        try writer.write { db in
            let held = try String.fetchAll(db, sql: "SELECT id FROM confirmed_order")
            for id in held where !keep.contains(id) {
                try db.execute(sql: "DELETE FROM confirmed_event WHERE order_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM confirmed_order WHERE id = ?", arguments: [id])
                try Self.refreshView(db, id)
            }
        }
    }

    /// Starts a repair: the next pull begins again from the start of the scope.
    public func resetCursor() throws {
        try writer.write { db in try Self.setMeta(db, "cursor", "0") }
    }

    static func upsertConfirmed(_ db: Database, _ event: Intent) throws {
        try db.execute(
            sql: "INSERT INTO confirmed_event(op_id, order_id, body) VALUES (?, ?, ?) ON CONFLICT(op_id) DO UPDATE SET body = excluded.body",
            arguments: [event.opId, event.orderId, try encode(event)])
    }
}
