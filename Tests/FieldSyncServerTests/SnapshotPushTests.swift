import FieldSyncCore
import Foundation
import GRDB
import Testing

@testable import FieldSyncServer

/// The push folds each accepted event onto the stored order (`orders.state`) and folds
/// the whole history only when an event sorts earlier; the stored state must always be
/// exactly the fold of the order's events.
@Suite("push: the stored snapshot is always the fold of the events")
struct SnapshotPushTests {
    /// Each stored order (its `state` with its lines, v9-order-children) next to the fold
    /// of its stored events.
    private func storedAndFolded(_ service: SyncService) throws -> [(WorkOrder, WorkOrder?)] {
        let ids = try service.database.read { db in try db.values(String.self, "SELECT id FROM orders ORDER BY id") }
        return try ids.map { id in
            let folded = try service.database.read { db in WorkOrder.fold(try SyncService.loadEvents(of: id, db)) }
            return (try service.order(id: id, as: dispatcher), folded)
        }
    }

    /// The order's stored `state`, its `order_children` rows (position, line id, body)
    /// and `child_rows`.
    private func storedRows(_ service: SyncService, _ id: String) throws -> (state: String, lines: [(Int64, String, String)], childRows: Bool) {
        try service.database.read { db in
            let row = try #require(try db.row("SELECT state, child_rows FROM orders WHERE id = ?", [id]))
            let lines = try db.rows("SELECT position, child_id, body FROM order_children WHERE order_id = ? ORDER BY position", [id])
                .map { (try $0["position"] as Int64, try $0["child_id"] as String, try $0["body"] as String) }
            return (try row["state"], lines, try row["child_rows"])
        }
    }

