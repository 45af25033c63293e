import FieldSyncCore
import Foundation
import GRDB

extension ClientDatabase {
    /// Records one user action: checks it against the local view, appends the intent to the
    /// outbox and refreshes the view — all in one write transaction, so either both the
    /// outbox row and the view change are written or neither is.
    ///
    /// - Parameters:
    ///   - orderId: the order acted on (a new id for `create`).
    ///   - now: the device's wall-clock time in milliseconds (when it happened on site).
    ///   - build: makes the action from the current local view of the order (nil if none).
    /// - Returns: the recorded intent and the order as the view now shows it.
    @discardableResult
    public func record(
        orderId: String, now: Int64, _ build: (WorkOrder?) throws -> Action
    ) throws -> (intent: Intent, order: WorkOrder?) {
        try record(orderId: orderId, now: now, build, afterWrite: nil)
    }

    func record(
        orderId: String, now: Int64, _ build: (WorkOrder?) throws -> Action,
        afterWrite: ((Database) throws -> Void)?
    ) throws -> (intent: Intent, order: WorkOrder?) {
        try writer.write { db in
            let (intent, order) = try Self.record(db, orderId: orderId, now: now, build)
            try afterWrite?(db)
            return (intent, order)
        }
    }

    /// Records one action inside the caller's transaction (see the public `record`).
    static func record(
        _ db: Database, orderId: String, now: Int64, _ build: (WorkOrder?) throws -> Action
    ) throws -> (intent: Intent, order: WorkOrder?) {
        do {
            guard let account = try Self.account(db) else { throw StoreError.notLoggedIn }
            let current = try Self.view(db, orderId)
            let action = try build(current)
            var clock = try Self.clock(db, device: account.deviceId)
            let seq = try Self.meta(db, "next_seq").flatMap { Int64($0) } ?? 1
            var createOp: String?
            if case .create = action {} else { createOp = current?.createOpId }
            let intent = Intent(
                opId: OperationID.make(millis: now), deviceId: account.deviceId, deviceSeq: seq,
                actor: account.user, role: account.role, hlc: clock.tick(now: now),
                occurredAt: now, orderId: orderId, createOp: createOp, action: action)
            if let rejection = IntentCheck.rejection(for: intent, order: current) {
                throw StoreError.refused(rejection)
            }
            if let current, let target = Self.lifecycleTarget(of: action),
               !current.status.canMove(to: target)
            {
                throw StoreError.illegalTransition(
                    order: orderId, from: current.status, to: target, role: account.role)
            }
            try db.execute(
                sql: "INSERT INTO outbox(device_seq, op_id, order_id, body) VALUES (?, ?, ?, ?)",
                arguments: [seq, intent.opId, orderId, Self.encode(intent)])
            try Self.setMeta(db, "next_seq", String(seq + 1))
            try Self.setMeta(db, "hlc", Self.encode(clock.last))
            let order = try Self.refreshView(db, orderId)
            return (intent, order)
        }
    }

