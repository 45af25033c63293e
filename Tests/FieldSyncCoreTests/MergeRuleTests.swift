import FieldSyncCore
import Testing

@Suite("Merge rules of the fold (DESIGN.md §4)")
struct MergeRuleTests {
    // MARK: Scalar fields

    @Test("concurrent edits by two dispatchers: later HLC wins and a conflict is written")
    func concurrentEditLastWriterWins() throws {
        // Given an order whose symptom both dispatchers saw as created
        var timeline = Timeline.assignedToWang()
        let created = timeline.events[0].hlc

        // When zhang and li edit it on their desks without seeing each other's edit
        let zhangEdit = timeline.add(.set(.symptom, "no hot water", base: created), by: .zhang, at: 5)
        let liEdit = timeline.add(.set(.symptom, "leak under sink", base: created), by: .li, at: 6)
        let order = timeline.order

        // Then li's later edit holds the field
        #expect(order[.symptom] == "leak under sink")
        #expect(order.fields["symptom"]?.opId == liEdit.opId)
        #expect(order.fields["symptom"]?.actor == "li")
        // and one concurrent_edit conflict records zhang's lost value
        let conflict = try #require(order.conflicts(.concurrentEdit).only)
        #expect(conflict.field == "symptom")
        #expect(conflict.winner.opId == liEdit.opId)
        #expect(conflict.winner.value == "leak under sink")
        #expect(conflict.loser.opId == zhangEdit.opId)
        #expect(conflict.loser.value == "no hot water")
        #expect(conflict.loser.device == "desk-zhang")
        #expect(conflict.at == minute(6))
    }

    @Test("the later HLC wins whichever edit was written first in the list")
    func lastWriterByHLCNotByArrival() {
        // Given li's edit stamped before zhang's, though li's arrived later
        var timeline = Timeline.assignedToWang()
        let created = timeline.events[0].hlc
        timeline.add(.set(.address, "14 Heping Road", base: created), by: .zhang, at: 9)
        timeline.add(.set(.address, "16 Heping Road", base: created), by: .li, at: 8)

        // When folded, Then zhang's edit (later HLC) wins
        #expect(timeline.order[.address] == "14 Heping Road")
        #expect(timeline.order.conflicts(.concurrentEdit).count == 1)
    }

    @Test("sequential edits on one device raise no conflict")
    func sequentialEditsSameDevice() {
        // Given zhang edits the symptom twice on the same desk, the second seeing the first
        var timeline = Timeline.assignedToWang()
        let first = timeline.add(.set(.symptom, "no heat", base: timeline.events[0].hlc), by: .zhang, at: 5)
        timeline.add(.set(.symptom, "no heat in bedroom", base: first.hlc), by: .zhang, at: 6)
        // and once more from a view that had not refreshed (same device: still sequential)
        timeline.add(.set(.symptom, "no heat at all", base: first.hlc), by: .zhang, at: 7)

        // When folded, Then the last value holds and no conflict is written
        let order = timeline.order
        #expect(order[.symptom] == "no heat at all")
        #expect(order.conflicts.isEmpty)
    }

    @Test("the same technician on two devices: later wins, with a conflict")
    func technicianOnTwoDevices() {
        // Given wang records a diagnosis on his tablet and another on his phone, unseen
        var timeline = Timeline.assignedToWang()
        timeline.add(.set(.diagnosis, "air in radiator", base: nil), by: .wang, at: 20)
        timeline.add(.set(.diagnosis, "valve stuck", base: nil), by: .wangPhone, at: 21)

        // When folded
        let order = timeline.order

        // Then the phone's later edit wins and the devices are named in the conflict
        #expect(order[.diagnosis] == "valve stuck")
        let conflicts = order.conflicts(.concurrentEdit)
        #expect(conflicts.map(\.loser.device) == ["tab-wang"])
        #expect(conflicts.map(\.winner.device) == ["phone-wang"])
    }

    @Test("an edit by the role that does not own the field is never applied by the fold")
    func nonOwnerEditNotApplied() {
        // Given a technician's urgency edit and a dispatcher's diagnosis edit in the set
        var timeline = Timeline.assignedToWang()
        timeline.add(.set(.urgency, "1", base: nil), by: .wang, at: 5)
        timeline.add(.set(.diagnosis, "burst pipe", base: nil), by: .zhang, at: 6)

        // When folded, Then neither field changed
        let order = timeline.order
        #expect(order[.urgency] == "2")
        #expect(order[.diagnosis] == nil)
    }

    // MARK: Cancel versus work on site