    @Test func linesAreRowsOfTheirOwnAndAPushWritesOnlyTheLinesItAddsOrVoids() throws {
        // Given an order with many lines, pushed in several batches
        let service = try makeService(now: testNow + hour)
        var desk = TestDevice("disp-1", dispatcher)
        let opened = try openOrders(["WO-1"], assignedTo: "alice", device: &desk, service: service)
        var tablet = TestDevice("tab-1", alice)
        tablet.sync(opened)
        tablet.sync(try tablet.push(
            [tablet.intent("WO-1", .transition(to: .accepted, note: nil)), tablet.intent("WO-1", .transition(to: .onSite, note: nil))]
                + (1...30).map { tablet.intent("WO-1", .append(.init(id: "L\($0)", kind: .log, text: "第 \($0) 行"))) },
            to: service))
        tablet.sync(try tablet.push([
            tablet.intent("WO-1", .append(.init(id: "P1", kind: .part, text: "球阀 DN20", code: "V20", quantity: 2, amountFen: 4_500))),
            tablet.intent("WO-1", .append(.init(id: "C1", kind: .charge, text: "上门费", amountFen: 3_000))),
            tablet.intent("WO-1", .append(.init(id: "P2", kind: .part, text: "密封圈", quantity: 1, amountFen: 200))),
        ], to: service))
        let before = try storedRows(service, "WO-1")

        // When one more push appends a line and voids two earlier ones
        tablet.sync(try tablet.push([
            tablet.intent("WO-1", .append(.init(id: "L31", kind: .log, text: "收尾"))),
            tablet.intent("WO-1", .void(childId: "L3", reason: "记错了")),
            tablet.intent("WO-1", .void(childId: "P2", reason: "没用上")),
        ], to: service))

        // Then the fold holds no lines; every line is a row in the fold's order; the rows
        // the push did not touch are as they were, and the voided ones kept their place
        let after = try storedRows(service, "WO-1")
        #expect(after.childRows)
        #expect(after.state.contains("\"children\":[]"))
        #expect(after.lines.map(\.1) == (1...30).map { "L\($0)" } + ["P1", "C1", "P2", "L31"])
        let changed = Set(zip(before.lines, after.lines).filter { $0.0.2 != $0.1.2 }.map(\.1.1))
        #expect(changed == ["L3", "P2"])
        #expect(zip(before.lines, after.lines).allSatisfy { $0.0.0 == $0.1.0 })
        let pairs = try storedAndFolded(service)
        for (stored, folded) in pairs { #expect(stored == folded) }

        // When the crew completes and the customer signs for the live part and charge lines
        // (the server reads those rows to check the signed content)
        tablet.sync(try tablet.push([
            tablet.intent("WO-1", .transition(to: .working, note: nil)),
            tablet.intent("WO-1", .transition(to: .completed, note: nil)),
        ], to: service))
        let order = try service.order(id: "WO-1", as: alice)
        let signOff = SignOff(
            signerName: "王女士", signerRole: "customer", signatureDigest: String(repeating: "a", count: 64),
            rating: 5, comment: nil, signedAt: testNow, contentHash: SignOffContent.hash(of: order))
        let signed = try tablet.push([tablet.intent("WO-1", .signOff(signOff))], to: service)

        // Then the sign-off is applied, and the stored order is still the fold of its events
        #expect(signed.outcomes.first?.result == .applied, "\(signed.outcomes)")
        #expect(try service.order(id: "WO-1", as: dispatcher).status == .signedOff)
        for (stored, folded) in try storedAndFolded(service) { #expect(stored == folded) }
    }

    @Test(.disabled(if: testEngineIsPostgres, "edits stored JSON with SQLite's json functions"))
    func anOrderStoredWithItsLinesInItsStateMovesThemToRowsOnTheNextPush() throws {
        // Given an order stored as releases before v9-order-children stored it: its lines
        // inside `state`, no rows
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        let opened = try openOrders(["WO-1"], assignedTo: "alice", device: &desk, service: service)
        var tablet = TestDevice("tab-1", alice)
        tablet.sync(opened)
        tablet.sync(try tablet.push((1...5).map { tablet.intent("WO-1", .append(.init(id: "L\($0)", kind: .log, text: "line \($0)"))) }, to: service))
        try service.database.write { db in
            try db.execute("""
                UPDATE orders SET child_rows = 0, state = json_set(state, '$.children', (
                    SELECT json_group_array(json(body)) FROM (
                        SELECT body FROM order_children WHERE order_id = orders.id ORDER BY position)))
                """)
            try db.execute("DELETE FROM order_children")
        }
        #expect(try service.order(id: "WO-1", as: dispatcher).children.count == 5)

        // When the next push appends a line and voids an old one
        tablet.sync(try tablet.push([
            tablet.intent("WO-1", .append(.init(id: "L6", kind: .log, text: "line 6"))),
            tablet.intent("WO-1", .void(childId: "L2", reason: "typo")),
        ], to: service))

        // Then every line is a row, the state holds none, and the order is the fold
        let rows = try storedRows(service, "WO-1")
        #expect(rows.childRows)
        #expect(rows.lines.map(\.1) == ["L1", "L2", "L3", "L4", "L5", "L6"])
        #expect(rows.state.contains("\"children\":[]"))
        for (stored, folded) in try storedAndFolded(service) { #expect(stored == folded) }
    }

    @Test func lateAndInterleavedEventsLeaveTheFoldOfTheEvents() throws {
        // Given an order worked on by a crew, while a second tablet of the crew recorded
        // edits offline, stamped before the crew's latest events
        // (the server's clock an hour on, so no time below lies in its future)
        let service = try makeService(now: testNow + hour)
        var desk = TestDevice("disp-1", dispatcher)
        let opened = try openOrders(["WO-1"], assignedTo: "alice", device: &desk, service: service)
        var tablet = TestDevice("tab-1", alice)
        var phone = TestDevice("phone-1", alice)
        tablet.sync(opened)
        phone.sync(opened)
        let offline = [
            phone.intent("WO-1", .setField(field: .diagnosis, value: "pump", base: nil), at: testNow + minute),
            phone.intent("WO-1", .append(.init(id: "L9", kind: .log, text: "offline note")), at: testNow + 2 * minute),
        ]
        _ = try tablet.push([
            tablet.intent("WO-1", .transition(to: .accepted, note: nil), at: testNow + 10 * minute),
            tablet.intent("WO-1", .setField(field: .diagnosis, value: "valve", base: nil), at: testNow + 11 * minute),
            tablet.intent("WO-1", .transition(to: .onSite, note: nil), at: testNow + 12 * minute),
        ], to: service)

        // When the offline edits arrive late (they sort before what is stored), and then
        // the crew goes on, sorting after everything
        _ = try phone.push(offline, to: service)
        _ = try tablet.push([tablet.intent("WO-1", .append(.init(id: "L1", kind: .log, text: "line")), at: testNow + 20 * minute)], to: service)

        // Then the stored order is exactly the fold of its events: the later diagnosis won
        let pairs = try storedAndFolded(service)
        #expect(pairs.count == 1)
        for (stored, folded) in pairs { #expect(stored == folded) }
        let order = try service.order(id: "WO-1", as: dispatcher)
        #expect(order[.diagnosis] == "valve")
        #expect(order.children.map(\.entry.id) == ["L9", "L1"])
        #expect(order.eventCount == 8)
    }

    @Test(.disabled(if: testEngineIsPostgres, "edits stored JSON with SQLite's json functions"))
    func aStateStoredByAnOlderReleaseIsFoldedAgainOnTheNextPush() throws {
        // Given an order whose stored state lacks lastOpId (written before snapshots)
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        try openOrders(["WO-1"], device: &desk, service: service)
        try service.database.write { db in
            try db.execute("""
                UPDATE orders SET state = json_remove(state, '$.lastOpId', '$.pendingVoids', '$.eventCount')
                """)
            try db.execute("UPDATE orders SET state = json_set(state, '$.eventCount', 99)")
        }

        // When the next event arrives
        _ = try desk.push([desk.intent("WO-1", .assign(technician: "bob"))], to: service)

        // Then the stored state is the fold of the events, not the old state plus one
        let pairs = try storedAndFolded(service)
        for (stored, folded) in pairs { #expect(stored == folded) }
        #expect(pairs.first?.0.eventCount == 2)
    }
}
