import FieldSyncCore

/// The orders one push batch touches, held in memory while its intents are applied and
/// written once when it ends: a batch of 500 intents on 250 orders writes 250 order rows
/// (one JSON encode each), each order's conflict rows once, and each touched scope
/// checksum once, instead of all of that per intent. Events, outcomes and revocations are
/// still written as each intent is accepted, in the same transaction.
struct PushBatch {
    /// One order as the batch leaves it, and as the batch found it.
    struct Change {
        /// The stored row when the batch first touched the order; nil for a new order.
        var before: OrderRecord?
        var order: WorkOrder
        /// The row to write: summary columns, version and scope bookkeeping.
        var row: OrderRecord?
    }

    private(set) var changes: [String: Change] = [:]
    /// Ids in the order the batch first changed them (rows are written in that order).
    private var written: [String] = []

    /// The order as the batch stands, reading it through `load` the first time.
    mutating func order(
        _ id: String, load: () throws -> (order: WorkOrder, row: OrderRecord)?
    ) throws -> WorkOrder? {
        if let change = changes[id] { return change.order }
        guard let stored = try load() else { return nil }
        changes[id] = Change(before: stored.row, order: stored.order, row: nil)
        return stored.order
    }

    /// Takes `next`, the order after the event stored at `seq`, and keeps the scope
    /// bookkeeping of v5-scope: an archived order stays archived while it is finished (a
    /// late intent of its crew still lands, but no device gets it back); one that opens
    /// again rejoins every scope from this event, so devices get it whole. A former
    /// assignee's revocation is written now, at `seq`.
    mutating func apply(_ next: WorkOrder, version seq: Int64, now: Int64, _ db: any SQLSession) throws {
        let change = changes[next.id]
        let previous = change?.row ?? change?.before
        let wasArchived = previous?.archived ?? false
        let archived = wasArchived && next.status.isFinished
        let rejoined = wasArchived && !archived
        var row = OrderRecord(order: next, version: seq, state: "", updatedAt: now)
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
        changes[next.id] = Change(before: change?.before, order: next, row: row)
    }

    /// Writes every changed order (its JSON encoded once), its conflict rows, and the
    /// scope checksums: each order's term as the batch found it leaves the scopes it was
    /// in, its final term joins the scopes it ends in.
    func write(
        now: Int64, _ db: any SQLSession,
        conflicts syncConflicts: (WorkOrder, Int64, any SQLSession) throws -> Void
    ) throws {
        var sums: [String: UInt64] = [:]
        for id in written {
            guard let change = changes[id], var row = change.row else { continue }
            row.state = try StoredJSON.encode(change.order)
            try row.write(db)
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
            try syncConflicts(change.order, now, db)
        }
        // In name order: concurrent batches take the rows in one order (on PostgreSQL the
        // write lock serialises them anyway; this keeps it so without the lock).
        for (principal, delta) in sums.sorted(by: { $0.key < $1.key }) where delta != 0 {
            try ScopeSumRecord.adjust(principal, term: delta, subtract: false, db)
        }
    }
}
