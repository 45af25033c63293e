import FieldSyncCore
import Testing

@testable import FieldSyncServer

/// The server's side of the trust issue: colliding order ids, the conflict table, device
/// times, recovery of restored stores and short device numbers.
@Suite("trust: ids, conflicts, clocks, recovery")
struct TrustTests {
    @Test func aSecondDesksActionsOnACollidingIdNeverReachTheFirstCustomersOrder() throws {
        // Given two desks that both opened WO-7 offline, for two different customers
        let service = try makeService()
        var first = TestDevice("desk-1", dispatcher)
        var second = TestDevice("desk-2", dispatcher)
        let opened = first.intent("WO-7", .create(fields: orderFields(customer: "市第一人民医院")))
        var assign = first.intent("WO-7", .assign(technician: "alice"))
        assign.createOp = opened.opId
        _ = try first.push([opened, assign], to: service)
        let theirs = second.intent("WO-7", .create(fields: orderFields(customer: "李先生")))
        var wrongCrew = second.intent("WO-7", .assign(technician: "bob"))
        wrongCrew.createOp = theirs.opId
        var cancel = second.intent("WO-7", .transition(to: .cancelled, note: "duplicate"))
        cancel.createOp = theirs.opId
        var urgency = second.intent("WO-7", .setField(field: .urgency, value: "1", base: nil))
        urgency.createOp = theirs.opId

        // When the second desk syncs
        let answer = try second.push([theirs, wrongCrew, cancel, urgency], to: service)

        // Then its create is refused, and so is everything built on it
        #expect(answer.outcomes.map(\.rejection?.code) == [.orderExists, .orderIdTaken, .orderIdTaken, .orderIdTaken])
        #expect(answer.outcomes.first?.rejection?.message.contains("fieldsync dispatch recreate WO-7") == true)
        // and the first customer's order is untouched: alice's, assigned, urgency 2
        let order = try service.order(id: "WO-7", as: dispatcher)
        #expect(order.assignee == "alice")
        #expect(order.status == .assigned)
        #expect(order[.urgency] == "2")
        #expect(order[.customerName] == "市第一人民医院")
        #expect(order.eventCount == 2)
        #expect(try pullAll(service, as: bob).flatMap(\.orders).isEmpty)
    }

    @Test func aConflictALaterEventSupersededLeavesTheTableAndReviewsOfTheRestStay() throws {
        // Given alice's tablet and phone both set the diagnosis without seeing each other
        let service = try makeService(now: testNow + hour)
        var desk = TestDevice("desk-1", dispatcher)
        try openOrders(["WO-1"], assignedTo: "alice", device: &desk, service: service)
        var tablet = TestDevice("tab-alice", alice)
        var phone = TestDevice("phone-alice", alice)
        var car = TestDevice("car-alice", alice)
        _ = try tablet.push([tablet.intent("WO-1", .setField(field: .diagnosis, value: "阀门", base: nil), at: testNow + 10 * minute)], to: service)
        _ = try phone.push([phone.intent("WO-1", .setField(field: .diagnosis, value: "水泵", base: nil), at: testNow + 30 * minute)], to: service)
        let before = try service.conflicts(as: dispatcher, includeResolved: true).map(\.conflict.id)
        #expect(before.count == 1)
        // When a third device's edit, stamped between the two, arrives last
        _ = try car.push([car.intent("WO-1", .setField(field: .diagnosis, value: "管道", base: nil), at: testNow + 20 * minute)], to: service)

        // Then the table holds exactly the fold's conflicts: tablet→car and car→phone, not
        // the tablet→phone conflict no replica has any more
        let order = try service.order(id: "WO-1", as: dispatcher)
        let rows = try service.conflicts(as: dispatcher, includeResolved: true).map(\.conflict.id)
        #expect(Set(rows) == Set(order.conflicts.map(\.id)))
        #expect(order.conflicts.count == 2)
        #expect(!rows.contains(before[0]))
        // and a review given to a conflict that stays is kept across later pushes
        let reviewed = try service.resolveConflict(id: rows[0], resolution: "called alice", as: dispatcher)
        _ = try tablet.push([tablet.intent("WO-1", .append(ChildEntry(id: "L1", kind: .log, text: "到达")), at: testNow + 40 * minute)], to: service)
        let kept = try service.conflicts(as: dispatcher, includeResolved: true).first { $0.conflict.id == reviewed.conflict.id }
        #expect(kept?.resolution == "called alice")
    }

