import FieldSyncCore
import PropertyBased
import Testing

/// A small, fast, seedable generator so a scenario is a pure function of its inputs
/// (and shrinks with them).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// A random but plausible history of one order: what a dispatcher desk and one or two
/// crew devices record, each with its own skewed (sometimes backwards) wall clock and its
/// own hybrid clock, syncing now and then. Every intent passed IntentCheck against the
/// server's state when it was generated, as it would on push.
struct Scenario: Sendable, CustomStringConvertible {
    var events: [Intent]
    /// The same events as other replicas receive them: shuffled, some delivered twice.
    var deliveries: [[Intent]]

    var description: String {
        let lines = events.map { e in "  \(e.hlc) \(e.actor)@\(e.deviceId) #\(e.deviceSeq) \(Scenario.describe(e.action))" }
        return "\(events.count) events:\n" + lines.joined(separator: "\n")
    }

    static func describe(_ action: Action) -> String {
        switch action {
        case .create: "create"
        case .assign(let t): "assign \(t)"
        case .transition(let to, _): "→ \(to.rawValue)"
        case .setField(let f, let v, let base): "set \(f.rawValue)=\(v ?? "nil") base \(base.map { "\($0)" } ?? "nil")"
        case .append(let c): "append \(c.kind.rawValue) \(c.id)"
        case .void(let id, _): "void \(id)"
        case .signOff(let s): "sign-off \(s.contentHash.prefix(8))"
        case .requestCompensation(let id, let fen, _): "compensation \(id) \(fen)"
        case .reopen: "reopen"
        }
    }

    /// Builds the history for `seed` with `deviceCount` (2 or 3) devices and `steps` actions.
    static func make(seed: UInt64, deviceCount: Int, steps: Int) -> Scenario {
        var rng = SplitMix64(state: seed)
        var sim = Simulation(deviceCount: deviceCount, rng: &rng)
        for _ in 0..<steps { sim.step(rng: &rng) }
        var deliveries: [[Intent]] = []
        for _ in 0..<2 {
            var copy = sim.events
            for event in sim.events where Bool.random(using: &rng) { copy.append(event) }
            deliveries.append(copy.shuffled(using: &rng))
        }
        return Scenario(events: sim.events, deliveries: deliveries)
    }
}

/// The devices, their clocks and what each has seen; the server's event set.
private struct Simulation {
    struct Device {
        var person: Person
        var clock: HybridClock
        /// Milliseconds this device's wall clock is off from real time.
        var skew: Int64
        var seq: Int64 = 0
        /// How many of the server's events this device has pulled.
        var seen: Int = 0
    }

    var devices: [Device]
    var events: [Intent] = []
    var realTime: Int64 = t0
    var counter = 0
    let orderId = "WO-P"

    init(deviceCount: Int, rng: inout SplitMix64) {
        func skew() -> Int64 { Int64.random(in: -600_000...600_000, using: &rng) }
        var people: [Person] = [.zhang, .wang]
        if deviceCount >= 3 { people.append(Bool.random(using: &rng) ? .wangPhone : .li) }
        devices = people.map { Device(person: $0, clock: HybridClock(device: $0.device), skew: skew()) }
        record(device: 0, .opening(deadline: t0 + 7_200_000), rng: &rng)
        record(device: 0, .assign(technician: "wang"), rng: &rng)
        // Everyone learns of the order before acting on it.
        for index in devices.indices { sync(index) }
    }

    var serverView: WorkOrder? { WorkOrder.fold(events) }

    /// The order as device `index` last saw it (its own events included).
    func view(_ index: Int) -> WorkOrder? {
        let device = devices[index].person.device
        let seen = events.prefix(devices[index].seen)
        let own = events.dropFirst(devices[index].seen).filter { $0.deviceId == device }
        return WorkOrder.fold(seen + own)
    }

    mutating func sync(_ index: Int) {
        let now = wall(index)
        for event in events.dropFirst(devices[index].seen) { devices[index].clock.receive(event.hlc, now: now) }
        devices[index].seen = events.count
    }

