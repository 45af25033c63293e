import FieldSyncCore

/// A row of `orders`: the fold of an order's events, with the columns pulls and the
/// board select on. `version` is the `seq` of the order's latest event.
///
/// The summary columns (v4-scale) are copies of facts in `state`, written with it, so
/// the board filters, sorts and pages in SQL without decoding any JSON.
struct OrderRecord {
    var id: String
    var assignee: String?
    var status: String
    var urgency: Int
    var version: Int64
    /// JSON of `WorkOrder`, without its lines when ``childRows`` (``OrderLines``).
    var state: String
    var updatedAt: Int64
    var kind: String
    var customerName: String
    var address: String
    var customerTier: String?
    var specialNeeds: String?
    var createdAt: Int64
    var responseDeadline: Int64?
    var onSiteAt: Int64?
    var completedAt: Int64?
    var clockClamped: Bool
    var finished: Bool
    var signOffRating: Int?
    /// v5-scope: see ``ServerSchema/v5Scope``.
    var archived = false
    var finishedAt: Int64?
    var enteredSeq: Int64 = 0
    var assignedSeq: Int64 = 0
    /// v10-board-rank: from when the order is due soon, while it waits for its crew against
    /// a deadline (``DeadlinePolicy/warnAt(responseDeadline:createdAt:onSiteAt:status:)``);
    /// nil otherwise.
    var warnAt: Int64?
    /// v9-order-children: the order's lines are rows of `order_children` and `state` holds
    /// the fold without them; false for a row written before, whose `state` holds them.
    var childRows = true

    /// The row as read.
    init(row: SQLRow) throws {
        id = try row["id"]
        assignee = try row["assignee"]
        status = try row["status"]
        urgency = try row["urgency"]
        version = try row["version"]
        state = try row["state"]
        updatedAt = try row["updated_at"]
        kind = try row["kind"]
        customerName = try row["customer_name"]
        address = try row["address"]
        customerTier = try row["customer_tier"]
        specialNeeds = try row["special_needs"]
        createdAt = try row["created_at"]
        responseDeadline = try row["response_deadline"]
        onSiteAt = try row["on_site_at"]
        completedAt = try row["completed_at"]
        clockClamped = try row["clock_clamped"]
        finished = try row["finished"]
        signOffRating = try row["sign_off_rating"]
        archived = try row["archived"]
        finishedAt = try row["finished_at"]
        enteredSeq = try row["entered_seq"]
        assignedSeq = try row["assigned_seq"]
        warnAt = try row["warn_at"]
        childRows = try row["child_rows"]
    }

    /// The row of order `id`, or nil.
    static func find(_ id: String, _ db: any SQLSession) throws -> OrderRecord? {
        try db.row("SELECT * FROM orders WHERE id = ?", [id]).map(OrderRecord.init(row:))
    }

    /// The row for `order` at `version`, its JSON already encoded as `state`; `policy`
    /// places its warning time.
    init(order: WorkOrder, version: Int64, state: String, updatedAt: Int64, policy: DeadlinePolicy) {
        id = order.id
        assignee = order.assignee
        status = order.status.rawValue
        urgency = order.urgency
        self.version = version
        self.state = state
        self.updatedAt = updatedAt
        kind = order[.kind] ?? ""
        customerName = order[.customerName] ?? ""
        address = order[.address] ?? ""
        customerTier = order[.customerTier]
        specialNeeds = order[.specialNeeds]
        createdAt = order.createdAt
        responseDeadline = order.responseDeadline
        onSiteAt = order.onSiteAt
        completedAt = order.completedAt
        clockClamped = order.history.contains { $0.clockClamped }
        finished = order.status.isFinished
        signOffRating = order.signOff?.signOff.rating
        warnAt = policy.warnAt(
            responseDeadline: order.responseDeadline, createdAt: order.createdAt, onSiteAt: order.onSiteAt,
            status: order.status)
    }
}

extension OrderRecord {
    static let columns = [
        "id", "assignee", "status", "urgency", "version", "state", "updated_at", "kind", "customer_name",
        "address", "customer_tier", "special_needs", "created_at", "response_deadline", "on_site_at",
        "completed_at", "clock_clamped", "finished", "sign_off_rating", "archived", "finished_at",
        "entered_seq", "assigned_seq", "child_rows", "warn_at",
    ]

    var values: [SQLValue] {
        let list: SQLArguments = [
            id, assignee, status, urgency, version, state, updatedAt, kind, customerName, address,
            customerTier, specialNeeds, createdAt, responseDeadline, onSiteAt, completedAt, clockClamped,
            finished, signOffRating, archived, finishedAt, enteredSeq, assignedSeq, childRows, warnAt,
        ]
        return list.sqlValues
    }

    /// Inserts or replaces `rows` in multi-row statements (the push writes every order a
    /// batch touched at once).
    static func write(_ rows: [OrderRecord], _ db: any SQLSession) throws {
        let update = columns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        try db.insert(
            into: "orders", columns: columns, rows: rows.map(\.values), suffix: " ON CONFLICT (id) DO UPDATE SET \(update)")
    }
}
