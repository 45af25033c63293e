import FieldSyncCore
import Testing

@testable import FieldSyncServer

@Suite("pull: cursor, pages, checksum, revocations")
struct PullTests {
    @Test func pagesOfTwoCoverFiveOrdersAndOnlyTheLastCarriesTheChecksum() throws {
        // Given five orders
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        try openOrders(["A", "B", "C", "D", "E"], device: &desk, service: service)

        // When the dispatcher pulls two at a time
        let pages = try pullAll(service, as: dispatcher, limit: 2)

        // Then three pages, in version order, the checksum on the last only
        #expect(pages.map { $0.orders.map(\.id) } == [["A", "B"], ["C", "D"], ["E"]])
        #expect(pages.map(\.hasMore) == [true, true, false])
        #expect(pages.map { $0.checksum == nil } == [true, true, false])
        #expect(pages.map(\.cursor) == [2, 4, 5])
        let snapshots = pages.flatMap(\.orders)
        let expected = ScopeChecksum.sum(snapshots.map { ($0.id, $0.version) })
        #expect(pages.last?.checksum == String(expected))
    }

    @Test func aChangeBetweenPagesIsNeverSkipped() throws {
        // Given five orders and a first page already read
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        try openOrders(["A", "B", "C", "D", "E"], device: &desk, service: service)
        let first = try service.pull(as: dispatcher, cursor: 0, limit: 2)

        // When order A (already delivered) changes before the next page
        _ = try desk.push([desk.intent("A", .setField(field: .symptom, value: "停电", base: nil))], to: service)
        let rest = try pullAll(service, as: dispatcher, from: first.cursor, limit: 2)

        // Then A comes again at its new version, and the final view matches the checksum
        var view: [String: Int64] = [:]
        for snapshot in ([first] + rest).flatMap(\.orders) { view[snapshot.id] = snapshot.version }
        #expect(rest.flatMap(\.orders).map(\.id) == ["C", "D", "E", "A"])
        #expect(view["A"] == 6)
        #expect(rest.last?.checksum == String(ScopeChecksum.sum(view.map { ($0.key, $0.value) })))
        // and nothing is left after the last cursor
        let after = try service.pull(as: dispatcher, cursor: rest.last?.cursor ?? 0, limit: 2)
        #expect(after.orders.isEmpty)
        #expect(after.cursor == rest.last?.cursor)
        #expect(after.hasMore == false)
    }

    @Test func aTechnicianPullsOnlyHisOrdersWithAMatchingChecksum() throws {
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        try openOrders(["A", "B"], assignedTo: "alice", device: &desk, service: service)
        try openOrders(["C"], assignedTo: "bob", device: &desk, service: service)
        try openOrders(["D"], device: &desk, service: service)

        let page = try service.pull(as: alice, cursor: 0, limit: 100)

        #expect(page.orders.map(\.id) == ["A", "B"])
        #expect(page.orders.map(\.version) == [2, 4])
        #expect(page.orders.first?.events.count == 2)
        #expect(page.checksum == String(ScopeChecksum.sum([("A", 2), ("B", 4)])))
        #expect(page.revoked.isEmpty)
    }

    @Test func aReassignmentRevokesTheOrderFromTheOldAssignee() throws {
        // Given alice synced her order
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        try openOrders(["A"], assignedTo: "alice", device: &desk, service: service)
        let synced = try service.pull(as: alice, cursor: 0, limit: 100)
        #expect(synced.orders.map(\.id) == ["A"])

        // When it is reassigned to bob
        _ = try desk.push([desk.intent("A", .assign(technician: "bob"))], to: service)

        // Then alice's next pull revokes it and her scope is empty; bob gets it
        let aliceNext = try service.pull(as: alice, cursor: synced.cursor, limit: 100)
        #expect(aliceNext.revoked == ["A"])
        #expect(aliceNext.orders.isEmpty)
        #expect(aliceNext.cursor == 3)
        #expect(aliceNext.checksum == "0")
        let bobs = try service.pull(as: bob, cursor: 0, limit: 100)
        #expect(bobs.orders.map(\.id) == ["A"])
        #expect(bobs.checksum == String(ScopeChecksum.term(orderId: "A", version: 3)))

        // And when it comes back to alice, a device that never pulled the revocation gets
        // it still (one whose pull stopped right after it must not keep the old copy),
        // and the order whole after it
        _ = try desk.push([desk.intent("A", .assign(technician: "alice"))], to: service)
        let back = try service.pull(as: alice, cursor: synced.cursor, limit: 100)
        #expect(back.revoked == ["A"])
        #expect(back.orders.map(\.id) == ["A"])
        #expect(back.orders.first?.version == 4)
        let stopped = try service.pull(as: alice, cursor: synced.cursor, limit: 1)
        #expect(stopped.revoked == ["A"] && stopped.orders.isEmpty && stopped.cursor == 3)
        let bobAgain = try service.pull(as: bob, cursor: bobs.cursor, limit: 100)
        #expect(bobAgain.revoked == ["A"])
    }

    @Test func theAllOrdersChecksumFollowsEveryChange() throws {
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        try openOrders(["A", "B"], assignedTo: "alice", device: &desk, service: service)
        _ = try desk.push([desk.intent("A", .assign(technician: "bob"))], to: service)

        let all = try service.pull(as: dispatcher, cursor: 0, limit: 500)

        #expect(all.checksum == String(ScopeChecksum.sum(all.orders.map { ($0.id, $0.version) })))
        #expect(all.orders.map(\.version) == [4, 5])
    }

    @Test func aNegativeCursorIsRefusedAndTheLimitIsClamped() throws {
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        try openOrders(["A", "B"], device: &desk, service: service)

        let error = #expect(throws: ServiceError.self) { try service.pull(as: dispatcher, cursor: -1, limit: 10) }
        let one = try service.pull(as: dispatcher, cursor: 0, limit: 0)

        #expect(error?.body.error == "bad_cursor")
        #expect(one.orders.count == 1)
        #expect(one.hasMore)
    }
}