    func wall(_ index: Int) -> Int64 { realTime + devices[index].skew }

    /// Records `action` on device `index` if the server would accept it.
    mutating func record(device index: Int, _ action: Action, rng: inout SplitMix64, backwards: Bool = false) {
        var now = wall(index)
        if backwards { now -= Int64.random(in: 1...300_000, using: &rng) }
        let device = devices[index]
        let intent = Intent(
            opId: "\(device.person.device)/\(device.seq + 1)", deviceId: device.person.device,
            deviceSeq: device.seq + 1, actor: device.person.name, role: device.person.role,
            hlc: HLC(physical: 0, device: device.person.device), occurredAt: now, orderId: orderId,
            action: action)
        guard IntentCheck.rejection(for: intent, order: serverView) == nil else { return }
        var stamped = intent
        stamped.hlc = devices[index].clock.tick(now: now)
        devices[index].seq += 1
        events.append(stamped)
    }

    mutating func step(rng: inout SplitMix64) {
        realTime += Int64.random(in: 0...240_000, using: &rng)
        let index = Int.random(in: 0..<devices.count, using: &rng)
        if Int.random(in: 0..<4, using: &rng) == 0 { sync(index) }
        guard let view = view(index) else { return }
        let backwards = Int.random(in: 0..<10, using: &rng) == 0
        let action =
            devices[index].person.role == .technician
            ? technicianAction(view, rng: &rng) : dispatcherAction(view, rng: &rng)
        if let action { record(device: index, action, rng: &rng, backwards: backwards) }
    }

    /// A base for an edit: the value the device saw, nothing, or something older.
    func base(_ field: OrderField, in view: WorkOrder, rng: inout SplitMix64) -> HLC? {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0, 1: view.fields[field.rawValue]?.hlc
        case 2: nil
        default: events.randomElement(using: &rng)?.hlc
        }
    }

    mutating func nextId(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)\(counter)"
    }

    mutating func technicianAction(_ view: WorkOrder, rng: inout SplitMix64) -> Action? {
        let roll = Int.random(in: 0..<100, using: &rng)
        switch roll {
        case 0..<30:
            let forward: [OrderStatus] =
                switch view.status {
                case .assigned: [.accepted]
                case .accepted: [.enRoute, .onSite]
                case .enRoute: [.onSite]
                case .onSite: [.working]
                case .working: [.paused, .completed, .completed]
                case .paused: [.working, .completed]
                default: []
                }
            if view.status == .completed && view.signOff == nil {
                return .signOff(signOff(of: view, at: realTime))
            }
            // Now and then a step out of turn, which the fold must keep and ignore.
            let strays: [OrderStatus] = [.enRoute, .working, .couldNotComplete]
            let target = forward.isEmpty || roll < 4 ? strays.randomElement(using: &rng) : forward.randomElement(using: &rng)
            return target.map { .move($0) }
        case 30..<55:
            let field = [OrderField.diagnosis, .workDone, .boundary, .labourMinutes].randomElement(using: &rng)!
            let value: String =
                switch field {
                case .boundary: BoundarySide.allCases.randomElement(using: &rng)!.rawValue
                case .labourMinutes: String(Int.random(in: 0...600, using: &rng))
                default: ["air lock", "valve stuck", "replaced valve", "bled radiator"].randomElement(using: &rng)!
                }
            return .set(field, value, base: base(field, in: view, rng: &rng))
        case 55..<80:
            let makers: [(String) -> ChildEntry] = [
                { .log($0, "note \($0)") }, { .part($0) }, { .charge($0) }, { .photo($0) }, { .reading($0) },
            ]
            return .append(makers.randomElement(using: &rng)!(nextId("L")))
        case 80..<92:
            guard let target = view.children.randomElement(using: &rng) else { return nil }
            return .void(childId: target.entry.id, reason: "entered by mistake")
        default:
            return .requestCompensation(
                id: nextId("K"), amountFen: Int.random(in: 1...100_000, using: &rng), reason: "damaged floor")
        }
    }

    mutating func dispatcherAction(_ view: WorkOrder, rng: inout SplitMix64) -> Action? {
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<45:
            let field = [OrderField.symptom, .address, .urgency, .specialNeeds, .customerTier].randomElement(using: &rng)!
            let value: String =
                switch field {
                case .urgency: String(Int.random(in: 1...3, using: &rng))
                case .customerTier: CustomerTier.allCases.randomElement(using: &rng)!.rawValue
                default: ["no heat", "leak", "wheelchair user", "call before"].randomElement(using: &rng)!
                }
            return .set(field, value, base: base(field, in: view, rng: &rng))
        case 45..<71:
            return .append(.log(nextId("D"), "customer called again"))
        case 71..<77:
            return .move(.cancelled)
        case 77..<85:
            return .assign(technician: Bool.random(using: &rng) ? "wang" : "zhao")
        case 85..<93:
            return view.status.canReopen ? .reopen(reason: "customer disputes") : .move(.followedUp)
        default:
            return .move([.followedUp, .closed].randomElement(using: &rng)!)
        }
    }
}

