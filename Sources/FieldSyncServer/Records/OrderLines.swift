import FieldSyncCore

/// An order's lines (``ChildRecord``: log, part, charge, photo and reading lines) as rows
/// of `order_children` (v9-order-children), in the fold's order by `position`.
///
/// Why: the lines are most of a long-running order, and they only grow. Kept inside
/// `orders.state` they were read and written again by every push to the order (45% of
/// the server's time in the many-devices load, BENCHMARKS.md). As rows, a push reads
/// only the lines its intents name (and, for a sign-off, the lines it covers) and writes
/// only the lines it adds or voids, so it costs what it adds.
///
/// Positions: a line a push appends takes its event's server position (greater than every
/// position before); when an order is folded again from its events, its rows are written
/// again at 0, 1, 2, … in the new fold's order (fewer than the events, so below every
/// later event's position).
enum OrderLines {
    /// One stored line.
    struct Row {
        var orderId: String
        var position: Int64
        var record: ChildRecord
    }

    /// The lines a sign-off covers (``ChildEntry/coveredBySignOff``).
    static let coveredKinds = ChildEntry.Kind.allCases.filter { ChildEntry(id: "", kind: $0, text: "").coveredBySignOff }

    /// Every line of `orderId`, in order.
    static func all(of orderId: String, _ db: any SQLSession) throws -> [ChildRecord] {
        try db.values(String.self, "SELECT body FROM order_children WHERE order_id = ? ORDER BY position", [orderId])
            .map(decode)
    }

    /// The lines of `orderIds` whose ids are among `lineIds`, and of `coveredOf` (orders a
    /// batch signs off) those a sign-off covers: what a push's checks and fold look at.
    static func some(
        of orderIds: [String], lineIds: [String], coveredOf: [String], _ db: any SQLSession
    ) throws -> [Row] {
        var rows: [String: Row] = [:]
        func add(_ sql: String, _ arguments: [SQLValue]) throws {
            for row in try db.rows(sql, arguments) {
                let line = Row(orderId: try row["order_id"], position: try row["position"], record: try decode(try row["body"]))
                rows["\(line.orderId)\u{0}\(line.position)"] = line
            }
        }
        if !orderIds.isEmpty && !lineIds.isEmpty {
            try add(
                "SELECT order_id, position, body FROM order_children WHERE order_id IN (\(PushBatch.marks(orderIds.count))) AND child_id IN (\(PushBatch.marks(lineIds.count)))",
                orderIds.map(\.sqlValue) + lineIds.map(\.sqlValue))
        }
        if !coveredOf.isEmpty {
            try add(
                "SELECT order_id, position, body FROM order_children WHERE order_id IN (\(PushBatch.marks(coveredOf.count))) AND kind IN (\(PushBatch.marks(coveredKinds.count)))",
                coveredOf.map(\.sqlValue) + coveredKinds.map(\.rawValue.sqlValue))
        }
        return rows.values.sorted { ($0.orderId, $0.position) < ($1.orderId, $1.position) }
    }

    /// Inserts `rows`, or replaces the body of a row already at its position (a line voided).
    static func write(_ rows: [Row], _ db: any SQLSession) throws {
        try db.insert(
            into: "order_children", columns: ["order_id", "position", "child_id", "kind", "body"],
            rows: rows.map { line in
                [.text(line.orderId), .integer(line.position), .text(line.record.entry.id),
                 .text(line.record.entry.kind.rawValue), .text(line.record.jsonText)]
            },
            suffix: " ON CONFLICT (order_id, position) DO UPDATE SET body = excluded.body")
    }

    /// Removes every line of `orderIds` (before they are written again in a new fold's order).
    static func delete(of orderIds: [String], _ db: any SQLSession) throws {
        guard !orderIds.isEmpty else { return }
        try db.execute(
            "DELETE FROM order_children WHERE order_id IN (\(PushBatch.marks(orderIds.count)))", orderIds.map(\.sqlValue))
    }

    static func decode(_ text: String) throws -> ChildRecord {
        try StoredJSON.read(ChildRecord.self, from: text) { bytes in
            try JSONReader.read(bytes) { try ChildRecord(reading: &$0) }
        }
    }
}

extension ChildRecord {
    /// The line's JSON, as `order_children.body` holds it.
    var jsonText: String {
        var out = JSONWriter(capacity: 512)
        write(to: &out)
        return out.text
    }
}
