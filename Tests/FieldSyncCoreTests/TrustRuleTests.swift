import FieldSyncCore
import Testing

/// The rules of the trust issue: no order hijacked through a colliding id, a former
/// assignee's late actions are history only, and device times are bounded both ways.
@Suite("trust rules")
struct TrustRuleTests {
    // MARK: Colliding order ids

    @Test("an intent built on another desk's create never touches the order")
    func foreignCreateIsRefusedAndNeverFolded() throws {
        // Given zhang's desk opened WO-1 and assigned it to wang
        var timeline = Timeline.assignedToWang()
        let opened = try #require(timeline.events.first)
        // and li's desk, offline, opened its own WO-1 (another customer) and acted on it
        var li = Timeline(orderId: "WO-1")
        let liCreate = li.add(.opening(urgency: 1), by: .li, at: 2)
        var liAssign = li.add(.assign(technician: "zhao"), by: .li, at: 3)
        liAssign.createOp = liCreate.opId
        var liCancel = li.add(.transition(to: .cancelled, note: "duplicate"), by: .li, at: 4)
        liCancel.createOp = liCreate.opId
        let order = timeline.order

        // When li's actions reach the server, Then each is refused as order_id_taken
        #expect(order.createOpId == opened.opId)
        #expect(IntentCheck.rejection(for: liCreate, order: order)?.code == .orderExists)
        #expect(IntentCheck.rejection(for: liAssign, order: order)?.code == .orderIdTaken)
        #expect(IntentCheck.rejection(for: liCancel, order: order)?.code == .orderIdTaken)
        // and even folded with it by a careless replica, they change nothing
        let mixed = try #require(WorkOrder.fold(timeline.events + [liAssign, liCancel]))
        #expect(mixed == order)
        // while an intent naming the right create is accepted as before
        var wangs = timeline.draft(.move(.accepted), by: .wang, at: 5)
        wangs.createOp = opened.opId
        #expect(IntentCheck.rejection(for: wangs, order: order) == nil)
    }

    // MARK: Reassigned while offline

    @Test("a former assignee's late void and compensation are history, not the bill")
    func formerAssigneesVoidAndCompensationAreHistory() throws {
        // Given wang added a part on site, then the order was reassigned to zhao
        var timeline = Timeline.assignedToWang()
        timeline.add(.move(.accepted), by: .wang, at: 2)
        timeline.add(.append(.part("P1", fen: 4_500)), by: .wang, at: 3)
        let reassign = timeline.add(.assign(technician: "zhao"), by: .zhang, at: 10)
        let before = timeline.order
        // When wang, offline, voids his part and asks for compensation afterwards
        let void = timeline.add(.void(childId: "P1", reason: "wrong part"), by: .wang, at: 12)
        let claim = timeline.add(
            .requestCompensation(id: "K1", amountFen: 20_000, reason: "late"), by: .wang, at: 13)
        let order = timeline.order

        // Then the new crew's bill still holds the part
        #expect(order.liveChildren.map(\.entry.id) == ["P1"])
        #expect(order.children.first?.voided == nil)
        // and the compensation is kept as history, never settled
        #expect(order.compensations.map(\.state) == [.history])
        // each raising a reassigned_while_offline conflict against the reassignment
        let conflicts = order.conflicts(.reassignedWhileOffline)
        #expect(Set(conflicts.map(\.loser.opId)) == [void.opId, claim.opId])
        #expect(conflicts.allSatisfy { $0.winner.opId == reassign.opId })
        #expect(before.liveChildren.map(\.entry.id) == ["P1"])
    }

    // MARK: Device times

    @Test("a slow clock cannot put an arrival before the order was opened")
    func slowClockIsClampedToTheOrdersOpening() throws {
        // Given an order opened at minute 0 and a tablet whose clock is 3 hours slow
        let timeline = Timeline.assignedToWang()
        let order = timeline.order
        var arrival = timeline.draft(.move(.onSite), by: .wang, at: 5)
        arrival.occurredAt = minute(5 - 180)
        arrival.hlc.physical = minute(5 - 180)

        // When the server bounds it
        let stored = ClockBounds.standard.bound(arrival, deviceLast: nil, order: order, now: minute(6))

        // Then it happened no earlier than the order's opening, and is flagged
        #expect(stored.occurredAt == order.createdAt)
        #expect(stored.clampedFrom == minute(5 - 180))
    }

