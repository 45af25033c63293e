import FieldSyncCore
import GRDB

extension ClientDatabase {
    /// Every order of the local view, most urgent and soonest due first.
    public func orders() throws -> [WorkOrder] {
        try writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, state FROM order_view ORDER BY urgency, deadline IS NULL, deadline, id"
            ).compactMap { row in try Self.viewState(db, id: row["id"], state: row["state"]) }
        }
    }

    /// One order of the local view.
    public func order(id: String) throws -> WorkOrder? {
        try writer.read { db in try Self.view(db, id) }
    }

    /// Finds an order from what a person typed: the whole id, or any unique part of it,
    /// case-insensitively (cold hands type `7f3a`, not `WO-261123-7F3A`).
    /// Two indexed queries whatever the number of orders: the primary key, then at most
    /// ``candidateLimit`` + 1 partial matches (enough to list candidates and say there are
    /// more).
    public func resolveOrderId(_ text: String) throws -> String {
        let needle = text.lowercased()
        let (exact, matches) = try writer.read { db -> (Bool, [String]) in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM order_view WHERE id = ?", arguments: [text]) ?? false {
                return (true, [])
            }
            guard !needle.isEmpty else { return (false, []) }
            return (false, try String.fetchAll(
                db, sql: "SELECT id FROM order_view WHERE instr(lower(id), ?) > 0 ORDER BY id LIMIT ?",
                arguments: [needle, Self.candidateLimit + 1]))
        }
        if exact { return text }
        guard let first = matches.first else { throw StoreError.unknownOrder(text) }
        guard matches.count == 1 else {
            let listed = matches.prefix(Self.candidateLimit) + (matches.count > Self.candidateLimit ? ["…"] : [])
            throw StoreError.ambiguousOrder(text, candidates: Array(listed))
        }
        return first
    }

    /// How many candidates an ambiguous id lists.
    public static let candidateLimit = 10

    /// The outbox, oldest first: pending intents and those the server refused.
    public func outbox() throws -> [OutboxEntry] {
        try writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT body, state, reason_code, reason_message FROM outbox ORDER BY device_seq"
            ).map { row in
                let code: String? = row["reason_code"]
                let message: String? = row["reason_message"]
                return OutboxEntry(
                    intent: try Self.decodeIntent(row["body"]),
                    state: OutboxEntry.State(rawValue: row["state"]) ?? .pending,
                    rejection: code.flatMap { Rejection.Code(rawValue: $0) }
                        .map { Rejection($0, message ?? "") })
            }
        }
    }

    /// Conflicts on orders of the local view that this store has not reported yet; marks
    /// them as reported.
    public func takeNewConflicts() throws -> [Conflict] {
        // One query over the partial index of unseen rows, kept by every view refresh.
        try writer.write { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT id, order_id, body FROM view_conflict WHERE seen = 0 ORDER BY at, id")
            var fresh: [Conflict] = []
            for row in rows {
                fresh.append(try Self.decode(Conflict.self, row["body"]))
                try db.execute(sql: "UPDATE view_conflict SET seen = 1 WHERE id = ?", arguments: [row["id"] as String])
                try db.execute(
                    sql: "INSERT INTO seen_conflict(id, order_id) VALUES (?, ?) ON CONFLICT(id) DO NOTHING",
                    arguments: [row["id"] as String, row["order_id"] as String])
            }
            return fresh
        }
    }

    /// The additive checksum of the confirmed state (see ``ScopeChecksum``).
    /// Reads the stored sum, which the database keeps with every change of
    /// `confirmed_order` (ClientSchema v4): one row, whatever the store holds.
    public func confirmedChecksum() throws -> UInt64 {
        try writer.read { db in try Self.storedChecksum(db) }
    }

    /// The confirmed events of the whole store (for tests and the convergence proofs).
    public func confirmedEvents() throws -> [Intent] {
        try writer.read { db in
            try String.fetchAll(db, sql: "SELECT body FROM confirmed_event ORDER BY op_id")
                .map { try Self.decodeIntent($0) }
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
