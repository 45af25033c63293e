import FieldSyncCore
import Testing

@testable import FieldSyncServer

@Suite("push: exactly once")
struct PushTests {
    @Test func pushAppliesOnceAndARetryGetsTheStoredOutcomes() throws {
        // Given a dispatcher's batch that opens and assigns an order
        let service = try makeService()
        var phone = TestDevice("disp-1", dispatcher)
        let batch = [
            phone.intent("WO-1", .create(fields: orderFields())),
            phone.intent("WO-1", .assign(technician: "alice")),
        ]

        // When it is pushed twice
        let first = try phone.push(batch, to: service)
        let retry = try phone.push(batch, to: service)

        // Then the first applies both, the retry answers the stored outcomes as duplicates
        #expect(first.outcomes.map(\.result) == [.applied, .applied])
        #expect(first.outcomes.map(\.duplicate) == [false, false])
        #expect(first.nextSeq == 3)
        #expect(retry.outcomes.map(\.result) == [.applied, .applied])
        #expect(retry.outcomes.map(\.duplicate) == [true, true])
        #expect(retry.outcomes.map(\.stored) == first.outcomes.map(\.stored))
        #expect(retry.nextSeq == 3)
        // and no second event was written
        let order = try service.order(id: "WO-1", as: dispatcher)
        #expect(order.eventCount == 2)
        let page = try service.pull(as: dispatcher, cursor: 0, limit: 10)
        #expect(page.orders.map(\.events.count) == [2])
        #expect(page.orders.first?.version == 2)
    }

    @Test func aReusedSequenceNumberWithAnotherBodyIsRefusedAndNothingIsApplied() throws {
        // Given seq 1 stored
        let service = try makeService()
        var phone = TestDevice("disp-1", dispatcher)
        let create = phone.intent("WO-1", .create(fields: orderFields()))
        _ = try phone.push([create], to: service)

        // When a batch carries a valid seq 2 and then a different intent under seq 1
        let assign = phone.intent("WO-1", .assign(technician: "alice"))
        var impostor = create
        impostor.action = .create(fields: orderFields(customer: "李先生"))
        let error = #expect(throws: ServiceError.self) {
            try phone.push([assign, impostor], to: service)
        }

