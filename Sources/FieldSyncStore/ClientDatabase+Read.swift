import FieldSyncCore
import GRDB

extension ClientDatabase {
    /// Every order of the local view, most urgent and soonest due first.
    public func orders() throws -> [WorkOrder] {
        try writer.read { db in
            try String.fetchAll(
                db, sql: "SELECT state FROM order_view ORDER BY urgency, deadline IS NULL, deadline, id"
            ).map { try Self.decode(WorkOrder.self, $0) }
        }
    }

    /// One order of the local view.
    public func order(id: String) throws -> WorkOrder? {
        try writer.read { db in try Self.view(db, id) }
    }

    /// Finds an order from what a person typed: the whole id, or any unique part of it,
    /// case-insensitively (cold hands type `7f3a`, not `WO-261123-7F3A`).
    public func resolveOrderId(_ text: String) throws -> String {
        let ids = try writer.read { db in try String.fetchAll(db, sql: "SELECT id FROM order_view") }
        if ids.contains(text) { return text }
        let needle = text.lowercased()
        let matches = ids.filter { $0.lowercased().contains(needle) }.sorted()
        guard !needle.isEmpty, let first = matches.first else { throw StoreError.unknownOrder(text) }
        guard matches.count == 1 else { throw StoreError.ambiguousOrder(text, candidates: matches) }
        return first
    }

    /// The outbox, oldest first: pending intents and those the server refused.
    public func outbox() throws -> [OutboxEntry] {
        try writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT body, state, reason_code, reason_message FROM outbox ORDER BY device_seq"
            ).map { row in
                let code: String? = row["reason_code"]
                let message: String? = row["reason_message"]
                return OutboxEntry(
                    intent: try Self.decode(Intent.self, row["body"]),
                    state: OutboxEntry.State(rawValue: row["state"]) ?? .pending,
                    rejection: code.flatMap { Rejection.Code(rawValue: $0) }
                        .map { Rejection($0, message ?? "") })
            }
        }
    }

    /// Conflicts on orders of the local view that this store has not reported yet; marks
    /// them as reported.
    public func takeNewConflicts() throws -> [Conflict] {
        try writer.write { db in
            var fresh: [Conflict] = []
            for body in try String.fetchAll(db, sql: "SELECT state FROM order_view") {
                let order = try Self.decode(WorkOrder.self, body)
                for conflict in order.conflicts {
                    let seen = try Bool.fetchOne(
                        db, sql: "SELECT 1 FROM seen_conflict WHERE id = ?", arguments: [conflict.id]) ?? false
                    if !seen {
                        fresh.append(conflict)
                        try db.execute(
                            sql: "INSERT INTO seen_conflict(id, order_id) VALUES (?, ?)",
                            arguments: [conflict.id, conflict.orderId])
                    }
                }
            }
            return fresh.sorted { ($0.at, $0.id) < ($1.at, $1.id) }
        }
    }

    /// The additive checksum of the confirmed state (see ``ScopeChecksum``).
    public func confirmedChecksum() throws -> UInt64 {
        try writer.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, version FROM confirmed_order")
            return ScopeChecksum.sum(rows.map { ($0["id"] as String, $0["version"] as Int64) })
        }
    }

    /// The confirmed events of the whole store (for tests and the convergence proofs).
    public func confirmedEvents() throws -> [Intent] {
        try writer.read { db in
            try String.fetchAll(db, sql: "SELECT body FROM confirmed_event ORDER BY op_id")
                .map { try Self.decode(Intent.self, $0) }
        }
    }
}

extension ClientDatabase {
    /// How many intents wait to be sent (a count, not a decode of the outbox: it is asked
    /// after every recorded action).
    public func pendingCount() throws -> Int {
        try writer.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE state = 'pending'") ?? 0
        }
    }

    /// The orders that have intents waiting to be sent.
    public func ordersWithPendingWork() throws -> Set<String> {
        try writer.read { db in
            Set(try String.fetchAll(db, sql: "SELECT DISTINCT order_id FROM outbox WHERE state = 'pending'"))
        }
    }
}
