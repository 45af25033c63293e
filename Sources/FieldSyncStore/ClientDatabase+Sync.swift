import FieldSyncCore
import FieldSyncSQLite
import GRDB

extension ClientDatabase {
    /// The oldest pending intents, in device order: the next push batch.
    public func pendingBatch(limit: Int) throws -> [Intent] {
        try writer.read { db in
            try String.fetchAll(
                db, sql: "SELECT body FROM outbox WHERE state = 'pending' ORDER BY device_seq LIMIT ?",
                arguments: [limit]
            ).map { try Self.decodeIntent($0) }
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
                if try Self.store(outcome, db) { touched.insert(orderId) }
            }
            var clock = try Self.clock(db, device: account.deviceId)
            clock = Self.rewound(clock, toServer: response.serverHLC, stored: response.outcomes.compactMap(\.stored?.hlc))
            clock.receive(response.serverHLC, now: now)
            try Self.setMeta(db, "hlc", Self.encode(clock.last))
            for id in touched { try Self.refreshView(db, id) }
        }
    }

    /// Stores one outcome of the intent at `outcome.deviceSeq`; false for `deferred`.
    private static func store(_ outcome: PushOutcome, _ db: Database) throws -> Bool {
        switch outcome.result {
        case .applied, .merged:
            // An intent on an order that left this device (archived, or reassigned while it
            // waited) lands on the server and leaves no trace here. A create the server
            // answers for the first time opens the order here at once; one answered again
            // (its first answer was lost) does not, as the order may have left the scope
            // since: the pull brings it if it is still this device's.
            if let stored = outcome.stored,
               try holds(stored.orderId, db) || (stored.action.kind == "create" && !outcome.duplicate)
            {
                try upsertConfirmed(db, stored)
                try db.cachedStatement(sql: """
                    INSERT OR IGNORE INTO provisional_order(id)
                    SELECT ? WHERE NOT EXISTS (SELECT 1 FROM confirmed_order WHERE id = ?)
                    """
                ).execute(arguments: [stored.orderId, stored.orderId])
            }
            try db.execute(sql: "DELETE FROM outbox WHERE device_seq = ?", arguments: [outcome.deviceSeq])
        case .rejected:
            try db.execute(
                sql: "UPDATE outbox SET state = 'rejected', reason_code = ?, reason_message = ? WHERE device_seq = ?",
                arguments: [outcome.rejection?.code.rawValue ?? "rejected",
                            outcome.rejection?.message ?? "", outcome.deviceSeq])
        case .deferred:
            return false
        }
        return true
    }

    /// Whether the store holds confirmed facts of the order (pulled, or pushed and not yet
    /// pulled back).
    static func holds(_ orderId: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: """
            SELECT EXISTS (SELECT 1 FROM confirmed_order WHERE id = ?)
                OR EXISTS (SELECT 1 FROM confirmed_event WHERE order_id = ?)
            """), arguments: [orderId, orderId]) ?? false
    }

    /// A clock that once ran far ahead (a wrong date on the tablet) stamped this device's
    /// events in the future; the server brought them back (sync-protocol.md §6). Left
    /// alone, the device's HLC would stay ahead and every later event, even with the
    /// clock put right, would look like it came from the future. So when the clock is
    /// beyond the server's time by more than the tolerance, it goes back to the greatest
    /// of the server's time and the stamps the server stored for this device: later events
    /// still sort after everything the server holds of this device.
    static func rewound(_ clock: HybridClock, toServer server: HLC, stored: [HLC]) -> HybridClock {
        guard clock.last.physical > server.physical &+ ClockBounds.standard.toleranceMs else { return clock }
        let floor = ([server] + stored).max() ?? server
        return HybridClock(
            device: clock.device,
            last: HLC(physical: floor.physical, logical: floor.logical, device: clock.device))
    }

    /// The op ids of the pending intents, in device order.
    public func pendingOpIds() throws -> [String] {
        try writer.read { db in
            try String.fetchAll(db, sql: "SELECT op_id FROM outbox WHERE state = 'pending' ORDER BY device_seq")
        }
    }

    /// Ends the recovery of a restored store, in one transaction: the intents the server
    /// already answered (`known`, by op id) take those answers, and the other pending
    /// intents are renumbered from `nextSeq` in their device order.
    /// - Returns: how many intents were renumbered.
    public func applyRecovery(known: [PushOutcome], nextSeq: Int64, now: Int64) throws -> Int {
        try writer.write { db in
            // Out of the way first: the new numbers may be ones pending rows hold now.
            try db.execute(sql: "UPDATE outbox SET device_seq = -device_seq WHERE state = 'pending'")
            var touched: Set<String> = []
            for outcome in known {
                guard let row = try Row.fetchOne(
                    db, sql: "SELECT device_seq, order_id FROM outbox WHERE op_id = ? AND state = 'pending'",
                    arguments: [outcome.opId])
                else { continue }
                let local: Int64 = row["device_seq"]
                // The row takes the number the server answered it under.
                try db.execute(
                    sql: "UPDATE outbox SET device_seq = ? WHERE device_seq = ?",
                    arguments: [outcome.deviceSeq, local])
                if try Self.store(outcome, db) { touched.insert(row["order_id"]) }
            }
            var seq = nextSeq
            let rest = try Row.fetchAll(
                db, sql: "SELECT device_seq, body, order_id FROM outbox WHERE device_seq < 0 ORDER BY device_seq DESC")
            for row in rest {
                var intent = try Self.decodeIntent(row["body"])
                intent.deviceSeq = seq
                try db.execute(
                    sql: "UPDATE outbox SET device_seq = ?, body = ? WHERE device_seq = ?",
                    arguments: [seq, Self.encode(intent), row["device_seq"] as Int64])
                touched.insert(row["order_id"])
                seq += 1
            }
            // Gap-free from here: the next intent recorded follows the last renumbered one.
            try Self.setMeta(db, "next_seq", String(seq))
            for id in touched { try Self.refreshView(db, id) }
            return rest.count
        }
    }

    /// Stores one pull page in one transaction: each order's events replace the confirmed
    /// ones (or, for a delta, join them), revoked and archived orders leave, the cursor
    /// moves, the views are rebased.
    ///
    /// A delta for an order this store does not hold cannot be applied: its version is
    /// not taken, so the checksum at the end of the pull differs and the repair fetches
    /// the order whole.
    /// - Returns: the ids of the orders in the page.
    @discardableResult
    public func applyPull(_ page: PullResponse, now: Int64) throws -> [String] {
        try applyPull([page], now: now)
    }

    /// Stores pull pages, in order, in one transaction: as if each were stored alone, one
    /// after the other (the cursor ends at the last page's), for the cost of one commit.
    /// - Returns: the ids of the orders in the pages.
    @discardableResult
    public func applyPull(_ pages: [PullResponse], now: Int64) throws -> [String] {
        try writer.writeWithoutTransaction { db in
            // A stored page can always be fetched again, so its commit does not wait for the
            // disk (WAL with `synchronous = NORMAL`: a power cut may lose the last pages,
            // never half of one, and the cursor goes back with them); the next commit that
            // holds the device's own work syncs them with it. A first sync's pages touch
            // index pages all over the file: a larger cache keeps them instead of reading
            // them back.
            // The WAL is copied into the file every 1,000 pages by default, so the index
            // pages every page of a first sync changes were copied again and again.
            let synchronous = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? 2
            let checkpoint = try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") ?? 1000
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = \(Self.pullCheckpointPages)")
            defer {
                try? db.execute(sql: "PRAGMA synchronous = \(synchronous); PRAGMA wal_autocheckpoint = \(checkpoint)")
            }
            try db.execute(sql: "PRAGMA cache_size = -\(Self.pullCacheKiB)")
            var ids: [String] = []
            try db.inTransaction {
                for page in pages { ids += try Self.storePage(page, now: now, db) }
                return .commit
            }
            return ids
        }
    }

    /// The page cache of the connection that stores pulls (SQLite's default is 2 MB).
    static let pullCacheKiB = 16 << 10
    /// WAL pages after which a pull's commit copies the WAL into the file itself (40 MB):
    /// a long pull's ``checkpointer()`` copies it after every commit, so this is the
    /// backstop when that thread falls behind or could not start.
    static let pullCheckpointPages = 10_000

    private static func storePage(_ page: PullResponse, now: Int64, _ db: Database) throws -> [String] {
        guard let account = try Self.account(db) else { throw StoreError.notLoggedIn }
        var clock = try Self.clock(db, device: account.deviceId)
        // Orders with pending intents are rebased from the table (confirmed + pending);
        // the others' view is folded from what the page brings, decoded once.
        let pending = Set(try String.fetchAll(
            db, sql: "SELECT DISTINCT order_id FROM outbox WHERE state = 'pending'"))
        // No view shows a conflict yet (the usual case): the whole orders' views, each
        // written once below, have none to remove.
        let conflictsHeld = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM view_conflict)") ?? true
        var touched: Set<String> = []
        // A whole order with nothing pending: its view is the fold of the page's events,
        // made already when the page's reader folded it (``PullResponse/folds``).
        var folded: [String: WholeOrder] = [:]
        var extended: [String: [Intent]] = [:]
        let folds = page.folds?.count == page.orders.count ? page.folds : nil
        // The whole orders this store holds events of, read at once: a first sync's orders
        // are all new, and a delete for each found nothing.
        var holdsEvents = try ordersWithEvents(db, among: page.orders.lazy.filter { $0.after == nil }.map(\.id))
        let deleteEvents = try db.cachedStatement(sql: "DELETE FROM confirmed_event WHERE order_id = ?")
        let heldVersion = try db.cachedStatement(sql: "SELECT version FROM confirmed_order WHERE id = ?")
        // The statements run once an event or an order, found once a page: finding a cached
        // statement hashes its SQL, 3% of a first sync's instructions when done each time.
        let upsertEvent = try db.cachedStatement(sql: Self.upsertConfirmedSQL)
        let confirmVersion = try db.cachedStatement(sql: Self.confirmVersionSQL)
        let storeView = try db.cachedStatement(sql: Self.writeViewSQL)
        for id in page.revoked + page.archived {
            try deleteEvents.execute(arguments: [id])
            try Self.setConfirmedVersion(db, id, nil)
            touched.insert(id)
            folded[id] = nil
            extended[id] = nil
        }
        for (index, snapshot) in page.orders.enumerated() {
            let texts = page.eventTexts?[index]
            if snapshot.after != nil {
                guard try Int64.fetchOne(heldVersion, arguments: [snapshot.id]) != nil else { continue }
            } else if holdsEvents.contains(snapshot.id) {
                try deleteEvents.execute(arguments: [snapshot.id])
            }
            holdsEvents.insert(snapshot.id)
            // The texts are the events' own (``PullResponse/eventTexts``); one list of
            // another length is not used.
            let own = texts?.count == snapshot.events.count ? texts : nil
            for (position, event) in snapshot.events.enumerated() {
                try Self.upsertConfirmed(db, event, text: own?[position], statement: upsertEvent)
                clock.receive(event.hlc, now: now)
            }
            try Self.setConfirmedVersion(db, snapshot.id, snapshot.version, statement: confirmVersion)
            if pending.contains(snapshot.id) {
                touched.insert(snapshot.id)
            } else if snapshot.after != nil, folded[snapshot.id] == nil, !touched.contains(snapshot.id) {
                extended[snapshot.id, default: []] += snapshot.events
            } else {
                touched.remove(snapshot.id)
                extended[snapshot.id] = nil
                // (``PullResponse/folds`` holds nil for a delta: not folded, folded here.)
                let fold = snapshot.after == nil ? folds.map { $0[index] } : nil
                folded[snapshot.id] = WholeOrder(events: snapshot.events, fold: fold)
            }
        }
        let brings = !page.orders.isEmpty || !page.revoked.isEmpty || !page.archived.isEmpty
        if !page.hasMore, try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM provisional_order)") == true {
            // The whole scope has come: an order still held only from this device's
            // own push left the scope before this device pulled it.
            for id in try String.fetchAll(db, sql: """
                SELECT id FROM provisional_order WHERE id NOT IN (SELECT id FROM confirmed_order)
                """) {
                try deleteEvents.execute(arguments: [id])
                touched.insert(id)
                folded[id] = nil
                extended[id] = nil
            }
            try db.execute(sql: "DELETE FROM provisional_order")
        }
        // A page that brings nothing writes nothing, so a `sync` with nothing new commits
        // nothing and its process ends without a checkpoint's disk flushes (about 2 ms
        // of a 20 ms command). Its server time is still kept when it is ahead of this
        // device's clock by more than ``clockLearningMarginMs`` (a clock running behind
        // learns the server's time, as from any page). Within the margin there is nothing
        // to learn: the page carries no event to order after, and a server answering in
        // the same millisecond is the usual case, not a clock behind.
        clock.receive(page.serverHLC, now: now)
        if brings || page.serverHLC.physical > now &+ Self.clockLearningMarginMs {
            try Self.setMeta(db, "hlc", Self.encode(clock.last))
        }
        if try Self.meta(db, "cursor") != String(page.cursor) {
            try Self.setMeta(db, "cursor", String(page.cursor))
        }
        for id in touched { try Self.refreshView(db, id) }
        for (id, whole) in folded {
            try Self.writeView(
                db, id, whole.fold ?? WorkOrder.fold(whole.events), materialized: false, conflictsHeld: conflictsHeld,
                statement: storeView)
        }
        for (id, events) in extended { try Self.extendView(db, id, with: events) }
        return page.orders.map(\.id)
    }

    /// Which of `ids` have confirmed events stored, a few hundred ids a statement.
    static func ordersWithEvents<S: Sequence<String>>(_ db: Database, among ids: S) throws -> Set<String> {
        var held: Set<String> = []
        var chunk: [String] = []
        func read() throws {
            // A whole chunk's statement is written and prepared once: making its text and
            // compiling its 500 parameters took two thirds of this read, once a page.
            let statement = chunk.count == ordersWithEventsChunk
                ? try db.cachedStatement(sql: Self.ordersWithEventsSQL)
                : try db.makeStatement(sql: Self.ordersWithEventsSQL(count: chunk.count))
            held.formUnion(try String.fetchAll(statement, arguments: StatementArguments(chunk)))
            chunk.removeAll(keepingCapacity: true)
        }
        for id in ids {
            chunk.append(id)
            if chunk.count == ordersWithEventsChunk { try read() }
        }
        if !chunk.isEmpty { try read() }
        return held
    }

    /// How many ids ``ordersWithEvents(_:among:)`` asks about in one statement.
    static let ordersWithEventsChunk = 500
    private static let ordersWithEventsSQL = ordersWithEventsSQL(count: ordersWithEventsChunk)

    private static func ordersWithEventsSQL(count: Int) -> String {
        let marks = repeatElement("?", count: count).joined(separator: ", ")
        return "SELECT DISTINCT order_id FROM confirmed_event WHERE order_id IN (\(marks))"
    }

    /// An order of a page whose view is the fold of the page's events: its events, and
    /// that fold when the page came with it (`.some(nil)`: they fold to no order).
    private struct WholeOrder {
        var events: [Intent]
        var fold: WorkOrder??
    }

    /// How far a server's time must be ahead of this device's clock before an empty pull
    /// page stores it. Its events' stamps are always taken in, whatever the margin.
    static let clockLearningMarginMs: Int64 = 1_000

    /// The view of an order with nothing pending, moved on by the events of a delta: each
    /// folded onto the stored fold when it sorts after everything in it (the usual case),
    /// else the whole confirmed history is folded again (the outbox holds nothing of it:
    /// an order with pending intents is refreshed from both instead).
    static func extendView(_ db: Database, _ orderId: String, with events: [Intent]) throws {
        let state = try String.fetchOne(
            db.cachedStatement(sql: "SELECT state FROM order_view WHERE id = ?"), arguments: [orderId]) ?? ""
        if !state.isEmpty, var order = try? decode(WorkOrder.self, state) {
            var onTop = true
            for event in events {
                guard let next = order.folding(event) else { onTop = false; break }
                order = next
            }
            if onTop {
                try writeView(db, order)
                return
            }
        }
        // A view the bulk pull wrote as summary columns stays that way (a first sync meets
        // most orders' later events on the page after the one that brought them whole).
        try refreshView(db, orderId, events: try Self.confirmedEvents(db, orderId), materialized: !state.isEmpty)
    }

    /// Ends a repair: drops confirmed orders the server no longer listed for this scope.
    /// Pending intents are kept and the views rebased.
    public func dropConfirmed(notIn keep: Set<String>) throws {
        try writer.write { db in
            let held = try String.fetchAll(db, sql: "SELECT id FROM confirmed_order")
            for id in held where !keep.contains(id) {
                try db.execute(sql: "DELETE FROM confirmed_event WHERE order_id = ?", arguments: [id])
                try Self.setConfirmedVersion(db, id, nil)
                try Self.refreshView(db, id)
            }
        }
    }

    /// Starts a repair: the next pull begins again from the start of the scope.
    public func resetCursor() throws {
        try writer.write { db in try Self.setMeta(db, "cursor", "0") }
    }

    /// Stores a confirmed event; `text`, when given, is the event's JSON as the server
    /// sent it (kept as is instead of encoding `event` again).
    ///
    /// `statement` is ``upsertConfirmedSQL`` already prepared, for a caller storing many.
    static func upsertConfirmed(_ db: Database, _ event: Intent, text: String? = nil, statement: Statement? = nil) throws {
        let body = try text ?? encode(event)
        try (statement ?? db.cachedStatement(sql: upsertConfirmedSQL)).run(db) { values in
            values.text(1, event.opId)
            values.text(2, event.orderId)
            values.text(3, body)
        }
    }

    static let upsertConfirmedSQL =
        "INSERT INTO confirmed_event(op_id, order_id, body) VALUES (?, ?, ?) ON CONFLICT(op_id) DO UPDATE SET body = excluded.body"
}

extension ClientDatabase {
    /// A checkpointer for a long pull into this store (``WALCheckpointer``, with no pause
    /// between checkpoints); nil for a store in memory, or when it cannot open its own
    /// connection (the storing connection then checkpoints as before).
    public func checkpointer() -> WALCheckpointer? {
        let path = writer.path
        guard !path.isEmpty, path != ":memory:" else { return nil }
        return try? WALCheckpointer(path: path, label: "fieldsync pull checkpoint", interval: 0)
    }
}
