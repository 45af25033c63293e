import FieldSyncCore
import Foundation
import GRDB
import Testing

@testable import FieldSyncServer

/// A wall clock the test moves.
final class MovableClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64
    init(_ value: Int64) { self.value = value }
    var now: Int64 { lock.withLock { value } }
    func advance(_ ms: Int64) { lock.withLock { value += ms } }
}

/// Every page of a delta pull from `cursor`.
func pullDeltas(_ service: SyncService, as principal: Principal, from cursor: Int64, limit: Int = 500) throws -> [PullResponse] {
    var pages: [PullResponse] = []
    var cursor = cursor
    repeat {
        let page = try service.pull(as: principal, cursor: cursor, limit: limit, delta: true)
        pages.append(page)
        cursor = page.cursor
    } while pages.last?.hasMore == true && pages.count < 1000
    return pages
}

@Suite("scope: delta pulls, byte-bounded pages, archiving") struct ScopeTests {
    let day: Int64 = 86_400_000

    @Test func aHeldOrderComesBackAsItsNewEventsOnly() throws {
        // Given alice holds WO-1 at some cursor
        let service = try makeService()
        var desk = TestDevice("desk", dispatcher)
        desk.sync(try openOrders(["WO-1"], assignedTo: "alice", device: &desk, service: service))
        let first = try #require(try pullDeltas(service, as: alice, from: 0).last)
        #expect(first.orders.map(\.after) == [nil], "an order the device does not hold comes whole")
        #expect(first.orders.first?.events.count == 2)
        // When the dispatcher changes it twice
        let edits = [
            desk.intent("WO-1", .setField(field: .customerTier, value: "vip", base: nil)),
            desk.intent("WO-1", .setField(field: .specialNeeds, value: "独居老人", base: nil)),
        ]
        desk.sync(try desk.push(edits, to: service))
        // Then her next delta pull holds exactly those two events, after her cursor
        let next = try #require(try pullDeltas(service, as: alice, from: first.cursor).last)
        let snapshot = try #require(next.orders.first)
        #expect(snapshot.after == first.cursor)
        #expect(snapshot.events.map(\.opId) == edits.map(\.opId))
        #expect(snapshot.version == next.cursor)
        // and a client that does not ask for deltas still gets the whole history
        let whole = try service.pull(as: alice, cursor: first.cursor, limit: 500)
        #expect(whole.orders.first?.after == nil)
        #expect(whole.orders.first?.events.count == 4)
        #expect(next.checksum == whole.checksum)
    }

    @Test func anOrderThatJoinsTheScopeComesWholeEvenWhenItChangedBefore() throws {
        // Given WO-1 is bob's and alice has pulled her (empty) scope
        let service = try makeService()
        var desk = TestDevice("desk", dispatcher)
        desk.sync(try openOrders(["WO-1"], assignedTo: "bob", device: &desk, service: service))
        let start = try #require(try pullDeltas(service, as: alice, from: 0).last)
        #expect(start.orders.isEmpty)
        // When it is edited and then reassigned to her
        desk.sync(try desk.push([desk.intent("WO-1", .setField(field: .customerTier, value: "major", base: nil))], to: service))
        desk.sync(try desk.push([desk.intent("WO-1", .assign(technician: "alice"))], to: service))
        // Then she gets its whole history, and bob hears it left him
        let pages = try pullDeltas(service, as: alice, from: start.cursor)
        let snapshot = try #require(pages.flatMap(\.orders).first)
        #expect(snapshot.after == nil)
        #expect(snapshot.events.count == 4)
        let bobs = try pullDeltas(service, as: bob, from: 3)
        #expect(bobs.flatMap(\.revoked) == ["WO-1"])
    }

    @Test func eventsOfAnOrderSplitAcrossPagesArriveInOrderAndNoneIsSkipped() throws {
        // Given alice holds WO-1 and WO-2, and both get several changes interleaved
        let service = try makeService()
        var desk = TestDevice("desk", dispatcher)
        desk.sync(try openOrders(["WO-1", "WO-2"], assignedTo: "alice", device: &desk, service: service))
        let held = try #require(try pullDeltas(service, as: alice, from: 0).last)
        var edits: [Intent] = []
        for n in 1...5 {
            for id in ["WO-1", "WO-2"] {
                edits.append(desk.intent(id, .setField(field: .address, value: "新地址 \(n) 号", base: nil)))
            }
        }
        desk.sync(try desk.push(edits, to: service))
        // When she pulls two items a page
        let pages = try pullDeltas(service, as: alice, from: held.cursor, limit: 2)
        // Then every event arrives exactly once, in event order per order
        #expect(pages.count > 2)
        for id in ["WO-1", "WO-2"] {
            let got = pages.flatMap(\.orders).filter { $0.id == id }.flatMap(\.events).map(\.opId)
            #expect(got == edits.filter { $0.orderId == id }.map(\.opId))
        }
        #expect(pages.last?.checksum == (try service.pull(as: alice, cursor: 0, limit: 500)).checksum)
    }

