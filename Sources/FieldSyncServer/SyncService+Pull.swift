import FieldSyncCore

extension SyncService {
    /// The largest page a pull returns, in items.
    public static let maxPullLimit = 500
    /// The event bytes after which a pull page ends (it always holds at least one item):
    /// a tablet on a bad link fetches pages it can finish.
    public static let maxPullBytes = 1 << 20

    /// The changes in the caller's scope after `cursor`, oldest first, one page at a time.
    ///
    /// Scope (sync-protocol.md §7): a technician gets the orders assigned to him, a
    /// dispatcher every order, both without archived ones (finished more than
    /// ``retentionDays`` ago). Orders that left the scope come as `revoked` (reassigned)
    /// or `archived` ids, only to devices that held them. Items are ordered by their
    /// position in the server's sequence (without `delta`, an order's latest event; a
    /// revocation's `seq`), which is commit order because writers run one at a time on
    /// both engines (``ServerStore``), so a cursor never skips a change. The checksum comes with the last page only, read in
    /// the same snapshot.
    ///
    /// With `delta`, an order the device already holds (its membership of the scope began
    /// at or before `cursor`) comes as its events after `cursor`, each at its own
    /// position, with `after` set and `version` the last event the page holds; an order
    /// joining the scope comes whole at the position where it joined, with its events up
    /// to where the page ends (a page may end inside an order's events; the next one
    /// carries on, and exists for that alone if need be).
    ///
    /// - Parameters:
    ///   - cursor: the `cursor` of the previous page, 0 at first.
    ///   - limit: items per page, clamped to 1…500; a page also ends after
    ///     ``maxPullBytes`` of events.
    /// - Throws: 400 `bad_cursor` for a negative cursor.
    public func pull(
        as principal: Principal, cursor: Int64, limit: Int, delta: Bool = false
    ) throws(ServiceError) -> PullResponse {
        let (page, serverHLC) = try textPage(as: principal, cursor: cursor, limit: limit, delta: delta)
        do {
            let orders = try page.orders.map { order in
                OrderSnapshot(
                    id: order.id, version: order.version,
                    events: try order.events.map { try StoredJSON.decode(Intent.self, from: $0) }, after: order.after)
            }
            return PullResponse(
                orders: orders, revoked: page.revoked, archived: page.archived, cursor: page.cursor,
                hasMore: page.hasMore, checksum: page.checksum, serverHLC: serverHLC)
        } catch {
            throw .internalError(error)
        }
    }

    /// The same page as ``pull(as:cursor:limit:delta:)``, as the JSON the route sends:
    /// each event's stored text goes out as it is, never decoded and encoded again (the
    /// profile of a 20,000-order first sync showed that as a quarter of the server's time).
    ///
    /// - Returns: the JSON, and what it carries for `/metrics`, counted while writing it
    ///   (reading the page again to count took 3.6% of the server's time in a first sync).
    public func pullJSON(
        as principal: Principal, cursor: Int64, limit: Int, delta: Bool = false
    ) throws(ServiceError) -> (json: [UInt8], counts: PullPageCounts) {
        let (page, serverHLC) = try textPage(as: principal, cursor: cursor, limit: limit, delta: delta)
        var counts = PullPageCounts(orders: page.orders.count, revocations: page.revoked.count)
        var out: [UInt8] = []
        out.reserveCapacity(page.orders.reduce(256) { $0 + $1.events.reduce(64) { $0 + $1.utf8.count + 1 } })
        func append(_ text: String) { out.append(contentsOf: text.utf8) }
        func strings(_ list: [String]) { append("["); append(list.map(JSONText.quoted).joined(separator: ",")); append("]") }
        append("{\"archived\":"); strings(page.archived)
        if let checksum = page.checksum { append(",\"checksum\":" + JSONText.quoted(checksum)) }
        append(",\"cursor\":\(page.cursor),\"hasMore\":\(page.hasMore),\"orders\":[")
        for (n, order) in page.orders.enumerated() {
            if n > 0 { append(",") }
            append("{")
            if let after = order.after { append("\"after\":\(after),") }
            append("\"events\":[")
            counts.events += order.events.count
            for (m, event) in order.events.enumerated() {
                if m > 0 { append(",") }
                append(event)
            }
            append("],\"id\":" + JSONText.quoted(order.id) + ",\"version\":\(order.version)}")
        }
        append("],\"revoked\":"); strings(page.revoked)
        do {
            append(",\"serverHLC\":" + (try StoredJSON.encode(serverHLC)) + "}")
        } catch {
            throw .internalError(error)
        }
        return (out, counts)
    }