        // Then the whole request is refused with 409 and seq 2 was not applied either
        #expect(error?.status == 409)
        #expect(error?.body.error == "sequence_reused")
        let order = try service.order(id: "WO-1", as: dispatcher)
        #expect(order.assignee == nil)
        #expect(order[.customerName] == "王女士")
        #expect(try phone.push([assign], to: service).nextSeq == 3)
    }

    @Test func aGapDefersTheIntentAndEveryLaterOneOfTheBatch() throws {
        // Given seq 1 applied
        let service = try makeService()
        var phone = TestDevice("disp-1", dispatcher)
        let one = phone.intent("WO-1", .create(fields: orderFields()))
        let two = phone.intent("WO-1", .assign(technician: "alice"))
        let three = phone.intent("WO-1", .setField(field: .symptom, value: "暖气不热", base: nil))
        _ = try phone.push([one], to: service)

        // When seq 3 arrives before seq 2, then seq 2 and 3 together
        let early = try phone.push([three], to: service)
        let late = try phone.push([two, three], to: service)

        // Then 3 was deferred (not stored) and applied once 2 arrived
        #expect(early.outcomes.map(\.result) == [.deferred])
        #expect(early.nextSeq == 2)
        #expect(late.outcomes.map(\.result) == [.applied, .applied])
        #expect(late.outcomes.map(\.duplicate) == [false, false])
        #expect(late.nextSeq == 4)
        #expect(try service.order(id: "WO-1", as: dispatcher)[.symptom] == "暖气不热")
    }

    @Test func afterAGapEveryLaterIntentOfTheBatchIsDeferred() throws {
        let service = try makeService()
        var phone = TestDevice("disp-1", dispatcher)
        let one = phone.intent("WO-1", .create(fields: orderFields()))
        let two = phone.intent("WO-1", .assign(technician: "alice"))
        let three = phone.intent("WO-1", .setField(field: .symptom, value: "漏水", base: nil))
        let four = phone.intent("WO-1", .setField(field: .symptom, value: "漏水严重", base: nil))

        let response = try phone.push([one, two, four, three], to: service)

        #expect(response.outcomes.map(\.result) == [.applied, .applied, .deferred, .deferred])
        #expect(response.nextSeq == 3)
    }

    @Test func aRejectionIsStoredAndUsesUpItsSequenceNumber() throws {
        // Given an order assigned to alice
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        try openOrders(["WO-1"], assignedTo: "alice", device: &desk, service: service)
        let before = try service.pull(as: alice, cursor: 0, limit: 10).cursor

        // When alice edits the address, a dispatcher-owned field
        var tablet = TestDevice("tab-alice", alice)
        let edit = tablet.intent("WO-1", .setField(field: .address, value: "别处", base: nil))
        let response = try tablet.push([edit], to: service)
        let retry = try tablet.push([edit], to: service)

        // Then it is rejected as not_owner, the number is used up, and a retry says the same
        #expect(response.outcomes.first?.result == .rejected)
        #expect(response.outcomes.first?.rejection?.code == .notOwner)
        #expect(response.nextSeq == 2)
        #expect(retry.outcomes.first?.rejection?.code == .notOwner)
        #expect(retry.outcomes.first?.duplicate == true)
        // and the order did not change
        #expect(try service.order(id: "WO-1", as: alice)[.address] == "和平路 12 号 3 单元")
        #expect(try service.pull(as: alice, cursor: before, limit: 10).orders.isEmpty)
    }

    @Test func aTechnicianOutsideTheOrdersScopeGetsTheAnswerOfAnOrderThatDoesNotExist() throws {
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        try openOrders(["WO-1"], assignedTo: "alice", device: &desk, service: service)

        var tablet = TestDevice("tab-bob", bob)
        let response = try tablet.push([tablet.intent("WO-1", .transition(to: .accepted, note: nil))], to: service)

        let probe = try tablet.push([tablet.intent("WO-404", .transition(to: .accepted, note: nil))], to: service)

        #expect(response.outcomes.first?.result == .rejected)
        #expect(response.outcomes.first?.rejection?.code == .unknownOrder)
        // The same words as for an id that does not exist, but the id: nothing to probe.
        #expect(response.outcomes.first?.rejection?.message.replacingOccurrences(of: "WO-1", with: "X")
                == probe.outcomes.first?.rejection?.message.replacingOccurrences(of: "WO-404", with: "X"))
        #expect(try service.order(id: "WO-1", as: dispatcher).status == .assigned)
    }

    @Test func aRefusedIntentInTheMiddleOfABatchLeavesTheRestApplied() throws {
        // Given bob holds WO-2 and alice holds WO-1
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        try openOrders(["WO-1"], assignedTo: "alice", device: &desk, service: service)
        try openOrders(["WO-2"], assignedTo: "bob", device: &desk, service: service)
        // When bob's batch touches his order, alice's order, then his again
        var tablet = TestDevice("tab-bob", bob)
        let later = testNow + 60_000  // after the dispatcher's assignments
        let batch = [
            tablet.intent("WO-2", .transition(to: .accepted, note: nil), at: later),
            tablet.intent("WO-1", .transition(to: .accepted, note: nil), at: later),
            tablet.intent("WO-2", .transition(to: .enRoute, note: nil), at: later),
        ]
        let response = try tablet.push(batch, to: service)
        // Then only the out-of-scope one is refused, its number is used up, the rest applies
        #expect(response.outcomes.map(\.result) == [.applied, .rejected, .applied])
        #expect(response.outcomes[1].rejection?.code == .unknownOrder)
        #expect(response.nextSeq == 4)
        #expect(try service.order(id: "WO-1", as: dispatcher).status == .assigned)
        #expect(try service.order(id: "WO-2", as: dispatcher).status == .enRoute)
    }

    @Test func aClockInTheFutureIsClampedAndFlaggedAndTheDevicesOrderKept() throws {
        // Given alice's order and a tablet whose clock runs a day ahead
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        try openOrders(["WO-1"], assignedTo: "alice", device: &desk, service: service)
        var tablet = TestDevice("tab-alice", alice)
        let ahead = testNow + 24 * hour
        let accept = tablet.intent("WO-1", .transition(to: .accepted, note: nil), at: ahead)
        let travel = tablet.intent("WO-1", .transition(to: .enRoute, note: nil), at: ahead + minute)

        // When both are pushed
        let response = try tablet.push([accept, travel], to: service)

        // Then both are stored at the server's now, flagged with the original time
        let stored = response.outcomes.compactMap(\.stored)
        #expect(stored.count == 2)
        #expect(stored.map(\.clampedFrom) == [ahead, ahead + minute])
        #expect(stored.map(\.occurredAt) == [testNow, testNow])
        #expect(stored.allSatisfy { $0.hlc.physical == testNow })
        // and the second still sorts after the first, so the lifecycle holds
        #expect(stored[0].hlc < stored[1].hlc)
        let order = try service.order(id: "WO-1", as: dispatcher)
        #expect(order.status == .enRoute)
        #expect(order.history.filter(\.clockClamped).count == 2)
        // and the server's clock never ran into the device's future
        #expect(response.serverHLC.physical == testNow)
    }

    @Test func aTimeWithinTheToleranceIsStoredAsSent() throws {
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        try openOrders(["WO-1"], assignedTo: "alice", device: &desk, service: service)
        var tablet = TestDevice("tab-alice", alice)
        let accept = tablet.intent("WO-1", .transition(to: .accepted, note: nil), at: testNow + 4 * minute)

        let response = try tablet.push([accept], to: service)

        #expect(response.outcomes.first?.stored == accept)
        #expect(response.serverHLC > accept.hlc)
    }

    @Test func wholeRequestErrorsApplyNothing() throws {
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        let create = desk.intent("WO-1", .create(fields: orderFields()))

        let empty = #expect(throws: ServiceError.self) {
            try service.push(PushRequest(deviceId: "disp-1", intents: []), as: dispatcher)
        }
        let tooMany = #expect(throws: ServiceError.self) {
            try service.push(
                PushRequest(deviceId: "disp-1", intents: Array(repeating: create, count: PushRequest.maxIntents + 1)),
                as: dispatcher)
        }
        let mismatch = #expect(throws: ServiceError.self) {
            try service.push(PushRequest(deviceId: "disp-2", intents: [create]), as: dispatcher)
        }
        let wrongActor = #expect(throws: ServiceError.self) {
            try service.push(PushRequest(deviceId: "disp-1", intents: [create]), as: Principal(name: "li", role: .dispatcher))
        }
        #expect(empty?.body.error == "empty_push")
        #expect(tooMany?.body.error == "too_many_intents")
        #expect(mismatch?.status == 400)
        #expect(mismatch?.body.error == "device_mismatch")
        #expect(wrongActor?.status == 403)
        #expect(wrongActor?.body.error == "wrong_actor")
        #expect(throws: ServiceError.self) { try service.order(id: "WO-1", as: dispatcher) }
    }

    @Test func aDeviceIdBelongsToItsFirstUser() throws {
        let service = try makeService()
        var alicesTablet = TestDevice("tab-1", alice)
        var bobsCopy = TestDevice("tab-1", bob)
        var desk = TestDevice("disp-1", dispatcher)
        try openOrders(["WO-1"], assignedTo: "alice", device: &desk, service: service)
        _ = try alicesTablet.push([alicesTablet.intent("WO-1", .transition(to: .accepted, note: nil))], to: service)

        let error = #expect(throws: ServiceError.self) {
            try bobsCopy.push([bobsCopy.intent("WO-1", .transition(to: .enRoute, note: nil))], to: service)
        }

        #expect(error?.status == 403)
        #expect(error?.body.error == "device_taken")
    }

    @Test func aCancelMeetingWorkOnSiteIsMergedWithAConflict() throws {
        // Given alice on site
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        let opened = try openOrders(["WO-1"], assignedTo: "alice", device: &desk, service: service)
        var tablet = TestDevice("tab-alice", alice)
        tablet.sync(opened)
        _ = try tablet.push([
            tablet.intent("WO-1", .transition(to: .accepted, note: nil)),
            tablet.intent("WO-1", .transition(to: .onSite, note: nil)),
        ], to: service)

        // When the dispatcher cancels
        let cancel = desk.intent("WO-1", .transition(to: .cancelled, note: "customer called"), at: testNow + minute)
        let response = try desk.push([cancel], to: service)

        // Then the cancel is merged with a conflict the dispatcher and alice both see
        let outcome = try #require(response.outcomes.first)
        #expect(outcome.result == .merged)
        #expect(outcome.conflicts.count == 1)
        let records = try service.conflicts(as: dispatcher, includeResolved: false)
        #expect(records.map(\.conflict.id) == outcome.conflicts)
        #expect(records.first?.conflict.rule == .cancelVersusWork)
        #expect(try service.conflicts(as: alice, includeResolved: false).map(\.conflict.id) == outcome.conflicts)
        #expect(try service.conflicts(as: bob, includeResolved: false).isEmpty)
        #expect(try service.order(id: "WO-1", as: dispatcher).status == .onSite)
    }

    @Test func aSignOffThatDoesNotFitTheFoldIsRejected() throws {
        // Given alice completed the order
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        try openOrders(["WO-1"], assignedTo: "alice", device: &desk, service: service)
        var tablet = TestDevice("tab-alice", alice)
        _ = try tablet.push([
            tablet.intent("WO-1", .transition(to: .accepted, note: nil), at: testNow + minute),
            tablet.intent("WO-1", .transition(to: .onSite, note: nil), at: testNow + 2 * minute),
            tablet.intent("WO-1", .setField(field: .workDone, value: "换阀门", base: nil), at: testNow + 3 * minute),
            tablet.intent("WO-1", .transition(to: .completed, note: nil), at: testNow + 4 * minute),
        ], to: service)
        let order = try service.order(id: "WO-1", as: alice)
        let signOff = SignOff(
            signerName: "王女士", signerRole: "customer", signatureDigest: String(repeating: "ab", count: 32),
            rating: 5, comment: nil, signedAt: testNow, contentHash: SignOffContent.hash(of: order))

        // When a sign-off from her phone is stamped before the completion (it would fold
        // before it; her tablet's own later events always sort after its earlier ones)
        var phone = TestDevice("phone-alice", alice)
        var early = phone.intent("WO-1", .signOff(signOff))
        early.hlc = HLC(physical: testNow + 3 * minute + 1, device: "phone-alice")
        let rejected = try phone.push([early], to: service)
        // and a proper one follows
        let proper = try tablet.push([tablet.intent("WO-1", .signOff(signOff), at: testNow + 5 * minute)], to: service)

        // Then the first is rejected as a mismatch, the second applied
        #expect(rejected.outcomes.first?.rejection?.code == .signOffMismatch)
        #expect(proper.outcomes.first?.result == .applied)
        #expect(try service.order(id: "WO-1", as: alice).status == .signedOff)
    }
}
