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
    /// Each stored order next to the fold of its stored events.
    private func storedAndFolded(_ service: SyncService) throws -> [(WorkOrder, WorkOrder?)] {
        try service.database.read { db in
            try db.values(String.self, "SELECT id FROM orders ORDER BY id").map { id in
                let state = try db.value(String.self, "SELECT state FROM orders WHERE id = ?", [id]) ?? ""
                return (try StoredJSON.decode(WorkOrder.self, from: state), WorkOrder.fold(try SyncService.loadEvents(of: id, db)))
            }
        }
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
