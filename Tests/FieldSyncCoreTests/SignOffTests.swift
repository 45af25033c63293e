import FieldSyncCore
import Testing

@Suite("Sign-off: what the customer signed for is frozen")
struct SignOffTests {
    /// wang completes the job with a work description and one part.
    static func completedJob() -> Timeline {
        var timeline = Timeline.assignedToWang()
        timeline.add(.move(.accepted), by: .wang, at: 2)
        timeline.add(.move(.onSite), by: .wang, at: 20)
        timeline.add(.set(.workDone, "replaced valve", base: nil), by: .wang, at: 30)
        timeline.add(.append(.part("P1")), by: .wang, at: 31)
        timeline.add(.move(.completed), by: .wang, at: 40)
        return timeline
    }

    @Test("a sign-off freezes what it covers until a dispatcher reopens the order")
    func signOffFreezesUntilReopen() throws {
        // Given a completed order the customer signs as it stands
        var timeline = Self.completedJob()
        let signing = timeline.draft(.signOff(signOff(of: timeline.order)), by: .wang, at: 45)
        #expect(IntentCheck.rejection(for: signing, order: timeline.order) == nil)
        timeline.add(signing.action, by: .wang, at: 45)
        let signed = timeline.order
        #expect(signed.status == .signedOff)
        let record = try #require(signed.signOff)

        // When wang tries to change the signed work description or bill
        let edit = timeline.draft(.set(.workDone, "replaced valve and pump", base: nil), by: .wang, at: 50)
        let extraPart = timeline.draft(.append(.part("P2")), by: .wang, at: 50)
        let voidPart = timeline.draft(.void(childId: "P1", reason: "not used"), by: .wang, at: 50)

        // Then acceptance refuses each as signed; a log line is still fine
        #expect(IntentCheck.rejection(for: edit, order: signed)?.code == .signed)
        #expect(IntentCheck.rejection(for: extraPart, order: signed)?.code == .signed)
        #expect(IntentCheck.rejection(for: voidPart, order: signed)?.code == .signed)
        let log = timeline.draft(.append(.log("L1", "customer offered tea")), by: .wang, at: 50)
        #expect(IntentCheck.rejection(for: log, order: signed) == nil)

        // And if such an edit reaches the fold anyway (recorded offline), the signed value stays
        var offline = timeline
        offline.add(edit.action, by: .wang, at: 50)
        #expect(offline.order[.workDone] == "replaced valve")
        #expect(offline.order.conflicts(.frozenBySignOff).map(\.loser.opId) == [edit.opId])

        // When a dispatcher reopens the order
        let reopen = timeline.draft(.reopen(reason: "customer disputes the bill"), by: .zhang, at: 60)
        #expect(IntentCheck.rejection(for: reopen, order: signed) == nil)
        timeline.add(reopen.action, by: .zhang, at: 60)
        let reopened = timeline.order

        // Then the sign-off is voided visibly and kept
        #expect(reopened.signOff == nil)
        #expect(reopened.status == .assigned)
        let voided = try #require(reopened.voidedSignOffs.only)
        #expect(voided.signOff == record.signOff)
        #expect(voided.voidedBy == "zhang")
        #expect(voided.voidReason == "customer disputes the bill")
        // and the work may be edited again
        let again = timeline.draft(.set(.workDone, "replaced valve and pump", base: nil), by: .wang, at: 61)
        #expect(IntentCheck.rejection(for: again, order: reopened) == nil)
        timeline.add(again.action, by: .wang, at: 61)
        #expect(timeline.order[.workDone] == "replaced valve and pump")
    }

    @Test("a sign-off whose hash does not match the order is refused")
    func signOffMismatch() throws {
        // Given a completed order, and a sign-off of the content before the part was added
        var timeline = Self.completedJob()
        let withoutPart = try #require(WorkOrder.fold(timeline.events.filter {
            if case .append = $0.action { false } else { true }
        }))
        let staleHash = SignOffContent.hash(of: withoutPart)
        #expect(staleHash != SignOffContent.hash(of: timeline.order))
        let stale = timeline.draft(.signOff(signOff(of: timeline.order, hash: staleHash)), by: .wang, at: 45)

        // When it is checked, Then it is refused as a mismatch
        #expect(IntentCheck.rejection(for: stale, order: timeline.order)?.code == .signOffMismatch)

        // And the fold, meeting it anyway, leaves the order completed and unsigned
        timeline.add(stale.action, by: .wang, at: 45)
        let order = timeline.order
        #expect(order.status == .completed)
        #expect(order.signOff == nil)
        #expect(order.entry(for: stale)?.effect == .ignored)
    }
}
