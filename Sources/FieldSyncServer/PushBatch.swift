import FieldSyncCore

/// One push batch's reads and writes, gathered so that a batch costs a handful of
/// statements, not several per intent: on PostgreSQL every statement is a round trip
/// while the write lock is held, so a 20-intent push went from about 130 statements to
/// about 15 (see BENCHMARKS.md).
///
/// - Before the intents are applied, one query each reads the device's stored outcomes in
///   the batch's sequence range, the events already stored under the batch's op ids, the
///   touched orders, and the users the batch assigns to.
/// - While they are applied, everything lives here: the orders as the batch leaves them,
///   new events (numbered from the sequence's last position, which no other writer moves
///   while the write lock is held), new outcomes.
/// - When the batch ends, each table is written in multi-row statements: events, outcomes,
///   orders (one JSON write each, by ``JSONWriter``), conflict rows, and each touched scope
///   checksum once.
///   Revocations are still written as a reassignment is accepted.
struct PushBatch {
    /// One order as the batch leaves it, and as the batch found it.
    struct Change {
        /// The stored row when the batch first touched the order; nil for a new order.
        var before: OrderRecord?
        var order: WorkOrder
        /// The row to write: summary columns, version and scope bookkeeping.
        var row: OrderRecord?
        /// When `order.children` holds only some of the order's lines (``OrderLines``):
        /// their positions by line id, the read ones and those the batch added. Nil when it
        /// holds all of them (a new order, a row of an older release, a fold of the
        /// events): then every line is written again.
        var positions: [String: Int64]?
        /// Lines (by id) to write: added or voided by the batch.
        var dirty: Set<String> = []
    }

    /// An event accepted by this batch, written when it ends.
    struct NewEvent {
        var seq: Int64
        var intent: Intent
        var body: String
    }

    private(set) var changes: [String: Change] = [:]
    /// Ids in the order the batch first changed them (rows are written in that order).
    private var written: [String] = []
    /// Touched orders the server does not hold.
    private var unknown: Set<String> = []
    /// Stored and new outcomes of the device, by sequence number: body digest and JSON.
    private(set) var outcomes: [Int64: (hash: String, outcome: String)] = [:]
    private var newOutcomes: [(seq: Int64, hash: String, outcome: String, opId: String)] = []
    /// Op ids already stored as events (device and number), this batch's included.
    private(set) var copies: [String: (deviceId: String, deviceSeq: Int64)] = [:]
    private(set) var newEvents: [NewEvent] = []
    private var users: [String: UserRecord] = [:]
    /// The last position used: new events take the ones after it.
    private var position: Int64
    private let deviceId: String

    /// Reads what `request` will touch, in one query per table.
    init(prefetching request: PushRequest, _ db: any SQLSession) throws {
        deviceId = request.deviceId
        let seqs = request.intents.map(\.deviceSeq)
        if let low = seqs.min(), let high = seqs.max() {
            for row in try db.rows(
                "SELECT device_seq, body_sha256, outcome FROM outcomes WHERE device_id = ? AND device_seq BETWEEN ? AND ?",
                [request.deviceId, low, high])
            {
                outcomes[try row["device_seq"]] = (try row["body_sha256"], try row["outcome"])
            }
        }
        let opIds = Array(Set(request.intents.map(\.opId)))
        for row in try db.rows(
            "SELECT op_id, device_id, device_seq FROM events WHERE op_id IN (\(Self.marks(opIds.count)))",
            opIds.map(\.sqlValue))
        {
            copies[try row["op_id"]] = (try row["device_id"], try row["device_seq"])
        }
        let orderIds = Array(Set(request.intents.map(\.orderId)))
        var found: Set<String> = []
        var split: [String] = []
        for row in try db.rows("SELECT * FROM orders WHERE id IN (\(Self.marks(orderIds.count)))", orderIds.map(\.sqlValue)) {
            let record = try OrderRecord(row: row)
            found.insert(record.id)
            if record.childRows, let head = try? StoredJSON.workOrder(record.state), head.lastOpId != nil {
                changes[record.id] = Change(before: record, order: head, row: nil, positions: [:])
                split.append(record.id)
            } else {
                changes[record.id] = Change(before: record, order: try Self.snapshot(record, db), row: nil)
            }
        }
        unknown = Set(orderIds).subtracting(found)
        let names = Array(Set(request.intents.compactMap { intent -> String? in
            if case .assign(let name) = intent.action { return name } else { return nil }
        }))
        if !names.isEmpty {
            for row in try db.rows("SELECT * FROM users WHERE name IN (\(Self.marks(names.count)))", names.map(\.sqlValue)) {
                let user = try UserRecord(row: row)
                users[user.name] = user
            }
        }
        position = try db.lastPosition()
        if !split.isEmpty { try readLines(of: split, for: request, db) }
    }

