import FieldSyncCore
import Testing

/// One step of the lifecycle, named for the test report.
struct StatusStep: Sendable, CustomTestStringConvertible {
    var from: OrderStatus
    var to: OrderStatus
    var testDescription: String { "\(from.rawValue) → \(to.rawValue)" }
}

@Suite("Lifecycle: the status is folded from status events")
struct LifecycleTests {
    /// Every step `OrderStatus.next` allows.
    static let legalSteps = OrderStatus.allCases.flatMap { from in
        from.next.map { StatusStep(from: from, to: $0) }
    }

    /// Steps the machine forbids that no other merge rule claims (a cancel meeting work on
    /// site, a technician's work after a cancel and a reassignment during work have rules
    /// of their own, tested in MergeRuleTests).
    static let illegalSteps: [StatusStep] = [
        StatusStep(from: .open, to: .closed),
        StatusStep(from: .open, to: .followedUp),
        StatusStep(from: .assigned, to: .working),
        StatusStep(from: .assigned, to: .completed),
        StatusStep(from: .accepted, to: .paused),
        StatusStep(from: .enRoute, to: .completed),
        StatusStep(from: .onSite, to: .enRoute),
        StatusStep(from: .working, to: .onSite),
        StatusStep(from: .working, to: .signedOff),
        StatusStep(from: .completed, to: .enRoute),
        StatusStep(from: .completed, to: .working),
        StatusStep(from: .signedOff, to: .completed),
        StatusStep(from: .followedUp, to: .cancelled),
        StatusStep(from: .closed, to: .followedUp),
        StatusStep(from: .closed, to: .assigned),
        StatusStep(from: .cancelled, to: .accepted),
        StatusStep(from: .couldNotComplete, to: .working),
    ]

    @Test("every legal step moves the order", arguments: legalSteps)
    func legalStepIsApplied(step: StatusStep) {
        // Given an order brought to `from` by legal steps
        var timeline = Timeline.reaching(step.from)
        let before = timeline.order
        #expect(before.status == step.from)

        // When the owner of `to` takes the step
        let event = timeline.step(to: step.to)
        let after = timeline.order

        // Then the order moved, the event is applied and no conflict was written
        #expect(after.status == step.to)
        #expect(after.entry(for: event)?.effect == .applied)
        #expect(after.entry(for: event)?.from == step.from)
        #expect(after.conflicts == before.conflicts)
    }

    @Test("an illegal step is kept in history, ignored, and raises a conflict", arguments: illegalSteps)
    func illegalStepIsIgnored(step: StatusStep) throws {
        // Given an order at `from`, and a step the machine forbids
        #expect(!step.from.canMove(to: step.to))
        var timeline = Timeline.reaching(step.from)
        let eventsBefore = timeline.events.count

        // When the owner of `to` records it anyway
        let event = timeline.step(to: step.to)
        let order = timeline.order

        // Then the status stays, the event is in history marked ignored with a reason
        #expect(order.status == step.from)
        #expect(order.eventCount == eventsBefore + 1)
        let entry = try #require(order.entry(for: event))
        #expect(entry.effect == .ignored)
        #expect(entry.from == step.from)
        #expect(entry.to == step.to)
        #expect(entry.reason?.contains("not a legal step") == true)
        // and a status_ignored conflict names it as the loser
        let conflict = try #require(order.conflicts(.statusIgnored).first { $0.loser.opId == event.opId })
        #expect(conflict.field == "status")
        #expect(conflict.winner.value == step.from.rawValue)
        #expect(conflict.loser.value == step.to.rawValue)
    }

    @Test("progress beats regress: a late en route cannot move a completed order back")
    func lateEnRouteAfterCompletion() {
        // Given wang completed the order on his tablet
        var timeline = Timeline.assignedToWang()
        timeline.add(.move(.accepted), by: .wang, at: 2)
        timeline.add(.move(.onSite), by: .wang, at: 10)
        timeline.add(.move(.completed), by: .wang, at: 40)

        // When his phone syncs an "en route" it recorded with a clock ahead of the tablet
        let late = timeline.add(.move(.enRoute), by: .wangPhone, at: 41)

        // Then the order stays completed and the late event is kept, ignored
        let order = timeline.order
        #expect(order.status == .completed)
        #expect(order.entry(for: late)?.effect == .ignored)
        #expect(order.history.map(\.to) == [.assigned, .accepted, .onSite, .completed, .enRoute])
    }

    @Test(
        "spoken statuses parse",
        arguments: [
            ("on-site", OrderStatus.onSite), ("On Site", .onSite), ("到达现场", .onSite),
            ("en_route", .enRoute), ("onsite", .onSite), ("EN ROUTE", .enRoute),
            ("could_not_complete", .couldNotComplete), ("done", .completed), ("已取消", .cancelled),
        ])
    func spokenStatus(text: String, expected: OrderStatus) {
        // Given what a person typed, When it is parsed, Then it names the status
        #expect(OrderStatus(spoken: text) == expected)
    }

    @Test("unknown spoken statuses are refused", arguments: ["flying", "", "on site now", "🚗"])
    func spokenStatusRejected(text: String) {
        // Given words that name no status, When parsed, Then there is no status
        #expect(OrderStatus(spoken: text) == nil)
    }
}