    @Test func theRoutesPageJSONSaysWhatThePageSays() throws {
        // Given orders with awkward text, some held, one revoked
        let service = try makeService()
        var desk = TestDevice("desk", dispatcher)
        desk.sync(try openOrders(["WO-\"1\"", "WO-2\\b"], assignedTo: "alice", device: &desk, service: service))
        let held = try #require(try pullDeltas(service, as: alice, from: 0).last)
        desk.sync(try desk.push([
            desk.intent("WO-\"1\"", .setField(field: .specialNeeds, value: "轮椅 \"门口\" {台阶}\n\t", base: nil)),
            desk.intent("WO-2\\b", .assign(technician: "bob")),
        ], to: service))
        // When a page is asked as decoded values and as the route's JSON
        for (cursor, delta) in [(Int64(0), false), (0, true), (held.cursor, true)] {
            let page = try service.pull(as: alice, cursor: cursor, limit: 500, delta: delta)
            var sent = try JSONDecoder().decode(
                PullResponse.self, from: Data(try service.pullJSON(as: alice, cursor: cursor, limit: 500, delta: delta).json))
            // Then they are the same page (the clock stamp aside)
            sent.serverHLC = page.serverHLC
            #expect(sent == page)
        }
        let last = try service.pull(as: alice, cursor: held.cursor, limit: 500, delta: true)
        #expect(last.revoked == ["WO-2\\b"] && last.orders.map(\.id) == ["WO-\"1\""])
    }

    @Test func aPageEndsAfterAMegabyteOfEvents() throws {
        // Given 300 orders whose notes make ~4 KB each (1.2 MB in all)
        let service = try makeService()
        var desk = TestDevice("desk", dispatcher)
        let ids = (1...300).map { "WO-\($0)" }
        let note = String(repeating: "供暖管道漏水，", count: 180)  // 3,780 bytes
        for chunk in stride(from: 0, to: ids.count, by: 100) {
            var intents: [Intent] = []
            for id in ids[chunk..<chunk + 100] {
                intents.append(desk.intent(id, .create(fields: orderFields())))
                intents.append(desk.intent(id, .transition(to: .cancelled, note: note)))
            }
            desk.sync(try desk.push(intents, to: service))
        }
        // When the dispatcher pulls with the largest page
        let first = try service.pull(as: dispatcher, cursor: 0, limit: 500)
        // Then the page stopped near 1 MiB, and the rest follows
        let bytes = try JSONEncoder().encode(first.orders).count
        #expect(first.hasMore)
        #expect(first.orders.count < 300)
        #expect(bytes < SyncService.maxPullBytes + 16_000, "\(bytes) bytes in one page")
        let all = try pullAll(service, as: dispatcher)
        #expect(Set(all.flatMap(\.orders).map(\.id)) == Set(ids))
    }

    @Test func anOrderFinishedLongerAgoThanTheRetentionLeavesEveryDeviceButStaysOnTheServer() throws {
        // Given alice completed WO-1 and the desk holds it too
        let clock = MovableClock(testNow)
        let service = SyncService(database: try makeStore(), now: { clock.now })
        _ = try service.addUser(name: "alice", role: .technician)
        var desk = TestDevice("desk", dispatcher)
        desk.sync(try openOrders(["WO-1", "WO-2"], assignedTo: "alice", device: &desk, service: service))
        var tablet = TestDevice("tab", alice)
        let done = try tablet.push([
            tablet.intent("WO-1", .transition(to: .accepted, note: nil), at: testNow + 1 * minute),
            tablet.intent("WO-1", .transition(to: .onSite, note: nil), at: testNow + 2 * minute),
            tablet.intent("WO-1", .transition(to: .working, note: nil), at: testNow + 3 * minute),
            tablet.intent("WO-1", .transition(to: .completed, note: nil), at: testNow + 4 * minute),
        ], to: service)
        tablet.sync(done)
        #expect(done.outcomes.compactMap(\.rejection).isEmpty, "\(done.outcomes.compactMap(\.rejection))")
        #expect(try service.order(id: "WO-1", as: dispatcher).status == .completed)
        let hers = try #require(try pullDeltas(service, as: alice, from: 0).last)
        let desks = try #require(try pullDeltas(service, as: dispatcher, from: 0).last)
        // When 29 days pass, nothing leaves
        clock.advance(29 * day)
        #expect(try pullDeltas(service, as: alice, from: hers.cursor).flatMap(\.archived).isEmpty)
        // and after 31 days WO-1 is archived on both devices (WO-2, still open, stays)
        clock.advance(2 * day)
        let later = try pullDeltas(service, as: alice, from: hers.cursor)
        #expect(later.flatMap(\.archived) == ["WO-1"])
        #expect(later.flatMap(\.revoked).isEmpty)
        #expect(try pullDeltas(service, as: dispatcher, from: desks.cursor).flatMap(\.archived) == ["WO-1"])
        // and her scope checksum is WO-2's alone
        let wo2 = try service.order(id: "WO-2", as: dispatcher)
        let version = try service.database.read { db in
            try db.value(Int64.self, "SELECT version FROM orders WHERE id = 'WO-2'")
        }
        #expect(later.last?.checksum == String(ScopeChecksum.term(orderId: wo2.id, version: try #require(version))))
        // and a new device never hears of it
        let fresh = try pullDeltas(service, as: alice, from: 0)
        #expect(fresh.flatMap(\.orders).map(\.id) == ["WO-2"])
        #expect(fresh.flatMap(\.archived).isEmpty)
        // Then a late visit log of hers still lands, and the order stays archived
        let late = tablet.intent("WO-1", .append(ChildEntry(id: "l1", kind: .log, text: "回访：运行正常")), at: clock.now)
        let response = try tablet.push([late], to: service)
        #expect(response.outcomes.map(\.result) == [.applied])
        #expect(try service.order(id: "WO-1", as: dispatcher).children.count == 1)
        #expect(try pullDeltas(service, as: alice, from: later.last?.cursor ?? 0).flatMap(\.orders).isEmpty)
        // and a reopen brings it back to every scope, whole
        desk.sync(try desk.push([desk.intent("WO-1", .reopen(reason: "客户投诉仍漏水"), at: clock.now)], to: service))
        let back = try pullDeltas(service, as: alice, from: later.last?.cursor ?? 0)
        let snapshot = try #require(back.flatMap(\.orders).first { $0.id == "WO-1" })
        #expect(snapshot.after == nil)
        #expect(snapshot.events.count == 8)
    }

