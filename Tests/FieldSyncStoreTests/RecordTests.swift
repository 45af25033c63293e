import FieldSyncCore
import Foundation
import GRDB
import Testing
@testable import FieldSyncStore

@Suite struct RecordTests {
    @Test func outboxRowAndViewChangeAreOneTransaction() throws {
        // Given an assigned order on the device
        let (store, _) = try makeStore()
        try store.applyPull(assignedOrderPage(id: "WO-1", technician: "li"), now: 2_000)
        struct Crash: Error {}
        // When recording fails after both writes, inside the transaction
        #expect(throws: Crash.self) {
            try store.record(orderId: "WO-1", now: 3_000, { _ in .transition(to: .accepted, note: nil) },
                             afterWrite: { _ in throw Crash() })
        }
        // Then neither the outbox row nor the view change is there
        #expect(try store.outbox().isEmpty)
        #expect(try store.order(id: "WO-1")?.status == .assigned)
        // And the same action without the crash writes both
        try store.record(orderId: "WO-1", now: 3_000) { _ in .transition(to: .accepted, note: nil) }
        #expect(try store.outbox().count == 1)
        #expect(try store.order(id: "WO-1")?.status == .accepted)
    }

    @Test func illegalTransitionWritesNothing() throws {
        let (store, _) = try makeStore()
        try store.applyPull(assignedOrderPage(id: "WO-1", technician: "li"), now: 2_000)
        #expect {
            try store.record(orderId: "WO-1", now: 3_000) { _ in .transition(to: .completed, note: nil) }
        } throws: { error in
            guard case StoreError.illegalTransition(_, let from, let to, _) = error else { return false }
            return from == .assigned && to == .completed && "\(error)".contains("Next steps: accepted")
        }
        #expect(try store.outbox().isEmpty)
        #expect(try store.order(id: "WO-1")?.status == .assigned)
    }

    @Test func editOfADispatcherFieldIsRefusedOffline() throws {
        let (store, _) = try makeStore()
        try store.applyPull(assignedOrderPage(id: "WO-1", technician: "li"), now: 2_000)
        #expect {
            try store.record(orderId: "WO-1", now: 3_000) { _ in .setField(field: .urgency, value: "3", base: nil) }
        } throws: { error in
            guard case StoreError.refused(let r) = error else { return false }
            return r.code == .notOwner
        }
        #expect(try store.outbox().isEmpty)
    }

    @Test func sequenceIsGapFreeAndClockMovesForward() throws {
        let (store, _) = try makeStore()
        try store.applyPull(assignedOrderPage(id: "WO-1", technician: "li"), now: 2_000)
        // When three actions are recorded, the wall clock going backwards in between
        try store.record(orderId: "WO-1", now: 9_000) { _ in .transition(to: .accepted, note: nil) }
        try store.record(orderId: "WO-1", now: 5_000) { _ in .transition(to: .enRoute, note: nil) }
        try store.record(orderId: "WO-1", now: 5_000) { _ in .transition(to: .onSite, note: nil) }
        let intents = try store.outbox().map(\.intent)
        // Then the sequence is 1, 2, 3 and the HLCs strictly increase
        #expect(intents.map(\.deviceSeq) == [1, 2, 3])
        #expect(intents[0].hlc < intents[1].hlc && intents[1].hlc < intents[2].hlc)
        #expect(try store.order(id: "WO-1")?.status == .onSite)
    }

    @Test func anotherLoginNeverDropsUnsentWork() throws {
        // Given li's unsent action on this device
        let (store, _) = try makeStore(user: "li")
        try store.applyPull(assignedOrderPage(id: "WO-1", technician: "li"), now: 2_000)
        try store.record(orderId: "WO-1", now: 3_000) { _ in .transition(to: .accepted, note: nil) }
        // When someone else logs in on the same store / Then it is refused and nothing changes
        #expect(throws: StoreError.unsentWork(user: "li", server: "http://127.0.0.1:9", count: 1)) {
            try store.saveAccount(server: "http://127.0.0.1:9", user: "zhao", role: .technician, token: "t2")
        }
        #expect(try store.account()?.user == "li")
        #expect(try store.outbox().count == 1)
        // And li logging in again keeps his device id and his work
        let before = try #require(try store.account()).deviceId
        let again = try store.saveAccount(server: "http://127.0.0.1:9", user: "li", role: .technician, token: "t3")
        #expect(again.deviceId == before)
        #expect(try store.outbox().count == 1)
    }

    @Test func orderIdsResolveFromAnyUniquePart() throws {
        let (store, _) = try makeStore()
        try store.applyPull(assignedOrderPage(id: "WO-261123-7F3A", technician: "li"), now: 2_000)
        try store.applyPull(assignedOrderPage(id: "WO-261123-7F3B", technician: "li"), now: 2_000)
        #expect(try store.resolveOrderId("7f3a") == "WO-261123-7F3A")
        #expect(throws: StoreError.ambiguousOrder("7f3", candidates: ["WO-261123-7F3A", "WO-261123-7F3B"])) {
            try store.resolveOrderId("7f3")
        }
        #expect(throws: StoreError.unknownOrder("zz")) { try store.resolveOrderId("zz") }
    }
}