    /// wang accepts, travels and reaches the site; zhang cancels at `cancelMinute`
    /// without having seen the crew's progress; the crew works on and completes.
    static func cancelDuringWork(cancelAt cancelMinute: Int, crewStopsAt last: OrderStatus = .completed)
        -> (Timeline, cancel: Intent)
    {
        var timeline = Timeline.assignedToWang()
        timeline.add(.move(.accepted), by: .wang, at: 2)
        timeline.add(.move(.enRoute), by: .wang, at: 5)
        let crew: [(OrderStatus, Int)] = [(.onSite, 20), (.working, 25), (.completed, 50)]
        for (status, m) in crew {
            timeline.add(.move(status), by: .wang, at: m)
            if status == last { break }
        }
        let cancel = timeline.add(.move(.cancelled), by: .zhang, at: cancelMinute)
        return (timeline, cancel)
    }

    @Test("a cancel that sorts before the arrival on site does not erase the work")
    func cancelSortsBeforeOnSite() throws {
        // Given zhang cancelled at minute 10, before wang (offline) arrived at minute 20
        let (timeline, cancel) = Self.cancelDuringWork(cancelAt: 10)

        // When folded
        let order = timeline.order

        // Then the crew's work stands: the order is completed, times from the site kept
        #expect(order.status == .completed)
        #expect(order.onSiteAt == minute(20))
        #expect(order.completedAt == minute(50))
        // the cancel stays in history, overridden
        #expect(order.entry(for: cancel)?.effect == .overridden)
        // and the dispatcher gets a cancel_vs_work conflict with the cancel as loser
        let conflict = try #require(order.conflicts(.cancelVersusWork).only)
        #expect(conflict.loser.opId == cancel.opId)
        #expect(conflict.loser.value == "cancelled")
        #expect(conflict.winner.value == "on_site")
        #expect(conflict.winner.actor == "wang")
    }

    @Test("a cancel that sorts after the arrival on site is ignored")
    func cancelSortsAfterOnSite() throws {
        // Given zhang cancelled at minute 30, while wang was working (from minute 25)
        let (timeline, cancel) = Self.cancelDuringWork(cancelAt: 30)

        // When folded
        let order = timeline.order

        // Then the order is completed, the cancel ignored with a cancel_vs_work conflict
        #expect(order.status == .completed)
        #expect(order.entry(for: cancel)?.effect == .ignored)
        #expect(order.entry(for: cancel)?.from == .working)
        let conflict = try #require(order.conflicts(.cancelVersusWork).only)
        #expect(conflict.loser.opId == cancel.opId)
        #expect(conflict.winner.value == "working")
        #expect(order.conflicts(.statusIgnored).isEmpty)
    }

    @Test("a cancel that sorts after completion is a cancel_vs_work conflict too")
    func cancelSortsAfterCompletion() throws {
        // Given zhang cancelled at minute 55, not having seen the completion at minute 50
        let (timeline, cancel) = Self.cancelDuringWork(cancelAt: 55)

        // When folded
        let order = timeline.order

        // Then the work is kept and the dispatcher sees it as cancel versus work
        #expect(order.status == .completed)
        #expect(order.entry(for: cancel)?.effect == .ignored)
        let conflict = try #require(order.conflicts(.cancelVersusWork).only)
        #expect(conflict.loser.opId == cancel.opId)
        #expect(conflict.winner.value == "completed")
    }

    @Test("a cancel while the crew is on site leaves the order where the crew left it")
    func cancelWhereCrewLeftIt() {
        // Given the crew got to "working" and went quiet; the cancel sorts before arrival
        let (timeline, cancel) = Self.cancelDuringWork(cancelAt: 10, crewStopsAt: .working)

        // When folded, Then the order is still being worked on, with the conflict open
        let order = timeline.order
        #expect(order.status == .working)
        #expect(order.entry(for: cancel)?.effect == .overridden)
        #expect(order.conflicts(.cancelVersusWork).count == 1)
    }

    @Test("a cancel before the crew reaches the site wins")
    func cancelBeforeAnyWork() {
        // Given wang only got as far as accepting before zhang's cancel
        var timeline = Timeline.assignedToWang()
        timeline.add(.move(.accepted), by: .wang, at: 2)
        let cancel = timeline.add(.move(.cancelled), by: .zhang, at: 3)

        // When folded, Then the order is cancelled and nothing conflicts
        let order = timeline.order
        #expect(order.status == .cancelled)
        #expect(order.entry(for: cancel)?.effect == .applied)
        #expect(order.conflicts.isEmpty)
    }

    // MARK: Reassignment while offline

