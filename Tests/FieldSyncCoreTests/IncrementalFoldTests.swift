import FieldSyncCore
import Foundation
import PropertyBased
import Testing

/// How the server keeps an order: the stored fold, one event folded onto it with
/// ``WorkOrder/folding(_:)`` when the event sorts last, a fold of every event otherwise.
/// The stored state goes through JSON between events, as it does in `orders.state`.
private struct SnapshotReplica {
    var events: [Intent] = []
    var opIds: Set<String> = []
    var state: WorkOrder?
    /// Events that took the fast path, and those that needed a full fold.
    var folded = 0, refolded = 0

    mutating func receive(_ event: Intent) throws {
        // The server refuses a copy of an op before folding anything.
        guard opIds.insert(event.opId).inserted else { return }
        events.append(event)
        if let next = state?.folding(event) {
            state = next
            folded += 1
        } else {
            state = WorkOrder.fold(events)
            refolded += 1
        }
        state = try state.map { try JSONDecoder().decode(WorkOrder.self, from: JSONEncoder().encode($0)) }
    }
}

@Suite("Folding one event onto a stored order equals the fold of the set")
struct IncrementalFoldTests {
    static let cases = zip(Gen.uint64(), Gen.int(in: 2...3), Gen.int(in: 0...40))
        .map { seed, devices, steps in ReferenceCase.make(seed: seed, deviceCount: devices, steps: steps) }

    // On failure the message names `ReferenceCase.make(...)`, which rebuilds the history,
    // and the library prints a `.fixedSeed(...)` trait that replays the run.
    @Test("property: events arriving in any order, folded one by one, give fold(set)")
    func arrivalOrderDoesNotMatter() async {
        await propertyCheck(count: 400, input: Self.cases) { c in
            // Given an event set arriving shuffled, some twice, some built on another create
            var replica = SnapshotReplica()

            // When each arrival is folded onto the stored state (refolding when it sorts early)
            do {
                for event in c.delivery { try replica.receive(event) }
            } catch {
                Issue.record("a stored state did not round-trip through JSON: \(error)\n\(c)")
                return
            }

            // Then the state is exactly the fold of the whole set
            #expect(replica.state == WorkOrder.fold(c.delivery), "\(c.replay)\n\(c)")
        }
    }

    @Test("property: events arriving in HLC order never need a full fold after the create")
    func inOrderArrivalsFoldOneByOne() async {
        await propertyCheck(count: 200, input: Self.cases) { c in
            // Given the set arriving sorted, as a server mostly sees it
            let sorted = c.delivery.sorted { ($0.hlc, $0.opId) < ($1.hlc, $1.opId) }
            let createAt = sorted.firstIndex { if case .create = $0.action { true } else { false } } ?? 0
            var replica = SnapshotReplica()

            // When folded one by one
            for event in sorted { try? replica.receive(event) }

            // Then every event after the create took the fast path, and the result is the fold
            #expect(replica.state == WorkOrder.fold(c.delivery), "\(c.replay)")
            let distinctBeforeCreate = Set(sorted[...createAt].map(\.opId)).count
            #expect(replica.refolded == distinctBeforeCreate, "\(c.replay)")
        }
    }

    @Test func aVoidBeforeItsLineSurvivesInTheStoredState() throws {
        // Given an order whose void arrived before the line it voids
        let create = intent(1, "create", .create(fields: [.kind: "repair"]))
        let void = intent(2, "void", .void(childId: "L1", reason: "typo"))
        let stored = try #require(WorkOrder.fold([create, void]))
        let decoded = try JSONDecoder().decode(WorkOrder.self, from: JSONEncoder().encode(stored))
        #expect(decoded.pendingVoids?["L1"]?.opId == "void")

        // When the line arrives after it, folded onto the stored state
        let line = intent(3, "line", .append(.log("L1", "boiler")))
        let next = try #require(decoded.folding(line))

        // Then it arrives already void, exactly as the full fold says
        #expect(next.children.first?.voided?.opId == "void")
        #expect(next.pendingVoids == nil)
        #expect(next == WorkOrder.fold([create, void, line]))
    }

    @Test func anEventThatSortsEarlierOrTiesIsLeftToTheFullFold() throws {
        let create = intent(1, "b-create", .create(fields: [.kind: "repair"]))
        let later = intent(5, "b-later", .append(.log("L1", "note")))
        let stored = try #require(WorkOrder.fold([create, later]))

        // Same HLC, smaller op id: sorts before the last event
        #expect(stored.folding(intent(5, "a-tie", .append(.log("L2", "x")))) == nil)
        #expect(stored.folding(intent(3, "c-early", .append(.log("L3", "x")))) == nil)
        // Same HLC, greater op id: sorts after it
        let tie = intent(5, "c-tie", .append(.log("L4", "x")))
        #expect(stored.folding(tie) == WorkOrder.fold([create, later, tie]))
        #expect(stored.lastOpId == "b-later")
    }

    @Test func aStateStoredBeforeSnapshotsDecodesAndIsRefolded() throws {
        // Given a state as an older release stored it: no lastOpId, no pendingVoids
        let create = intent(1, "create", .create(fields: [.kind: "repair"]))
        let order = try #require(WorkOrder.fold([create]))
        var json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(order)) as? [String: Any])
        json["lastOpId"] = nil
        json["pendingVoids"] = nil
        let old = try JSONDecoder().decode(WorkOrder.self, from: JSONSerialization.data(withJSONObject: json))

        // Then it decodes, and folding onto it asks for the full fold
        #expect(old.lastOpId == nil && old.id == order.id)
        #expect(old.folding(intent(2, "next", .append(.log("L1", "x")))) == nil)
    }

    @Test func anEventOnAnotherCreateLeavesTheOrderAsItIs() throws {
        let create = intent(1, "create", .create(fields: [.kind: "repair"]))
        let stored = try #require(WorkOrder.fold([create]))
        var foreign = intent(2, "foreign", .append(.log("L1", "elsewhere")))
        foreign.createOp = "another-create"
        #expect(stored.folding(foreign) == stored)
        #expect(stored.folding(foreign) == WorkOrder.fold([create, foreign]))
    }

    private func intent(_ physical: Int64, _ opId: String, _ action: Action) -> Intent {
        Intent(
            opId: opId, deviceId: "desk", deviceSeq: physical, actor: "zhang", role: .dispatcher,
            hlc: HLC(physical: 1_714_550_400_000 + physical, logical: 0, device: "desk"),
            occurredAt: 1_714_550_400_000 + physical, orderId: "WO-1", action: action)
    }
}