    /// Reads the lines of `orders` (stored as rows) that `request`'s checks and fold look
    /// at: those its appends and voids name, and for an order it signs off, those a
    /// sign-off covers (its content hash and evidence). The fold of any other line is
    /// untouched by the batch, so it is never read.
    private mutating func readLines(of orders: [String], for request: PushRequest, _ db: any SQLSession) throws {
        let held = Set(orders)
        var lineIds: Set<String> = []
        var signing: Set<String> = []
        for intent in request.intents where held.contains(intent.orderId) {
            switch intent.action {
            case .append(let entry): lineIds.insert(entry.id)
            case .void(let childId, _): lineIds.insert(childId)
            case .signOff: signing.insert(intent.orderId)
            default: break
            }
        }
        if lineIds.isEmpty && signing.isEmpty { return }
        for line in try OrderLines.some(of: orders, lineIds: Array(lineIds), coveredOf: Array(signing), db) {
            changes[line.orderId]?.order.children.append(line.record)
            changes[line.orderId]?.positions?[line.record.entry.id] = line.position
        }
    }

    /// `?, ?, …` for an `IN` list of `count` values (never empty: `NULL` matches nothing).
    static func marks(_ count: Int) -> String {
        count == 0 ? "NULL" : Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// The order as stored, to fold the next event onto; a state stored before snapshots
    /// carried ``WorkOrder/lastOpId`` (or one that no longer decodes) is folded again
    /// from the events.
    static func snapshot(_ row: OrderRecord, _ db: any SQLSession) throws -> WorkOrder {
        if let order = try? StoredJSON.workOrder(row.state), order.lastOpId != nil {
            return order
        }
        guard let order = WorkOrder.fold(try SyncService.loadEvents(of: row.id, db)) else {
            throw StorageError(code: .badValue, message: "order \(row.id) has a row but no events")
        }
        return order
    }

    /// The order as the batch stands, or nil for one the server does not hold.
    func order(_ id: String) -> WorkOrder? { changes[id]?.order }

    /// The user `name`, as read before the batch.
    func user(_ name: String) -> UserRecord? { users[name] }

    /// The next position, for an event this batch accepts.
    mutating func nextPosition() -> Int64 {
        position += 1
        return position
    }

    /// Keeps an accepted event, to write when the batch ends.
    mutating func add(event intent: Intent, body: String, seq: Int64) {
        newEvents.append(NewEvent(seq: seq, intent: intent, body: body))
        copies[intent.opId] = (intent.deviceId, intent.deviceSeq)
    }

    /// Keeps an outcome (answered again if the same number comes twice in the batch).
    mutating func add(outcome: String, hash: String, seq: Int64, opId: String) {
        outcomes[seq] = (hash, outcome)
        newOutcomes.append((seq, hash, outcome, opId))
    }

    /// The stored text of event `opId`, this batch's included.
    func eventBody(_ opId: String, _ db: any SQLSession) throws -> String? {
        if let new = newEvents.last(where: { $0.intent.opId == opId }) { return new.body }
        return try db.value(String.self, "SELECT body FROM events WHERE op_id = ?", [opId])
    }

    /// Every event of an order in server order, this batch's included. An order the
    /// server does not hold has none (only a create opens one, and it joins ``changes``):
    /// a batch of creates reads nothing.
    func events(of orderId: String, _ db: any SQLSession) throws -> [Intent] {
        if unknown.contains(orderId) { return [] }
        return try SyncService.loadEvents(of: orderId, db) + newEvents.filter { $0.intent.orderId == orderId }.map(\.intent)
    }

    /// Takes `next`, the order after the event stored at `seq`, and keeps the scope
    /// bookkeeping of v5-scope: an archived order stays archived while it is finished (a
    /// late intent of its crew still lands, but no device gets it back); one that opens
    /// again rejoins every scope from this event, so devices get it whole. A former
    /// assignee's revocation is written now, at `seq`.
    ///
    /// `refolded`: `next` is a fold of every event, so it holds all the order's lines,
    /// possibly in a new order; they are all written again.
    mutating func apply(
        _ next: WorkOrder, version seq: Int64, refolded: Bool, now: Int64, policy: DeadlinePolicy,
        _ db: any SQLSession
    ) throws {
        let change = changes[next.id]
        let previous = change?.row ?? change?.before
        let wasArchived = previous?.archived ?? false
        let archived = wasArchived && next.status.isFinished
        let rejoined = wasArchived && !archived
        var row = OrderRecord(order: next, version: seq, state: "", updatedAt: now, policy: policy)
        row.archived = archived
        row.finishedAt = next.status.isFinished ? (previous?.finished == true ? previous?.finishedAt ?? now : now) : nil
        row.enteredSeq = previous == nil || rejoined ? seq : previous?.enteredSeq ?? seq
        row.assignedSeq = previous == nil || rejoined || previous?.assignee != next.assignee
            ? seq : previous?.assignedSeq ?? seq
        if let previous, !wasArchived, let former = previous.assignee, former != next.assignee {
            try RevocationRecord(
                technician: former, orderId: next.id, seq: seq,
                enteredSeq: max(previous.enteredSeq, previous.assignedSeq), reason: .reassigned
            ).insert(db)
        }
        if change?.row == nil { written.append(next.id) }
        unknown.remove(next.id)
        var positions = refolded ? nil : change?.positions
        var dirty = change?.dirty ?? []
        if positions != nil, let previous = change?.order {
            // One event adds or voids at most a line or two: compare the few lines held.
            let before = Dictionary(previous.children.map { ($0.entry.id, $0) }, uniquingKeysWith: { a, _ in a })
            for line in next.children where before[line.entry.id] != line {
                if positions?[line.entry.id] == nil { positions?[line.entry.id] = seq }
                dirty.insert(line.entry.id)
            }
        }
        changes[next.id] = Change(before: change?.before, order: next, row: row, positions: positions, dirty: dirty)
    }

    /// Writes the batch: new events and outcomes, every changed order (its JSON encoded
    /// once), its conflict rows, and the scope checksums (each order's term as the batch
    /// found it leaves the scopes it was in, its final term joins the scopes it ends in).
    func write(
        now: Int64, _ db: any SQLSession,
        conflicts syncConflicts: (WorkOrder, Set<String>, Int64, any SQLSession) throws -> Void
    ) throws {
        try db.insert(
            into: "events", columns: ["seq", "op_id", "order_id", "device_id", "device_seq", "body"],
            rows: newEvents.map { [.integer($0.seq), .text($0.intent.opId), .text($0.intent.orderId), .text($0.intent.deviceId), .integer($0.intent.deviceSeq), .text($0.body)] })
        if let last = newEvents.last { try db.setLastPosition(last.seq) }
        try db.insert(
            into: "outcomes", columns: ["device_id", "device_seq", "body_sha256", "outcome", "op_id"],
            rows: newOutcomes.map { [.text(deviceId), .integer($0.seq), .text($0.hash), .text($0.outcome), .text($0.opId)] })
        var rows: [OrderRecord] = []
        var sums: [String: UInt64] = [:]
        var lines: [OrderLines.Row] = []
        var rewritten: [String] = []
        for id in written {
            guard let change = changes[id], var row = change.row else { continue }
            var head = change.order
            head.children = []
            row.state = head.jsonText
            row.childRows = true
            rows.append(row)
            if let positions = change.positions {
                for line in change.order.children where change.dirty.contains(line.entry.id) {
                    guard let position = positions[line.entry.id] else { continue }
                    lines.append(OrderLines.Row(orderId: id, position: position, record: line))
                }
            } else {
                if change.before?.childRows == true { rewritten.append(id) }
                for (index, line) in change.order.children.enumerated() {
                    lines.append(OrderLines.Row(orderId: id, position: Int64(index), record: line))
                }
            }
            if let before = change.before, !before.archived {
                let term = ScopeChecksum.term(orderId: id, version: before.version)
                if let assignee = before.assignee { sums[assignee, default: 0] &-= term }
                sums[ScopeSumRecord.allOrders, default: 0] &-= term
            }
            if !row.archived {
                let term = ScopeChecksum.term(orderId: id, version: row.version)
                if let assignee = row.assignee { sums[assignee, default: 0] &+= term }
                sums[ScopeSumRecord.allOrders, default: 0] &+= term
            }
        }
        try OrderRecord.write(rows, db)
        try OrderLines.delete(of: rewritten, db)
        try OrderLines.write(lines, db)
        var held: [String: Set<String>] = [:]
        if !written.isEmpty {
            for row in try db.rows(
                "SELECT id, order_id FROM conflicts WHERE order_id IN (\(Self.marks(written.count)))",
                written.map(\.sqlValue))
            {
                held[try row["order_id"], default: []].insert(try row["id"])
            }
        }
        for id in written {
            guard let change = changes[id] else { continue }
            try syncConflicts(change.order, held[id] ?? [], now, db)
        }
        // In name order: concurrent batches take the rows in one order (on PostgreSQL the
        // write lock serialises them anyway; this keeps it so without the lock).
        for (principal, delta) in sums.sorted(by: { $0.key < $1.key }) where delta != 0 {
            try ScopeSumRecord.adjust(principal, term: delta, subtract: false, db)
        }
    }
}