    /// What a device holds after storing `pages` as the client does: leaving orders
    /// first, then whole orders and the new events of those it holds (order id → version).
    static func store(_ pages: [PullResponse], into held: inout [String: Int64]) {
        for page in pages {
            for id in page.revoked + page.archived { held[id] = nil }
            for order in page.orders where order.after == nil || held[order.id] != nil { held[order.id] = order.version }
        }
    }

    @Test func aDeviceWhoseCursorStopsBetweenAnArchivingAndAReopenIsToldTheOrderLeftItsScope() throws {
        // Given alice's device holds WO-1 (completed) and WO-2
        let clock = MovableClock(testNow)
        let service = SyncService(database: try makeStore(), now: { clock.now })
        _ = try service.addUser(name: "alice", role: .technician)
        var desk = TestDevice("desk", dispatcher)
        desk.sync(try openOrders(["WO-1", "WO-2"], assignedTo: "alice", device: &desk, service: service))
        var tablet = TestDevice("tab", alice)
        tablet.sync(try tablet.push([
            tablet.intent("WO-1", .transition(to: .accepted, note: nil), at: testNow + 1 * minute),
            tablet.intent("WO-1", .transition(to: .onSite, note: nil), at: testNow + 2 * minute),
            tablet.intent("WO-1", .transition(to: .working, note: nil), at: testNow + 3 * minute),
            tablet.intent("WO-1", .transition(to: .completed, note: nil), at: testNow + 4 * minute),
        ], to: service))
        let first = try pullDeltas(service, as: alice, from: 0)
        var held: [String: Int64] = [:]
        Self.store(first, into: &held)
        #expect(held.keys.sorted() == ["WO-1", "WO-2"])
        // When WO-1 is archived, WO-3 opens for her, and the desk reopens WO-1
        clock.advance(31 * day)
        #expect(try service.archiveFinished(now: clock.now) == 1)
        desk.sync(try openOrders(["WO-3"], assignedTo: "alice", device: &desk, service: service))
        desk.sync(try desk.push([desk.intent("WO-1", .reopen(reason: "客户投诉仍漏水"), at: clock.now)], to: service))
        // and her link drops after one page
        let cursor = try #require(first.last?.cursor)
        let one = try service.pull(as: alice, cursor: cursor, limit: 1, delta: true)
        Self.store([one], into: &held)
        // Then that page already told her WO-1 left (it comes back whole later on)
        #expect(one.archived == ["WO-1"], "the first item after her cursor is WO-1's archiving")
        // and when the desk cancels WO-1 and it is archived again before she pulls on,
        desk.sync(try desk.push([desk.intent("WO-1", .transition(to: .cancelled, note: "客户取消"), at: clock.now)], to: service))
        clock.advance(31 * day)
        let rest = try pullDeltas(service, as: alice, from: one.cursor)
        Self.store(rest, into: &held)
        // she holds what her scope holds, and her checksum agrees with the server's
        #expect(held.keys.sorted() == ["WO-2", "WO-3"])
        let checksum = try #require(rest.last?.checksum)
        #expect(String(ScopeChecksum.sum(held.map { ($0.key, $0.value) })) == checksum)
        // and a device that pulled straight through ends the same
        var straight: [String: Int64] = [:]
        Self.store(first + (try pullDeltas(service, as: alice, from: cursor)), into: &straight)
        #expect(straight == held)
    }
}
