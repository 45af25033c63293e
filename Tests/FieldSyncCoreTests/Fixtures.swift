import FieldSyncCore

// Shared helpers for building intents and histories in Core tests. Times are given in
// minutes after `t0` so a test reads as a timeline; the HLC of an event is its device's
// wall time unless a test sets the logical counter or the physical time on purpose.

/// 2025-06-15 15:06:40 UTC: an arbitrary, fixed start of every test timeline.
let t0: Int64 = 1_750_000_000_000

/// Milliseconds of `m` minutes after ``t0``.
func minute(_ m: Int) -> Int64 { t0 + Int64(m) * 60_000 }

/// Someone acting on a device: who, in which role, and which device records it.
struct Person: Sendable, Hashable {
    var name: String
    var role: Role
    var device: String

    /// Call-centre dispatcher at her desk.
    static let zhang = Person(name: "zhang", role: .dispatcher, device: "desk-zhang")
    /// A second dispatcher on another desk.
    static let li = Person(name: "li", role: .dispatcher, device: "desk-li")
    /// The technician the order goes to, on his rugged tablet.
    static let wang = Person(name: "wang", role: .technician, device: "tab-wang")
    /// The same technician on his phone: same person, second device.
    static let wangPhone = Person(name: "wang", role: .technician, device: "phone-wang")
    /// Another technician.
    static let zhao = Person(name: "zhao", role: .technician, device: "tab-zhao")
}

extension Action {
    /// A valid `create` with the required dispatcher fields.
    static func opening(
        kind: OrderKind = .repair, urgency: Int = 2, deadline: Int64? = nil
    ) -> Action {
        var fields: [OrderField: String] = [
            .kind: kind.rawValue, .urgency: String(urgency),
            .customerName: "Chen Jing", .address: "12 Heping Road, flat 301",
            .symptom: "radiator cold",
        ]
        if let deadline { fields[.responseDeadline] = String(deadline) }
        return .create(fields: fields)
    }

    /// A status change without a note.
    static func move(_ status: OrderStatus) -> Action { .transition(to: status, note: nil) }

    /// A field edit that saw the value stamped `base`.
    static func set(_ field: OrderField, _ value: String?, base: HLC?) -> Action {
        .setField(field: field, value: value, base: base)
    }
}

extension ChildEntry {
    static func part(_ id: String, _ name: String = "valve", quantity: Int = 1, fen: Int = 2_500) -> ChildEntry {
        ChildEntry(id: id, kind: .part, text: name, code: "V-\(id)", quantity: quantity, amountFen: fen)
    }

    static func log(_ id: String, _ text: String) -> ChildEntry {
        ChildEntry(id: id, kind: .log, text: text)
    }

    static func charge(_ id: String, _ text: String = "call-out", fen: Int = 5_000) -> ChildEntry {
        ChildEntry(id: id, kind: .charge, text: text, amountFen: fen)
    }

    static func photo(_ id: String) -> ChildEntry {
        ChildEntry(id: id, kind: .photo, text: "before", digest: String(repeating: "ab", count: 32))
    }

    static func reading(_ id: String) -> ChildEntry {
        ChildEntry(id: id, kind: .reading, text: "supply temperature", value: "62", unit: "°C")
    }
}

/// A customer's sign-off of `order` as it stands (or of `hash`, to forge a mismatch).
func signOff(of order: WorkOrder, hash: String? = nil, at time: Int64 = minute(60)) -> SignOff {
    SignOff(
        signerName: "Chen Jing", signerRole: "customer",
        signatureDigest: String(repeating: "5e", count: 32), rating: 5, comment: "quick",
        signedAt: time, contentHash: hash ?? SignOffContent.hash(of: order))
}

/// The events of one order, built in the order a test writes them.
///
/// `add` stamps each intent with the person's device, the next gap-free device sequence
/// number, an op id made of both, and an HLC at the given minute; the fold sorts them by
/// HLC, so a test controls the merge order through the minutes it passes.
struct Timeline {
    var orderId: String
    private(set) var events: [Intent] = []
    private var seqs: [String: Int64] = [:]
    private var lastMinute = 0