    @Test("an event cannot have happened well before what its device had already seen")
    func timeBeforeTheDevicesOwnHLCIsClamped() {
        // Given a tablet that synced at minute 100 (its HLC says so) with a clock 2 h slow
        let timeline = Timeline.assignedToWang()
        var arrival = timeline.draft(.move(.onSite), by: .wang, at: 101)
        arrival.occurredAt = minute(101 - 120)
        arrival.hlc = HLC(physical: minute(100), logical: 3, device: "tab-wang")

        // When bounded
        let stored = ClockBounds.standard.bound(arrival, deviceLast: nil, order: timeline.order, now: minute(102))

        // Then the time is the one the device had already seen, flagged
        #expect(stored.occurredAt == minute(100))
        #expect(stored.clampedFrom == minute(101 - 120))
        // while a time within the tolerance of it is left as the device said
        var close = arrival
        close.occurredAt = minute(98)
        #expect(ClockBounds.standard.bound(close, deviceLast: nil, order: timeline.order, now: minute(102)).clampedFrom == nil)
    }

    @Test("a clock that was once far ahead does not poison the device's later, correct times")
    func onceAheadClockDoesNotPoisonLaterTimes() {
        // Given the server stored wang's last event at minute 50 (clamped from tomorrow),
        // and his tablet's HLC still runs a day ahead although its clock is right again
        let timeline = Timeline.assignedToWang()
        let deviceLast = HLC(physical: minute(50), logical: 0, device: "tab-wang")
        var arrival = timeline.draft(.move(.onSite), by: .wang, at: 60)
        arrival.hlc = HLC(physical: minute(60 + 24 * 60), logical: 7, device: "tab-wang")

        // When the server bounds it at minute 70
        let stored = ClockBounds.standard.bound(arrival, deviceLast: deviceLast, order: timeline.order, now: minute(70))

        // Then its on-site time is the correct one, not the sync time, and it is not flagged
        #expect(stored.occurredAt == minute(60))
        #expect(stored.clampedFrom == nil)
        // and its HLC is brought back to the server's now, after the device's last
        #expect(stored.hlc.physical == minute(70))
        #expect(stored.hlc > deviceLast)
    }

    @Test("every event of a device sorts after the device's previous one")
    func deviceOrderIsKept() {
        // Given the server stored the device's last event at minute 40
        let timeline = Timeline.assignedToWang()
        let deviceLast = HLC(physical: minute(40), logical: 2, device: "tab-wang")
        // When its next event carries an earlier HLC (a store restored from a backup)
        var late = timeline.draft(.move(.accepted), by: .wang, at: 30)
        late.occurredAt = minute(39)

        let stored = ClockBounds.standard.bound(late, deviceLast: deviceLast, order: timeline.order, now: minute(41))

        // Then it sorts after the last one, and its on-site time is untouched
        #expect(stored.hlc == HLC(physical: minute(40), logical: 3, device: "tab-wang"))
        #expect(stored.occurredAt == minute(39))
        #expect(stored.clampedFrom == nil)
    }

    @Test("a time in the future is brought back to now and flagged")
    func futureTimeIsClamped() {
        let timeline = Timeline.assignedToWang()
        var ahead = timeline.draft(.move(.accepted), by: .wang, at: 24 * 60)
        ahead.hlc.physical = minute(24 * 60)

        let stored = ClockBounds.standard.bound(ahead, deviceLast: nil, order: timeline.order, now: minute(20))

        #expect(stored.occurredAt == minute(20))
        #expect(stored.clampedFrom == minute(24 * 60))
        #expect(stored.hlc.physical == minute(20))
    }
}
