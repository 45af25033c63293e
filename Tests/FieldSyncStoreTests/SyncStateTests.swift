import FieldSyncCore
import GRDB
import Foundation
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

    /// The functions the `confirmed_order` triggers call, called directly: each moves the
    /// sum by the order's term, a sum that does not parse counts as 0, and an id or a
    /// version of another type leaves the sum as it is.
    @Test func theChecksumFunctionsMoveTheSumByTheTerm() throws {
        let (store, _) = try makeStore()
        let term = ScopeChecksum.term(orderId: "WO-订单-1", version: 7)
        let big = UInt64.max - 3
        func call(_ sql: String) throws -> String? {
            try store.writer.read { db in try String.fetchOne(db, sql: "SELECT " + sql) }
        }
        do {
            #expect(try call("fieldsync_sum_add('\(big)', 'WO-订单-1', 7)") == String(big &+ term))
            #expect(try call("fieldsync_sum_sub('\(big &+ term)', 'WO-订单-1', 7)") == String(big))
            #expect(try call("fieldsync_sum_sub('0', 'WO-订单-1', 7)") == String(0 &- term))
            #expect(try call("fieldsync_sum_add('not a number', 'WO-订单-1', 7)") == String(term))
            #expect(try call("fieldsync_sum_add(NULL, 'WO-订单-1', 7.0)") == String(term))
            #expect(try call("fieldsync_sum_add('12', NULL, 7)") == "12")
            #expect(try call("fieldsync_sum_add('12', 'WO-订单-1', 'seven')") == "12")
            #expect(try call("fieldsync_sum_add('12', 'WO-订单-1', 7.5)") == "12")
        }
    }

    /// A `sync` with nothing new commits nothing: no WAL frame, no row changed. The server's
    /// time is behind, in the same millisecond (the usual answer on a good link), or ahead
    /// by no more than the margin.
    @Test(arguments: [2_500, 3_000, 3_001, 3_000 + ClientDatabase.clockLearningMarginMs])
    func aPageThatBringsNothingWritesNothing(serverPhysical: Int64) throws {
        let (store, path) = try makeStore()
        try store.applyPull(assignedOrderPage(id: "WO-1", technician: "li"), now: 2_000)
        let cursor = try store.cursor()
        let clock = try #require(try store.lastHLC())
        let changes = try store.writer.read { $0.totalChangesCount }
        let wal = try walBytes(path)
        // When an empty page comes with the same cursor and that server clock
        try store.applyPull(
            PullResponse(orders: [], revoked: [], cursor: cursor, hasMore: false, checksum: nil,
                         serverHLC: HLC(physical: serverPhysical, logical: 7, device: "server")), now: 3_000)
        // Then nothing was written
        #expect(try store.writer.read { $0.totalChangesCount } == changes)
        #expect(try walBytes(path) == wal)
        #expect(try store.lastHLC() == clock)
        #expect(try store.cursor() == cursor)
        // And a stamp taken once the device's clock has reached the server's time orders
        // after it
        try store.record(orderId: "WO-1", now: serverPhysical + 1) { _ in .transition(to: .accepted, note: nil) }
        #expect(try #require(try store.pendingBatch(limit: 1).first).hlc
                > HLC(physical: serverPhysical, logical: 7, device: "server"))
    }

    /// The device's own work waits for the disk (a power cut keeps what the technician saw
    /// saved); a pull lowers that for its own transaction only.
    @Test func ownWorkCommitsDurablyAndAPullDoesNotChangeThat() throws {
        let (store, _) = try makeStore()
        let synchronous = { try store.writer.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") } }
        #expect(try synchronous() == 2)  // FULL
        try store.applyPull(assignedOrderPage(id: "WO-1", technician: "li"), now: 2_000)
        #expect(try synchronous() == 2)
        #expect(try store.writer.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
    }

    /// An empty page still teaches a device whose clock runs behind the server's time by
    /// more than the margin, and a moved cursor is still kept.
    @Test(arguments: [3_001 + ClientDatabase.clockLearningMarginMs, 90_000])
    func anEmptyPageKeepsAServerClockAheadAndANewCursor(serverPhysical: Int64) throws {
        let (store, _) = try makeStore()
        try store.applyPull(assignedOrderPage(id: "WO-1", technician: "li"), now: 2_000)
        try store.applyPull(
            PullResponse(orders: [], revoked: [], cursor: 9, hasMore: false, checksum: nil,
                         serverHLC: HLC(physical: serverPhysical, logical: 4, device: "server")), now: 3_000)
        #expect(try store.cursor() == 9)
        let clock = try #require(try store.lastHLC())
        #expect(clock > HLC(physical: serverPhysical, logical: 4, device: "server"))
        try store.record(orderId: "WO-1", now: 3_001) { _ in .transition(to: .accepted, note: nil) }
        #expect(try #require(try store.pendingBatch(limit: 1).first).hlc > clock)
    }
}

/// The size of the store's WAL file (0 when there is none).
private func walBytes(_ path: String) throws -> Int {
    let wal = path + "-wal"
    guard FileManager.default.fileExists(atPath: wal) else { return 0 }
    return (try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
}