    @Test func aSlowClockCannotMeetADeadlineBeforeTheOrderExisted() throws {
        // Given a level-1 order opened at testNow with a 2-hour deadline
        let service = try makeService(now: testNow + 3 * hour)
        var desk = TestDevice("desk-1", dispatcher)
        let opened = try desk.push([
            desk.intent("WO-1", .create(fields: orderFields(urgency: 1, deadline: testNow + 2 * hour))),
            desk.intent("WO-1", .assign(technician: "alice")),
        ], to: service)
        // and alice's tablet, its clock 3 hours slow, records her arrival 3 h late
        var tablet = TestDevice("tab-alice", alice)
        tablet.sync(opened)  // it has seen the server's time
        let arrival = testNow + 3 * hour - 3 * hour - 5 * minute
        _ = try tablet.push([
            tablet.intent("WO-1", .transition(to: .accepted, note: nil), at: arrival - minute),
            tablet.intent("WO-1", .transition(to: .onSite, note: nil), at: arrival),
        ], to: service)

        // Then on site is not before the order existed, the time is flagged, and the board
        // does not call the deadline met
        let order = try service.order(id: "WO-1", as: dispatcher)
        #expect(order.onSiteAt.map { $0 >= order.createdAt } == true)
        #expect(order.history.last?.clockClamped == true)
        let board = try service.board(as: dispatcher, includeFinished: true)
        let row = try #require(board.rows.first)
        #expect(row.clockClamped)
        #expect(row.standing == "missed")
        #expect(board.timelinessPercent == 0)
    }

    @Test func aRestoredDeviceLearnsWhichIntentsTheServerHoldsAndItsNextNumber() throws {
        // Given alice's tablet pushed three intents
        let service = try makeService()
        var desk = TestDevice("desk-1", dispatcher)
        let opened = try openOrders(["WO-1"], assignedTo: "alice", device: &desk, service: service)
        var tablet = TestDevice("tab-alice", alice)
        tablet.sync(opened)
        let sent = [
            tablet.intent("WO-1", .transition(to: .accepted, note: nil)),
            tablet.intent("WO-1", .append(ChildEntry(id: "L1", kind: .log, text: "出发"))),
            tablet.intent("WO-1", .transition(to: .enRoute, note: nil)),
        ]
        _ = try tablet.push(sent, to: service)
        // When a copy restored from before the last two asks about them and a new one
        let known = try service.recover(
            RecoverRequest(deviceId: "tab-alice", opIds: [sent[1].opId, sent[2].opId, "never-sent"]), as: alice)

        // Then it hears the stored outcomes of the two, and where to renumber from
        #expect(known.known.map(\.opId) == [sent[1].opId, sent[2].opId])
        #expect(known.known.map(\.duplicate) == [true, true])
        #expect(known.known.map(\.result) == [.applied, .applied])
        #expect(known.nextSeq == 4)
        // and nobody else can ask about alice's device
        let error = #expect(throws: ServiceError.self) {
            try service.recover(RecoverRequest(deviceId: "tab-alice", opIds: []), as: bob)
        }
        #expect(error?.body.error == "device_taken")
    }

    @Test func devicesGetShortDistinctNumbersThatStayTheSame() throws {
        let service = try makeService()

        let first = try service.registerDevice(DeviceRegistration(deviceId: "desk-1"), as: dispatcher)
        let second = try service.registerDevice(DeviceRegistration(deviceId: "tab-alice"), as: alice)
        let again = try service.registerDevice(DeviceRegistration(deviceId: "desk-1"), as: dispatcher)
        let taken = #expect(throws: ServiceError.self) {
            try service.registerDevice(DeviceRegistration(deviceId: "desk-1"), as: bob)
        }

        #expect(first.number == 1)
        #expect(second.number == 2)
        #expect(again == first)
        #expect(taken?.body.error == "device_taken")
    }
}