@Suite("The fold is a function of the set of events")
struct FoldPropertyTests {
    /// Seed, number of devices (2–3) and number of actions after create and assign.
    static let scenarios = zip(Gen.uint64(), Gen.int(in: 2...3), Gen.int(in: 0...40))
        .map { seed, devices, steps in Scenario.make(seed: seed, deviceCount: devices, steps: steps) }

    // On failure the library prints the scenario and a `.fixedSeed(...)` trait: add it to
    // the @Test to replay exactly that history.
    @Test("property: any permutation, with duplicates, folds to the same order")
    func orderIndependent() async {
        await propertyCheck(count: 400, input: Self.scenarios) { scenario in
            // Given the events as the server accepted them
            let reference = WorkOrder.fold(scenario.events)
            #expect(reference != nil)
            #expect(reference?.eventCount == scenario.events.count)

            // When other replicas fold them in other orders, some delivered twice
            for delivery in scenario.deliveries {
                // Then every replica derives the identical order
                #expect(WorkOrder.fold(delivery) == reference)
            }
            #expect(WorkOrder.fold(scenario.events.reversed()) == reference)
        }
    }

    @Test("property: no status event is lost, and conflicts name real events")
    func eventsAreKept() async {
        await propertyCheck(count: 300, input: Self.scenarios) { scenario in
            // Given a history, When folded
            guard let order = WorkOrder.fold(scenario.events) else {
                Issue.record("no create in the history")
                return
            }

            // Then every status-bearing event is in the history exactly once, in HLC order
            let statusOps = scenario.events.filter {
                switch $0.action {
                case .assign, .transition, .signOff, .reopen: true
                default: false
                }
            }
            #expect(order.history.count == statusOps.count)
            #expect(Set(order.history.map(\.opId)) == Set(statusOps.map(\.opId)))
            #expect(zip(order.history, order.history.dropFirst()).allSatisfy { $0.hlc < $1.hlc })
            // every line comes from an append of the set, once
            let appends = Set(scenario.events.filter { if case .append = $0.action { true } else { false } }.map(\.opId))
            #expect(order.children.allSatisfy { appends.contains($0.opId) })
            #expect(Set(order.children.map(\.entry.id)).count == order.children.count)
            // conflict ids are unique and each loser is an event of the set
            let opIds = Set(scenario.events.map(\.opId))
            #expect(Set(order.conflicts.map(\.id)).count == order.conflicts.count)
            #expect(order.conflicts.allSatisfy { opIds.contains($0.loser.opId) })
            // and the status is the `to` of the last applied entry (or open, or a reopen's assigned)
            let lastApplied = order.history.last { $0.effect == .applied }
            #expect(order.status == (lastApplied?.to ?? .open))
        }
    }
}
