import FieldSyncClient
import FieldSyncCore
import FieldSyncServer
import GRDB
import Testing
@testable import FieldSyncStore

/// The scope checksum catches a local copy that drifted from the server, and the repair
/// re-fetches the scope without touching pending intents.
@Suite struct RepairTests {
    @Test func checksumMismatchRepairsTheScopeAndKeepsPendingWork() throws {
        // Given a technician holding three orders, all synced
        var sim = try Simulation(seed: 7, deviceCount: 1, skewMs: 0, faults: .none)
        let dispatcher = sim.devices[0].store, tech = sim.devices[1].store
        for n in 1...3 {
            try dispatcher.record(orderId: "WO-\(n)", now: sim.time.now) { _ in
                .create(fields: [.kind: "repair", .urgency: "2", .customerName: "客户\(n)", .address: "路 \(n) 号"])
            }
            try dispatcher.record(orderId: "WO-\(n)", now: sim.time.now + 1) { _ in .assign(technician: "t1") }
        }
        try sim.quiesce()
        #expect(try tech.orders().map(\.id) == ["WO-1", "WO-2", "WO-3"])

        // When the local copy loses an order behind the engine's back, and the technician
        // records work on another one that is not sent yet
        try tech.writer.write { db in
            try db.execute(sql: "DELETE FROM confirmed_event WHERE order_id = 'WO-2'")
            try db.execute(sql: "DELETE FROM confirmed_order WHERE id = 'WO-2'")
            try ClientDatabase.refreshView(db, "WO-2")
        }
        try tech.record(orderId: "WO-1", now: sim.time.now + 10) { _ in .transition(to: .accepted, note: nil) }
        var report = SyncReport()
        try sim.engine(1).pull(into: &report)

        // Then the pull noticed, repaired, and the pending intent is still there and shown
        #expect(report.repaired)
        #expect(try tech.orders().map(\.id) == ["WO-1", "WO-2", "WO-3"])
        #expect(try tech.outbox().map(\.intent.action) == [.transition(to: .accepted, note: nil)])
        #expect(try tech.order(id: "WO-1")?.status == .accepted)
        let server = try sim.service.pull(as: Principal(name: "t1", role: .technician), cursor: .max / 2, limit: 1)
        #expect(server.checksum == String(try tech.confirmedChecksum()))
    }

    @Test func aReassignedOrderLeavesTheOldAssigneesDeviceAndHisOfflineWorkIsHistory() throws {
        // Given t1 holds an order and goes offline
        var sim = try Simulation(seed: 8, deviceCount: 2, skewMs: 0, faults: .none)
        let dispatcher = sim.devices[0].store, t1 = sim.devices[1].store, t2 = sim.devices[2].store
        try dispatcher.record(orderId: "WO-R", now: sim.time.now) { _ in
            .create(fields: [.kind: "repair", .urgency: "1", .customerName: "医院", .address: "解放路"])
        }
        try dispatcher.record(orderId: "WO-R", now: sim.time.now + 1) { _ in .assign(technician: "t1") }
        try sim.quiesce()
        // When the dispatcher reassigns to t2 while t1, offline, logs a visit
        sim.time.now += 60_000
        try dispatcher.record(orderId: "WO-R", now: sim.time.now) { _ in .assign(technician: "t2") }
        _ = try sim.engine(0).sync()
        try t1.record(orderId: "WO-R", now: sim.time.now + 5_000) { _ in .transition(to: .accepted, note: nil) }
        try t1.record(orderId: "WO-R", now: sim.time.now + 6_000) { _ in .append(ChildEntry(id: "visit", kind: .log, text: "到了, 没人")) }
        let report = try sim.engine(1).sync()
        _ = try sim.engine(2).sync()
        // Then t1's work is history with a conflict, the order left his device, t2 has it
        #expect(report.merged == 2)
        #expect(report.revokedOrders == 1)
        #expect(try t1.orders().isEmpty)
        let order = try #require(try t2.order(id: "WO-R"))
        #expect(order.assignee == "t2" && order.status == .assigned)
        #expect(order.children.first?.history == true)
        #expect(order.conflicts.contains { $0.rule == .reassignedWhileOffline && $0.loser.actor == "t1" })
    }
}