    init(orderId: String = "WO-1") { self.orderId = orderId }

    /// Adds an intent at `at` minutes (default: one minute after the previous one).
    @discardableResult
    mutating func add(_ action: Action, by person: Person, at m: Int? = nil, logical: Int32 = 0) -> Intent {
        let m = m ?? (events.isEmpty ? 0 : lastMinute + 1)
        lastMinute = max(lastMinute, m)
        let seq = (seqs[person.device] ?? 0) + 1
        seqs[person.device] = seq
        let intent = Intent(
            opId: "\(person.device)#\(seq)", deviceId: person.device, deviceSeq: seq,
            actor: person.name, role: person.role,
            hlc: HLC(physical: minute(m), logical: logical, device: person.device),
            occurredAt: minute(m), orderId: orderId, action: action)
        events.append(intent)
        return intent
    }

    /// The intent as it would be recorded next, without adding it (for acceptance checks).
    func draft(_ action: Action, by person: Person, at m: Int? = nil) -> Intent {
        var copy = self
        return copy.add(action, by: person, at: m)
    }

    /// The order derived from every event so far.
    var order: WorkOrder {
        guard let order = WorkOrder.fold(events) else {
            preconditionFailure("timeline has no create event")
        }
        return order
    }

    /// Created by zhang at minute 0 and assigned to wang at minute 1.
    static func assignedToWang(orderId: String = "WO-1", opening: Action = .opening()) -> Timeline {
        var timeline = Timeline(orderId: orderId)
        timeline.add(opening, by: .zhang, at: 0)
        timeline.add(.assign(technician: "wang"), by: .zhang, at: 1)
        return timeline
    }

    /// Adds the one event that moves the order to `target` in the ordinary way:
    /// an assignment, a sign-off of the current content, or a transition by the owner.
    @discardableResult
    mutating func step(to target: OrderStatus, at m: Int? = nil) -> Intent {
        switch target {
        case .assigned:
            let next = order.assignee == "wang" ? "zhao" : "wang"
            return add(.assign(technician: next), by: .zhang, at: m)
        case .signedOff:
            return add(.signOff(signOff(of: order)), by: actingTechnician, at: m)
        default:
            return add(.move(target), by: target.owner == .dispatcher ? .zhang : actingTechnician, at: m)
        }
    }

    /// The technician who holds the order now (wang unless it was handed to zhao).
    var actingTechnician: Person { order.assignee == "zhao" ? .zhao : .wang }

    /// A history that brings one order to `status` by legal steps only.
    static func reaching(_ status: OrderStatus) -> Timeline {
        var timeline = Timeline()
        timeline.add(.opening(), by: .zhang, at: 0)
        let path: [OrderStatus] =
            switch status {
            case .open: []
            case .assigned: [.assigned]
            case .accepted: [.assigned, .accepted]
            case .enRoute: [.assigned, .accepted, .enRoute]
            case .onSite: [.assigned, .accepted, .enRoute, .onSite]
            case .working: [.assigned, .accepted, .onSite, .working]
            case .paused: [.assigned, .accepted, .onSite, .working, .paused]
            case .completed: [.assigned, .accepted, .onSite, .working, .completed]
            case .signedOff: [.assigned, .accepted, .onSite, .completed, .signedOff]
            case .followedUp: [.assigned, .accepted, .onSite, .completed, .followedUp]
            case .closed: [.assigned, .accepted, .onSite, .completed, .closed]
            case .cancelled: [.assigned, .cancelled]
            case .couldNotComplete: [.assigned, .accepted, .couldNotComplete]
            }
        for next in path { timeline.step(to: next) }
        return timeline
    }
}

extension Collection {
    /// The one element of a collection that must hold exactly one (nil otherwise).
    var only: Element? { count == 1 ? first : nil }
}

extension WorkOrder {
    /// The conflicts written under `rule`.
    func conflicts(_ rule: Conflict.Rule) -> [Conflict] { conflicts.filter { $0.rule == rule } }

    /// The status entry the fold wrote for `event`.
    func entry(for event: Intent) -> StatusEntry? { history.first { $0.opId == event.opId } }
}