    /// One page with each event as its stored JSON text, and the server's clock.
    private func textPage(
        as principal: Principal, cursor: Int64, limit: Int, delta: Bool
    ) throws(ServiceError) -> (Page, HLC) {
        guard cursor >= 0 else {
            throw .badRequest("bad_cursor", "cursor must be 0 or the cursor of an earlier pull, not \(cursor)")
        }
        let limit = min(max(limit, 1), Self.maxPullLimit)
        let now = self.now()
        try archiveFinished(now: now)
        let page = try inRead { db in
            try self.page(for: principal, after: cursor, limit: limit, delta: delta, db)
        }
        return (page, clock.stamp(receiving: [], now: now))
    }

    private struct TextOrder {
        var id: String
        var version: Int64
        var events: [String]
        var after: Int64?
    }

    private struct Page {
        var orders: [TextOrder] = []
        var revoked: [String] = []
        var archived: [String] = []
        var cursor: Int64
        var hasMore = false
        var checksum: String?
    }

    /// The statement of one pull page (tests read its query plan): the items of the scope
    /// after `:cursor` in position order, at most `:limit`; `:scope` is the technician's
    /// name or ``ScopeSumRecord/allOrders``.
    ///
    /// `bounded`: every item also lies at or before `:bound`, the position of the
    /// `:limit`-th order joining the scope after the cursor (``wholeOrderBound``). The page
    /// is the same: `:limit` items at or before the bound exist, so no later one is among
    /// the first `:limit`. What it changes is the cost. The held orders' new events are the
    /// orders changed after the cursor that joined before it, a range no index holds; read
    /// from the orders changed after the cursor, that is every order joining later too, so
    /// each page of a first sync read the rest of the scope (a desk's first sync of 500,000
    /// orders: 2 million steps a page, 89 µs of server CPU an order against 30 µs at
    /// 50,000). Bounded, they are read from the events between the cursor and the bound:
    /// the page's own stretch of the log.
    static func pageStatement(technician: Bool, delta: Bool, bounded: Bool = false) -> String {
        // `since`: where the order's current membership of this scope began. For a
        // technician that is `assigned_seq`, which is never below `entered_seq` (the push
        // sets both whenever it sets `entered_seq`), so the indexes of v8 serve it.
        let since = wholeOrderSeq(technician: technician, delta: true)
        let inScope = scopeCondition(technician: technician)
        let window = bounded ? " AND \(Self.wholeOrderSeq(technician: technician, delta: delta)) <= :bound" : ""
        // The new events of orders the device holds, in event order.
        let events = !delta ? "" : bounded
            ? """
            UNION ALL
            SELECT 'event' AS kind, o.id AS id, e.seq AS seq FROM events e CROSS JOIN orders o
              WHERE e.seq > :cursor AND e.seq <= :bound AND o.id = e.order_id
              AND \(inScope) AND o.version > :cursor AND \(since) <= :cursor
            """
            : """
            UNION ALL
            SELECT 'event' AS kind, o.id AS id, e.seq AS seq FROM orders o
              JOIN events e ON e.order_id = o.id AND e.seq > :cursor
              WHERE \(inScope) AND o.version > :cursor AND \(since) <= :cursor
            """
        // Orders that left the scope, for a device whose cursor had reached the start of
        // the membership (it holds the order), even when the order is back in the scope:
        // it came back after the cursor (a membership that began at or before the cursor
        // ended before every revocation after it), so it comes whole at that later
        // position, and the device's copy of the old membership must not outlive it. (Left
        // out while the order was back, a device whose cursor stopped between the two kept
        // its old copy when the order left again before it pulled that far: the second
        // revocation is only for devices that reached the second membership.)
        return """
            \(Self.wholeOrders(technician: technician, delta: delta))\(window)
            \(events)
            UNION ALL
            SELECT r.reason AS kind, r.order_id AS id, r.seq AS seq FROM revocations r
              WHERE r.technician = :scope AND r.seq > :cursor AND r.entered_seq <= :cursor\(bounded ? " AND r.seq <= :bound" : "")
            ORDER BY seq
            LIMIT :limit
            """
    }

    /// Whole orders. With deltas, an order the device does not hold yet comes whole at the
    /// position where it joined the scope; the events after that come one by one from the
    /// next pull on, so the device's cursor always means "every event of every held order
    /// up to here". Without deltas, at its latest version. (`since` never exceeds
    /// `version`: the version bound lets the index read only orders changed after the
    /// cursor.)
    static func wholeOrders(technician: Bool, delta: Bool) -> String {
        let seq = wholeOrderSeq(technician: technician, delta: delta)
        return "SELECT 'order' AS kind, o.id AS id, \(seq) AS seq FROM orders o WHERE \(scopeCondition(technician: technician)) AND \(seq) > :cursor"
    }

