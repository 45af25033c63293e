import FieldSyncCore
import Testing

@Suite("IntentCheck: ownership, scope and values")
struct IntentCheckTests {
    /// An order created by zhang and assigned to wang.
    let timeline = Timeline.assignedToWang()

    private func check(_ action: Action, by person: Person) -> Rejection.Code? {
        IntentCheck.rejection(for: timeline.draft(action, by: person, at: 5), order: timeline.order)?.code
    }

    @Test("each role edits its own fields")
    func ownersMayEdit() {
        // Given the assigned order, When each role edits a field it owns, Then both pass
        #expect(check(.set(.diagnosis, "air lock", base: nil), by: .wang) == nil)
        #expect(check(.set(.urgency, "1", base: nil), by: .zhang) == nil)
    }

    @Test("a technician setting urgency is refused: not the owner")
    func technicianSetsUrgency() throws {
        // Given the assigned order, When wang sets the urgency
        let rejection = try #require(IntentCheck.rejection(
            for: timeline.draft(.set(.urgency, "1", base: nil), by: .wang), order: timeline.order))

        // Then it is refused with a typed reason naming the owner
        #expect(rejection.code == .notOwner)
        #expect(rejection.message == "urgency belongs to the dispatcher")
    }

    @Test("a dispatcher setting the diagnosis is refused: not the owner")
    func dispatcherSetsDiagnosis() {
        // Given the assigned order, When zhang writes a diagnosis, Then it is refused
        #expect(check(.set(.diagnosis, "burst pipe", base: nil), by: .zhang) == .notOwner)
    }

    @Test("every field refuses the role that does not own it", arguments: OrderField.allCases)
    func everyFieldHasOneOwner(field: OrderField) {
        // Given a field, When the other role edits it, Then it is refused as not_owner
        let other: Person = field.owner == .technician ? .zhang : .wang
        #expect(check(.set(field, nil, base: nil), by: other) == .notOwner)
    }

    @Test("outside a technician's scope an order answers as if it did not exist")
    func strangerOutOfScope() {
        // Given wang holds the order, When zhao acts on it, Then he hears unknown_order,
        // exactly as for an id that does not exist, so he cannot probe which ids exist
        #expect(check(.move(.accepted), by: .zhao) == .unknownOrder)
        #expect(check(.append(.log("L1", "hello")), by: .zhao) == .unknownOrder)
        // while wang, the assignee, may
        #expect(check(.move(.accepted), by: .wang) == nil)
    }

    @Test("an intent for an order the server does not know is refused")
    func unknownOrder() {
        // Given no order, When wang records a status change for it, Then unknown_order
        let intent = timeline.draft(.move(.accepted), by: .wang)
        #expect(IntentCheck.rejection(for: intent, order: nil)?.code == .unknownOrder)
    }

    @Test("an urgency outside 1…3 is an invalid value", arguments: ["7", "0", "high", ""])
    func invalidUrgency(value: String) throws {
        // Given the dispatcher, When she sets an impossible urgency
        let rejection = try #require(IntentCheck.rejection(
            for: timeline.draft(.set(.urgency, value, base: nil), by: .zhang), order: timeline.order))

        // Then it is refused with a message naming the fix
        #expect(rejection.code == .invalidValue)
        #expect(rejection.message.contains("urgency must be 1"))
    }

    @Test("create: only a dispatcher, only once, with the required fields")
    func createRules() {
        // Given no order yet
        let fresh = Timeline(orderId: "WO-9")
        func code(_ action: Action, by person: Person, order: WorkOrder? = nil) -> Rejection.Code? {
            IntentCheck.rejection(for: fresh.draft(action, by: person), order: order)?.code
        }

        // When created, Then the rules hold
        #expect(code(.opening(), by: .zhang) == nil)
        #expect(code(.opening(), by: .wang) == .notOwner)
        #expect(code(.opening(), by: .zhang, order: timeline.order) == .orderExists)
        #expect(code(.create(fields: [.kind: "repair", .urgency: "1"]), by: .zhang) == .invalidValue)
        #expect(code(.opening(urgency: 7), by: .zhang) == .invalidValue)
    }

    @Test("status moves reserved for assignment and sign-off are refused as transitions")
    func reservedTransitions() {
        // Given the assigned order
        // When someone tries to reach assigned, open or signed_off by a plain transition
        // Then it is refused; and a technician cannot cancel
        #expect(check(.move(.assigned), by: .zhang) == .invalidValue)
        #expect(check(.move(.signedOff), by: .wang) == .invalidValue)
        #expect(check(.move(.open), by: .zhang) == .invalidValue)
        #expect(check(.move(.cancelled), by: .wang) == .notOwner)
        #expect(check(.move(.enRoute), by: .zhang) == .notOwner)
    }
}
