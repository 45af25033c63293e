import FieldSyncCore
import Testing
@testable import FieldSyncStore

@Suite struct SyncStateTests {
    @Test func outcomesDecideWhatLeavesTheOutbox() throws {
        // Given three pending intents
        let (store, _) = try makeStore()
        try store.applyPull(assignedOrderPage(id: "WO-1", technician: "li"), now: 2_000)
        try store.record(orderId: "WO-1", now: 3_000) { _ in .transition(to: .accepted, note: nil) }
        try store.record(orderId: "WO-1", now: 3_001) { _ in .append(ChildEntry(id: "l1", kind: .log, text: "到达")) }
        try store.record(orderId: "WO-1", now: 3_002) { _ in .append(ChildEntry(id: "l2", kind: .log, text: "x")) }
        let sent = try store.pendingBatch(limit: 10)
        // When the server applied the first, refused the second, deferred the third
        let response = PushResponse(
            outcomes: [
                PushOutcome(deviceSeq: 1, opId: sent[0].opId, result: .applied, stored: sent[0]),
                PushOutcome(deviceSeq: 2, opId: sent[1].opId, result: .rejected, rejection: Rejection(.signed, "frozen")),
                PushOutcome(deviceSeq: 3, opId: sent[2].opId, result: .deferred),
            ],
            nextSeq: 3, serverHLC: HLC(physical: 4_000, device: "server"))
        try store.applyPush(response, now: 3_500)
        // Then the applied one is confirmed, the refused one stays visible, the deferred waits
        let outbox = try store.outbox()
        #expect(outbox.map(\.intent.deviceSeq) == [2, 3])
        #expect(outbox[0].state == .rejected && outbox[0].rejection == Rejection(.signed, "frozen"))
        #expect(outbox[1].state == .pending)
        #expect(try store.confirmedEvents().contains { $0.opId == sent[0].opId })
        // And the view shows the applied and the still-pending action, not the refused one
        let order = try #require(try store.order(id: "WO-1"))
        #expect(order.status == .accepted)
        #expect(order.children.map(\.entry.id) == ["l2"])
        // And the clock took in the server's time
        #expect(try #require(try store.lastHLC()).physical >= 4_000)
    }

    @Test func revokedOrderLeavesButRefusedWorkStaysListed() throws {
        let (store, _) = try makeStore()
        try store.applyPull(assignedOrderPage(id: "WO-1", technician: "li"), now: 2_000)
        #expect(try store.confirmedChecksum() == ScopeChecksum.term(orderId: "WO-1", version: 2))
        try store.applyPull(
            PullResponse(orders: [], revoked: ["WO-1"], cursor: 5, hasMore: false, checksum: "0",
                         serverHLC: HLC(physical: 3_000, device: "server")), now: 3_000)
        #expect(try store.order(id: "WO-1") == nil)
        #expect(try store.cursor() == 5)
        #expect(try store.confirmedChecksum() == 0)
    }
}