    /// The orders (`o`) of the caller's scope: the technician's (`:scope`), or every one.
    static func scopeCondition(technician: Bool) -> String {
        technician ? "o.assignee = :scope AND o.archived = 0" : "o.archived = 0"
    }

    /// The position at which ``wholeOrders(technician:delta:)`` lists an order.
    static func wholeOrderSeq(technician: Bool, delta: Bool) -> String {
        delta ? technician ? "o.assigned_seq" : "o.entered_seq" : "o.version"
    }

    /// The position of the `:limit`-th whole order after the cursor (`:limit` is the
    /// page's row limit, one past its size), or none when fewer join: the bound of a
    /// bounded ``pageStatement(technician:delta:bounded:)``. It reads `:limit` entries of
    /// the index that lists them.
    static func wholeOrderBound(technician: Bool, delta: Bool) -> String {
        "SELECT seq FROM (\(wholeOrders(technician: technician, delta: delta))) AS whole ORDER BY seq LIMIT 1 OFFSET :offset"
    }

    /// How many log positions per row a bounded page may span (see ``page(for:after:limit:delta:_:)``).
    static let boundedSpan: Int64 = 8

    private func page(
        for principal: Principal, after cursor: Int64, limit: Int, delta: Bool, _ db: any SQLSession
    ) throws -> Page {
        let technician = principal.role == .technician
        let scope = technician ? principal.name : ScopeSumRecord.allOrders
        var arguments: [String: SQLValue] = [
            "scope": .text(scope), "cursor": .integer(cursor), "limit": .integer(Int64(limit + 1)),
        ]
        // Bounded, a page reads every position of the log between the cursor and the bound
        // (about a microsecond each: the event, then its order by key); unbounded, the
        // index entries of the scope's orders changed after the cursor (a tenth of that
        // each; the index holds what the filter needs). A desk's first sync spans a few
        // positions an order, so bounded it is; a technician holding one order in
        // several hundred spans that many positions an order, and his scope is small:
        // unbounded it stays. On 500,000 orders, li holding every tenth (his pages span
        // about twenty positions a row): his first sync's pages cost the server 2.0–2.6 s
        // of CPU bounded, 1.2–1.4 s unbounded; the desk's, 500,000 orders, 8.5–9.9 s
        // bounded, 44 s unbounded.
        let bound = try db.rows(
            Self.wholeOrderBound(technician: technician, delta: delta),
            named: ["scope": .text(scope), "cursor": .integer(cursor), "offset": .integer(Int64(limit))]
        ).first.map { try $0["seq"] as Int64 }.flatMap { $0 - cursor <= Int64(limit) * Self.boundedSpan ? $0 : nil }
        if let bound { arguments["bound"] = .integer(bound) }
        let rows = try db.rows(
            Self.pageStatement(technician: technician, delta: delta, bounded: bound != nil), named: arguments)
        var page = Page(cursor: cursor)
        page.hasMore = rows.count > limit
        let items = try rows.prefix(limit).map { row in
            (kind: try row["kind"] as String, id: try row["id"] as String, seq: try row["seq"] as Int64)
        }
        // The events the page may carry, read in a few statements rather than one per
        // item (on PostgreSQL each statement is a round trip): the new events by number;
        // whole orders' histories up to the page's last position, 100 orders at a time as
        // the page reaches them (a page that ends early on bytes reads little past it).
        let last = items.last?.seq ?? cursor
        var bodies: [Int64: String] = [:]
        let eventSeqs = items.filter { $0.kind == "event" }.map(\.seq)
        for start in stride(from: 0, to: eventSeqs.count, by: 500) {
            let chunk = eventSeqs[start..<min(start + 500, eventSeqs.count)]
            for row in try db.rows(
                "SELECT seq, body FROM events WHERE seq IN (\(PushBatch.marks(chunk.count)))", chunk.map(\.sqlValue))
            {
                bodies[try row["seq"]] = try row["body"]
            }
        }
        let wholeIds = items.filter { $0.kind == "order" }.map(\.id)
        var histories: [String: [(seq: Int64, body: String)]] = [:]
        var loaded = 0
        func history(of id: String) throws -> [(seq: Int64, body: String)] {
            while histories[id] == nil && loaded < wholeIds.count {
                let chunk = Array(wholeIds[loaded..<min(loaded + 100, wholeIds.count)])
                loaded += chunk.count
                for id in chunk { histories[id] = [] }
                for row in try db.rows(
                    "SELECT order_id, seq, body FROM events WHERE order_id IN (\(PushBatch.marks(chunk.count))) AND seq <= ? ORDER BY seq",
                    chunk.map(\.sqlValue) + [.integer(last)])
                {
                    histories[try row["order_id"], default: []].append((try row["seq"], try row["body"]))
                }
            }
            return histories[id] ?? []
        }
        var bytes = 0
        var deltas: [String: Int] = [:]  // order id → index in page.orders
        var wholeAt: [String: Int] = [:]  // order id → index of its whole item (deltas)
        for (index, item) in items.enumerated() {
            if index > 0 && bytes >= Self.maxPullBytes {
                page.hasMore = true
                break
            }
            let (id, seq) = (item.id, item.seq)
            switch item.kind {
            case "order":
                // Its events up to the item's position: all of them without deltas (the
                // latest event's); with deltas, up to where it joined the scope, then up to
                // where the page ends (below), and the later ones follow one by one as the
                // cursor passes them, so a first sync never receives an event twice.
                let events = try history(of: id).filter { $0.seq <= seq }.map(\.body)
                bytes += events.reduce(0) { $0 + $1.utf8.count }
                if delta { wholeAt[id] = page.orders.count }
                page.orders.append(TextOrder(id: id, version: seq, events: events))
            case "event":
                guard let body = bodies[seq] else { continue }
                bytes += body.utf8.count
                if let at = deltas[id] {
                    page.orders[at].events.append(body)
                    page.orders[at].version = seq
                } else {
                    deltas[id] = page.orders.count
                    page.orders.append(TextOrder(id: id, version: seq, events: [body], after: cursor))
                }
            case RevocationRecord.Reason.archived.rawValue:
                if !page.archived.contains(id) { page.archived.append(id) }
            default:
                if !page.revoked.contains(id) { page.revoked.append(id) }
            }
            page.cursor = seq
        }
        // A whole order (with deltas) also takes its events up to where the page ends: the
        // cursor passes them, so no later page would. Its events after that come as new
        // events on the next page, which therefore exists even if nothing else is due.
        if !wholeAt.isEmpty {
            let ids = Array(wholeAt.keys)
            var latest: [String: Int64] = [:]
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk = ids[start..<min(start + 500, ids.count)]
                for row in try db.rows(
                    "SELECT id, version FROM orders WHERE id IN (\(PushBatch.marks(chunk.count)))", chunk.map(\.sqlValue))
                {
                    latest[try row["id"]] = try row["version"]
                }
            }
            for (id, index) in wholeAt {
                let since = page.orders[index].version
                page.orders[index].events += try history(of: id).filter { $0.seq > since && $0.seq <= page.cursor }.map(\.body)
                let newest = latest[id] ?? since
                page.orders[index].version = min(newest, page.cursor)
                if newest > page.cursor { page.hasMore = true }
            }
        }
        if !page.hasMore {
            page.checksum = String(try ScopeSumRecord.checksum(of: scope, db))
        }
        return page
    }

    // MARK: - Archiving

    /// Archives the orders finished more than ``retentionDays`` before `now`: each leaves
    /// its assignee's scope and the all-orders scope, with a revocation (reason
    /// `archived`) at a fresh position, in one write. Runs before every pull; when there
    /// is nothing to archive it costs one indexed read. Nothing is deleted: the order
    /// stays readable (`GET /v1/orders/{id}`), and its crew's late intents still land.
    /// - Returns: how many orders were archived.
    @discardableResult
    public func archiveFinished(now: Int64) throws(ServiceError) -> Int {
        let cutoff = now - retentionMs
        let due = "SELECT id FROM orders WHERE archived = 0 AND finished = 1 AND finished_at < ? LIMIT 1"
        guard try inRead({ db in try db.value(String.self, due, [cutoff]) }) != nil else { return 0 }
        return try inWrite { db in
            let rows = try db.rows("""
                SELECT id, assignee, version, entered_seq, assigned_seq FROM orders
                  WHERE archived = 0 AND finished = 1 AND finished_at < ?
                """, [cutoff])
            for row in rows {
                let id: String = try row["id"]
                let position = try db.nextPosition()
                let term = ScopeChecksum.term(orderId: id, version: try row["version"])
                try db.execute("UPDATE orders SET archived = 1 WHERE id = ?", [id])
                if let assignee = try row["assignee"] as String? {
                    try ScopeSumRecord.adjust(assignee, term: term, subtract: true, db)
                    try RevocationRecord(
                        technician: assignee, orderId: id, seq: position,
                        enteredSeq: max(try row["entered_seq"] as Int64, try row["assigned_seq"] as Int64),
                        reason: .archived
                    ).insert(db)
                }
                try ScopeSumRecord.adjust(ScopeSumRecord.allOrders, term: term, subtract: true, db)
                try RevocationRecord(
                    technician: ScopeSumRecord.allOrders, orderId: id, seq: position,
                    enteredSeq: try row["entered_seq"], reason: .archived
                ).insert(db)
            }
            return rows.count
        }
    }
}
