import FieldSyncCore
import Testing

@Suite("Response deadlines and the scope checksum")
struct DeadlineTests {
    let policy = DeadlinePolicy.standard

    @Test("emergency repairs get 2 hours, emergency complaints 30 minutes")
    func deadlines() {
        // Given orders opened at t0, When their deadlines are computed, Then:
        #expect(policy.deadline(kind: .repair, urgency: 1, openedAt: t0) == t0 + 2 * 3_600_000)
        #expect(policy.deadline(kind: .complaint, urgency: 1, openedAt: t0) == t0 + 30 * 60_000)
        #expect(policy.deadline(kind: .repair, urgency: 2, openedAt: t0) == t0 + 4 * 3_600_000)
        #expect(policy.deadline(kind: .inspection, urgency: 3, openedAt: t0) == t0 + 8 * 3_600_000)
        // an urgency the policy does not list falls back to the routine 8 hours
        #expect(policy.deadline(kind: .repair, urgency: 9, openedAt: t0) == t0 + 8 * 3_600_000)
    }

    /// An emergency repair opened at t0 with its 2-hour deadline (t0 + 120 min).
    static func emergency() -> Timeline {
        let deadline = DeadlinePolicy.standard.deadline(kind: .repair, urgency: 1, openedAt: t0)
        return Timeline.assignedToWang(opening: .opening(kind: .repair, urgency: 1, deadline: deadline))
    }

    @Test(
        "an open order's standing at a given time",
        arguments: [
            (10, DeadlineStanding.onTime(minutesLeft: 110)),
            (89, .onTime(minutesLeft: 31)),
            (90, .dueSoon(minutesLeft: 30)),  // a quarter of the window left
            (119, .dueSoon(minutesLeft: 1)),
            (120, .dueSoon(minutesLeft: 0)),
            (121, .overdue(byMinutes: 1)),
            (300, .overdue(byMinutes: 180)),
        ])
    func standingBeforeArrival(nowMinute: Int, expected: DeadlineStanding) {
        // Given an emergency assigned but not reached
        let order = Self.emergency().order
        #expect(order.responseDeadline == minute(120))

        // When its standing is computed at `now`, Then it is as expected
        #expect(policy.standing(of: order, now: minute(nowMinute)) == expected)
    }

    @Test("arrival by the deadline is met, after it missed, whatever `now` is")
    func standingAfterArrival() {
        // Given the crew arrived at minute 95 on one order and at minute 150 on another
        var onTime = Self.emergency()
        onTime.add(.move(.accepted), by: .wang, at: 2)
        onTime.add(.move(.onSite), by: .wang, at: 95)
        var late = Self.emergency()
        late.add(.move(.accepted), by: .wang, at: 2)
        late.add(.move(.onSite), by: .wang, at: 150)

        // When their standing is computed long after, Then met and missed by 30 minutes
        #expect(policy.standing(of: onTime.order, now: minute(500)) == .met)
        #expect(policy.standing(of: late.order, now: minute(500)) == .missed(byMinutes: 30))
        #expect(policy.standing(of: late.order, now: minute(500)).code == "missed")
    }

    @Test("orders without a deadline or cancelled before arrival have no standing")
    func noStanding() {
        // Given an order with no deadline and a cancelled emergency
        let plain = Timeline.assignedToWang().order
        var cancelled = Self.emergency()
        cancelled.add(.move(.cancelled), by: .zhang, at: 5)

        // When computed at a time past the deadline, Then neither has a standing
        #expect(policy.standing(of: plain, now: minute(500)) == DeadlineStanding.none)
        #expect(policy.standing(of: cancelled.order, now: minute(500)) == DeadlineStanding.none)
    }

    @Test("standing codes and labels for the board")
    func labels() {
        // Given each standing, Then its code and label are the board's
        #expect(DeadlineStanding.onTime(minutesLeft: 125).label == "2h05 left")
        #expect(DeadlineStanding.dueSoon(minutesLeft: 20).label == "DUE 0h20")
        #expect(DeadlineStanding.overdue(byMinutes: 15).label == "LATE 0h15")
        #expect(DeadlineStanding.onTime(minutesLeft: 1).code == "on_time")
        #expect(DeadlineStanding.dueSoon(minutesLeft: 1).code == "due_soon")
        #expect(DeadlineStanding.overdue(byMinutes: 1).code == "overdue")
        #expect(DeadlineStanding.met.code == "met")
    }

    // MARK: Scope checksum

    @Test("the scope checksum ignores order and changes with any version")
    func scopeChecksum() {
        // Given a scope of three orders
        let scope: [(String, Int64)] = [("WO-1", 4), ("WO-2", 17), ("WO-3", 1)]
        let sum = ScopeChecksum.sum(scope)

        // Then the order they are summed in does not matter
        #expect(ScopeChecksum.sum(scope.reversed()) == sum)
        #expect(ScopeChecksum.sum([scope[1], scope[2], scope[0]]) == sum)
        // a changed version changes it, and the sum updates incrementally
        let bumped: [(String, Int64)] = [("WO-1", 4), ("WO-2", 18), ("WO-3", 1)]
        #expect(ScopeChecksum.sum(bumped) != sum)
        let incremental = sum &- ScopeChecksum.term(orderId: "WO-2", version: 17)
            &+ ScopeChecksum.term(orderId: "WO-2", version: 18)
        #expect(incremental == ScopeChecksum.sum(bumped))
        // id and version are separated: ("WO-1", 12) is not ("WO-11", 2)
        #expect(ScopeChecksum.term(orderId: "WO-1", version: 12) != ScopeChecksum.term(orderId: "WO-11", version: 2))
        // and the empty scope sums to zero
        #expect(ScopeChecksum.sum([(String, Int64)]()) == 0)
    }
}