    /// Opens again, under `newId`, an order whose `create` the server refused because
    /// another desk had taken its id (`order_exists`), together with every action that
    /// was refused with it (`order_id_taken`), in their order — one transaction. The
    /// refused copies leave the outbox: what the dispatcher typed lives on in the new ones.
    /// - Returns: the new intents.
    public func recreate(refused orderId: String, as newId: String, now: Int64) throws -> [Intent] {
        try writer.write { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT device_seq, body, reason_code FROM outbox WHERE order_id = ? AND state = 'rejected' ORDER BY device_seq",
                arguments: [orderId])
            let refused = try rows.map { (seq: $0["device_seq"] as Int64, code: $0["reason_code"] as String?,
                                          intent: try Self.decodeIntent($0["body"])) }
            guard let create = refused.last(where: {
                if case .create = $0.intent.action { $0.code == Rejection.Code.orderExists.rawValue } else { false }
            }) else {
                throw StoreError.refused(Rejection(
                    .unknownOrder,
                    "no refused order \(orderId) on this device: `fieldsync pending` lists what the server refused"))
            }
            let followers = refused.filter { $0.intent.createOp == create.intent.opId }
            var made: [Intent] = []
            for old in [create] + followers {
                let action = old.intent.action
                made.append(try Self.record(db, orderId: newId, now: now) { _ in action }.intent)
                try db.execute(sql: "DELETE FROM outbox WHERE device_seq = ?", arguments: [old.seq])
            }
            try Self.refreshView(db, orderId)
            return made
        }
    }

    /// The status an action asks for, when it is a lifecycle step the CLI checks first.
    static func lifecycleTarget(of action: Action) -> OrderStatus? {
        switch action {
        case .transition(let to, _): to
        case .assign: .assigned
        case .signOff: .signedOff
        default: nil
        }
    }

    static func view(_ db: Database, _ orderId: String) throws -> WorkOrder? {
        guard let state = try String.fetchOne(
            db.cachedStatement(sql: "SELECT state FROM order_view WHERE id = ?"), arguments: [orderId])
        else { return nil }
        return try viewState(db, id: orderId, state: state)
    }

    /// The order a view row holds: its stored fold, or — for a row the bulk pull wrote
    /// with its summary columns only (`state` = '') — the fold of its events, made now.
    static func viewState(_ db: Database, id: String, state: String) throws -> WorkOrder? {
        if !state.isEmpty { return try decode(WorkOrder.self, state) }
        return WorkOrder.fold(try events(db, id))
    }

    /// Rebase: the view of an order is its confirmed events plus the pending intents,
    /// folded by the same Core function the server uses.
    @discardableResult
    static func refreshView(_ db: Database, _ orderId: String) throws -> WorkOrder? {
        try refreshView(db, orderId, events: try events(db, orderId))
    }

    /// An order's confirmed events and pending intents.
    static func events(_ db: Database, _ orderId: String) throws -> [Intent] {
        var events = try confirmedEvents(db, orderId)
        for body in try String.fetchAll(
            db.cachedStatement(sql: "SELECT body FROM outbox WHERE order_id = ? AND state = 'pending'"),
            arguments: [orderId])
        {
            events.append(try decodeIntent(body))
        }
        return events
    }

    /// An order's confirmed events.
    static func confirmedEvents(_ db: Database, _ orderId: String) throws -> [Intent] {
        try String.fetchAll(
            db.cachedStatement(sql: "SELECT body FROM confirmed_event WHERE order_id = ?"), arguments: [orderId]
        ).map(decodeIntent)
    }

    /// Writes the view of an order folded from `events`, which must be all its confirmed
    /// events plus its pending intents (the pull's fast path passes the snapshot's events
    /// of an order with nothing pending, so they are not read back and decoded again).
    ///
    /// With `materialized` false only the summary columns are written and the fold is made
    /// again when the order is read (``viewState(_:id:state:)``): the initial pull of a
    /// desk's thousands of orders then encodes no order's JSON, which the profile showed
    /// was a third of its time.
    @discardableResult
    static func refreshView(
        _ db: Database, _ orderId: String, events: [Intent], materialized: Bool = true
    ) throws -> WorkOrder? {
        let order = WorkOrder.fold(events)
        try writeView(db, orderId, order, materialized: materialized)
        return order
    }

    /// Writes `order`, the fold of the order's events, as its view; nil (they fold to no
    /// order: no create is held) removes the view.
    static func writeView(
        _ db: Database, _ orderId: String, _ order: WorkOrder?, materialized: Bool, conflictsHeld: Bool = true,
        statement: Statement? = nil
    ) throws {
        if let order {
            try writeView(db, order, materialized: materialized, conflictsHeld: conflictsHeld, statement: statement)
        } else {
            try deleteView(db, orderId)
        }
    }
}