    @Test("the former assignee's offline work is kept as history with a conflict")
    func reassignedWhileOffline() throws {
        // Given wang accepted, then zhang reassigned the order to zhao at minute 10
        var timeline = Timeline.assignedToWang()
        timeline.add(.move(.accepted), by: .wang, at: 2)
        let reassign = timeline.add(.assign(technician: "zhao"), by: .zhang, at: 10)
        // and wang, offline, set off and wrote a log line afterwards
        let enRoute = timeline.add(.move(.enRoute), by: .wang, at: 12)
        let log = timeline.add(.append(.log("L1", "customer not answering the door")), by: .wang, at: 13)

        // When folded
        let order = timeline.order

        // Then the order is zhao's, wang is a former assignee
        #expect(order.assignee == "zhao")
        #expect(order.formerAssignees == ["wang"])
        #expect(order.status == .assigned)
        // wang's transition is in history, ignored
        let entry = try #require(order.entry(for: enRoute))
        #expect(entry.effect == .ignored)
        #expect(entry.reason == "reassigned to zhao")
        // his log line is kept, marked as history and outside the live lines
        let line = try #require(order.children.first { $0.entry.id == "L1" })
        #expect(line.history)
        #expect(line.opId == log.opId)
        #expect(order.liveChildren.isEmpty)
        // and each of his events raised a reassigned_while_offline conflict
        let conflicts = order.conflicts(.reassignedWhileOffline)
        #expect(Set(conflicts.map(\.loser.opId)) == [enRoute.opId, log.opId])
        #expect(conflicts.allSatisfy { $0.winner.opId == reassign.opId && $0.winner.value == "zhao" })
    }

    @Test("the former assignee's intents still pass acceptance (history, not refusal)")
    func formerAssigneeAccepted() {
        // Given the order moved from wang to zhao
        var timeline = Timeline.assignedToWang()
        timeline.add(.assign(technician: "zhao"), by: .zhang, at: 10)
        let order = timeline.order

        // When wang's offline log line arrives
        let late = timeline.draft(.append(.log("L9", "arrived, nobody home")), by: .wang, at: 11)

        // Then it is accepted, and zhao's own work is accepted too
        #expect(IntentCheck.rejection(for: late, order: order) == nil)
        let zhaos = timeline.draft(.move(.accepted), by: .zhao, at: 12)
        #expect(IntentCheck.rejection(for: zhaos, order: order) == nil)
    }

    // MARK: Children

    @Test("a void wins over its target even when the void sorts first")
    func voidSortsBeforeTarget() throws {
        // Given wang's tablet appended a part at minute 30, and his phone (clock behind)
        // voided it at what it thought was minute 25
        var timeline = Timeline.assignedToWang()
        let part = timeline.add(.append(.part("P1")), by: .wang, at: 30)
        let void = timeline.add(.void(childId: "P1", reason: "wrong valve"), by: .wangPhone, at: 25)
        #expect(void.hlc < part.hlc)

        // When folded
        let order = timeline.order

        // Then the part is recorded and voided, out of the bill
        let line = try #require(order.children.only)
        #expect(line.voided?.opId == void.opId)
        #expect(line.voided?.reason == "wrong valve")
        #expect(order.liveChildren.isEmpty)
        #expect(Bill(order: order).totalFen == 0)
    }

    @Test("a void that sorts after its target voids it; other lines stay")
    func voidSortsAfterTarget() {
        // Given two parts and a void of the first
        var timeline = Timeline.assignedToWang()
        timeline.add(.append(.part("P1", fen: 1_000)), by: .wang, at: 30)
        timeline.add(.append(.part("P2", fen: 700)), by: .wang, at: 31)
        timeline.add(.void(childId: "P1", reason: "wrong valve"), by: .wang, at: 32)

        // When folded, Then only the second part is live and billed
        let order = timeline.order
        #expect(order.children.count == 2)
        #expect(order.liveChildren.map(\.entry.id) == ["P2"])
        #expect(Bill(order: order).totalFen == 700)
    }

    // MARK: Conflict ids

    @Test("conflict ids are deterministic: same events, same ids")
    func conflictIdsDeterministic() throws {
        // Given a history with several conflicts
        var (timeline, _) = Self.cancelDuringWork(cancelAt: 10)
        let created = timeline.events[0].hlc
        timeline.add(.set(.symptom, "no heat", base: created), by: .zhang, at: 3)
        timeline.add(.set(.symptom, "no hot water", base: created), by: .li, at: 4)
        timeline.add(.move(.enRoute), by: .wang, at: 60)

        // When two replicas fold the events in different orders
        let a = timeline.order
        let b = try #require(WorkOrder.fold(timeline.events.reversed()))

        // Then they name the same conflicts with the same ids
        #expect(a.conflicts.map(\.rule) == [.concurrentEdit, .cancelVersusWork, .statusIgnored])
        #expect(a.conflicts.map(\.id) == b.conflicts.map(\.id))
        #expect(Set(a.conflicts.map(\.id)).count == a.conflicts.count)
        #expect(a.conflicts.allSatisfy { $0.id.hasPrefix("C") && $0.id.count == 13 })
        // and the same events for another order give other ids
        let other = try #require(WorkOrder.fold(timeline.events.map { Self.retarget($0, to: "WO-2") }))
        #expect(other.conflicts.count == 3)
        #expect(Set(other.conflicts.map(\.id)).isDisjoint(with: a.conflicts.map(\.id)))
    }

    private static func retarget(_ event: Intent, to orderId: String) -> Intent {
        var copy = event
        copy.orderId = orderId
        return copy
    }
}
