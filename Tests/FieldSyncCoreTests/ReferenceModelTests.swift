import FieldSyncCore
import Foundation
import PropertyBased
import Testing

// An independent oracle for `WorkOrder.fold`. The convergence checks elsewhere say
// "server state = fold of its events", which trusts the code under test; this file holds a
// second, deliberately naive reading of the merge rules, written from
// schema/sync-protocol.md (§2, §4) and not from WorkOrder+Apply.swift, and checks that the
// two agree on random histories. The model is slow on purpose: at every event it
// re-derives the state it needs (status, assignee, registers, lines, sign-off) from scratch
// out of the verdicts given so far, so each rule reads like the sentence in the document.

// MARK: - What can be observed of an order

/// A conflict as the outside sees it: which rule, who won, who lost.
struct ConflictKey: Hashable, Comparable, CustomStringConvertible {
    var rule: Conflict.Rule
    var winner: String
    var loser: String

    static func < (a: ConflictKey, b: ConflictKey) -> Bool {
        (a.rule.rawValue, a.winner, a.loser) < (b.rule.rawValue, b.winner, b.loser)
    }

    var description: String { "\(rule.rawValue)(\(winner) beats \(loser))" }
}

/// The observable outcome of an order's events: what a person, a bill or the board sees.
/// Internal bookkeeping (conflict messages, record order, former assignees) is left out.
struct Observed: Equatable {
    var createOpId: String
    var status: OrderStatus
    var assignee: String?
    var fields: [OrderField: String]
    var liveLines: Set<String>
    var historyLines: Set<String>
    var voidedLines: Set<String>
    var signOff: String?
    var voidedSignOffs: [String]
    var onSiteAt: Int64?
    var completedAt: Int64?
    var compensations: [String: Compensation.State]
    var conflicts: Set<ConflictKey>
    /// The effect every status-bearing event had, by op id.
    var statusEffects: [String: StatusEntry.Effect]
    var eventCount: Int

    /// What the fold's result shows.
    init(order: WorkOrder) {
        createOpId = Self.text(order.createOpId)
        status = order.status
        assignee = order.assignee
        fields = [:]
        for field in OrderField.allCases { fields[field] = order[field] }
        liveLines = Set(order.liveChildren.map(\.entry.id))
        historyLines = Set(order.children.filter(\.history).map(\.entry.id))
        voidedLines = Set(order.children.filter { $0.voided != nil }.map(\.entry.id))
        signOff = order.signOff?.opId
        voidedSignOffs = order.voidedSignOffs.map(\.opId)
        onSiteAt = order.onSiteAt
        completedAt = order.completedAt
        compensations = Dictionary(order.compensations.map { ($0.id, $0.state) }) { first, _ in first }
        conflicts = Set(order.conflicts.map { ConflictKey(rule: $0.rule, winner: $0.winner.opId, loser: $0.loser.opId) })
        statusEffects = Dictionary(order.history.map { ($0.opId, $0.effect) }) { first, _ in first }
        eventCount = order.eventCount
    }

    init(
        createOpId: String, status: OrderStatus, assignee: String?, fields: [OrderField: String],
        liveLines: Set<String>, historyLines: Set<String>, voidedLines: Set<String>,
        signOff: String?, voidedSignOffs: [String], onSiteAt: Int64?, completedAt: Int64?,
        compensations: [String: Compensation.State], conflicts: Set<ConflictKey>,
        statusEffects: [String: StatusEntry.Effect], eventCount: Int
    ) {
        self.createOpId = createOpId
        self.status = status
        self.assignee = assignee
        self.fields = fields
        self.liveLines = liveLines
        self.historyLines = historyLines
        self.voidedLines = voidedLines
        self.signOff = signOff
        self.voidedSignOffs = voidedSignOffs
        self.onSiteAt = onSiteAt
        self.completedAt = completedAt
        self.compensations = compensations
        self.conflicts = conflicts
        self.statusEffects = statusEffects
        self.eventCount = eventCount
    }

    /// `createOpId` is optional in stored states of older releases; "" stands for none.
    private static func text(_ value: String?) -> String { value ?? "" }

    /// One line per observable that differs, model value first.
    func differences(from fold: Observed) -> [String] {
        var out: [String] = []
        func check<T: Equatable>(_ name: String, _ model: T, _ folded: T) {
            if model != folded { out.append("\(name): model \(model) ≠ fold \(folded)") }
        }
        check("createOpId", createOpId, fold.createOpId)
        check("status", status, fold.status)
        check("assignee", assignee, fold.assignee)
        for field in OrderField.allCases { check("field \(field.rawValue)", fields[field], fold.fields[field]) }
        check("live lines", liveLines.sorted(), fold.liveLines.sorted())
        check("history lines", historyLines.sorted(), fold.historyLines.sorted())
        check("voided lines", voidedLines.sorted(), fold.voidedLines.sorted())
        check("sign-off", signOff, fold.signOff)
        check("voided sign-offs", voidedSignOffs, fold.voidedSignOffs)
        check("onSiteAt", onSiteAt, fold.onSiteAt)
        check("completedAt", completedAt, fold.completedAt)
        check("compensations", compensations.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" },
              fold.compensations.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" })
        let onlyModel = conflicts.subtracting(fold.conflicts).sorted()
        let onlyFold = fold.conflicts.subtracting(conflicts).sorted()
        if !onlyModel.isEmpty || !onlyFold.isEmpty {
            out.append("conflicts: only in model \(onlyModel); only in fold \(onlyFold)")
        }
        for op in Set(statusEffects.keys).union(fold.statusEffects.keys).sorted() {
            check("status effect of \(op)", statusEffects[op]?.rawValue, fold.statusEffects[op]?.rawValue)
        }
        check("eventCount", eventCount, fold.eventCount)
        return out
    }
}

// MARK: - The reference model

/// The merge rules of schema/sync-protocol.md §4, read naively.
///
/// Steps: sort the set by `(hlc, opId)` and keep one copy of each op id; start from the
/// earliest `create`; drop every event built on another create (`createOp`); then give
/// each event, in order, a verdict. To give a verdict the model asks questions about the
/// events before it ("what is the status now?", "who holds the order?", "is a sign-off
/// standing?") and answers each by scanning those earlier verdicts from the start. The
/// outcome is read off the verdicts the same way.
enum ReferenceModel {
    /// What the fold did with one event.
    enum Verdict: Equatable {
        /// Took effect.
        case applied
        /// Kept, but as history of a former assignee (a history line or compensation).
        case history
        /// Kept and ignored (a status entry marked ignored; an edit that lost to a rule).
        case ignored
        /// A cancel applied, then undone by the crew's on-site work.
        case overridden
        /// No effect and no record: a repeat of a line or compensation id, a second create.
        case noEffect
    }

    /// Statuses in which the crew is on site: a reassignment does not take the order away.
    static let crewOnSite: Set<OrderStatus> = [.onSite, .working, .paused]
    /// Statuses that show the crew's on-site work, which a cancel never erases. The protocol
    /// table names on_site/working/paused; DESIGN §4 ("the order ends completed") and
    /// MergeRuleTests count a completed order too.
    static let crewWork: Set<OrderStatus> = [.onSite, .working, .paused, .completed]
    /// Statuses a dispatcher may reopen (§2: "a reopen of an unfinished order" is refused).
    static let reopenable: Set<OrderStatus> = [.completed, .signedOff, .followedUp, .closed]
    /// Front-line staff settle up to 500 yuan; above that a supervisor approves.
    static let frontLineLimitFen = 50_000

    /// The outcome of a set of events (any order, duplicates allowed); nil without a create.
    static func observe<S: Sequence>(_ set: S) -> Observed? where S.Element == Intent {
        Replay(set)?.outcome
    }

    /// The sign-off content hash of the order the events make, as the model sees it.
    static func contentHash<S: Sequence>(_ set: S) -> String? where S.Element == Intent {
        guard let replay = Replay(set) else { return nil }
        return replay.contentHash(before: replay.events.count)
    }

    /// One pass over the sorted events, giving each its verdict.
    struct Replay {
        let create: Intent
        /// The events folded, in fold order (the create among them).
        let events: [Intent]
        var verdicts: [Verdict] = []
        var conflicts: Set<ConflictKey> = []

        init?<S: Sequence>(_ set: S) where S.Element == Intent {
            let sorted = set.sorted { ($0.hlc, $0.opId) < ($1.hlc, $1.opId) }
            var unique: [Intent] = []
            var seen: Set<String> = []
            for event in sorted where !seen.contains(event.opId) {
                seen.insert(event.opId)
                unique.append(event)
            }
            guard let create = unique.first(where: { if case .create = $0.action { true } else { false } })
            else { return nil }
            self.create = create
            // An event built on another desk's create is not part of this order at all.
            events = unique.filter { $0.createOp == nil || $0.createOp == create.opId }
            for index in events.indices {
                verdicts.append(.noEffect)
                verdicts[index] = decide(index)
            }
        }

        // MARK: Questions about the events before `index`, answered from scratch

        func isStatusEvent(_ event: Intent) -> Bool {
            switch event.action {
            case .assign, .transition, .signOff, .reopen: true
            default: false
            }
        }

        /// The status an applied status event moves the order to.
        func target(of event: Intent) -> OrderStatus {
            switch event.action {
            case .assign, .reopen: .assigned
            case .transition(let to, _): to
            case .signOff: .signedOff
            default: preconditionFailure("not a status event")
            }
        }

        /// The status event that holds the order: the last one applied.
        func holder(before index: Int) -> Intent? {
            var found: Intent?
            for i in 0..<index where isStatusEvent(events[i]) && verdicts[i] == .applied { found = events[i] }
            return found
        }

        func status(before index: Int) -> OrderStatus {
            holder(before: index).map(target(of:)) ?? .open
        }

        /// The assignment that gave the order to its current technician.
        func assignment(before index: Int) -> Intent? {
            var found: Intent?
            for i in 0..<index where verdicts[i] == .applied {
                if case .assign = events[i].action { found = events[i] }
            }
            return found
        }

        func assignee(before index: Int) -> String? {
            guard case .assign(let technician) = assignment(before: index)?.action else { return nil }
            return technician
        }

        /// The sign-off that stands: the last one applied, unless a reopen applied after it.
        func standingSignOff(before index: Int) -> Intent? {
            var found: Intent?
            for i in 0..<index where verdicts[i] == .applied {
                switch events[i].action {
                case .signOff: found = events[i]
                case .reopen: found = nil
                default: break
                }
            }
            return found
        }

        /// A field's register: the last applied edit, else the create's value.
        func register(_ field: OrderField, before index: Int) -> (value: String?, hlc: HLC, device: String, opId: String)? {
            var found: (value: String?, hlc: HLC, device: String, opId: String)?
            if case .create(let fields) = create.action, let value = fields[field] {
                found = (value, create.hlc, create.deviceId, create.opId)
            }
            for i in 0..<index where verdicts[i] == .applied {
                if case .setField(field, let value, _) = events[i].action {
                    found = (value, events[i].hlc, events[i].deviceId, events[i].opId)
                }
            }
            return found
        }

        /// Lines recorded so far (live or history), first append of each id.
        func lines(before index: Int) -> [(entry: ChildEntry, history: Bool)] {
            var out: [(entry: ChildEntry, history: Bool)] = []
            for i in 0..<index where verdicts[i] == .applied || verdicts[i] == .history {
                if case .append(let entry) = events[i].action, !out.contains(where: { $0.entry.id == entry.id }) {
                    out.append((entry, verdicts[i] == .history))
                }
            }
            return out
        }

        /// Ids named by an applied void, whether the line came before or after it.
        func voidedIds(before index: Int) -> Set<String> {
            var out: Set<String> = []
            for i in 0..<index where verdicts[i] == .applied {
                if case .void(let id, _) = events[i].action { out.insert(id) }
            }
            return out
        }

        /// Lines on the bill: recorded, not history, not voided.
        func liveLines(before index: Int) -> [ChildEntry] {
            let voided = voidedIds(before: index)
            return lines(before: index).filter { !$0.history && !voided.contains($0.entry.id) }.map(\.entry)
        }

        func compensationIds(before index: Int) -> Set<String> {
            var out: Set<String> = []
            for i in 0..<index where verdicts[i] == .applied || verdicts[i] == .history {
                if case .requestCompensation(let id, _, _) = events[i].action { out.insert(id) }
            }
            return out
        }

        /// SHA-256 of what a customer signs for (§4 and the format documented in
        /// SignOffContent.swift): `fieldsync-signoff-v1`, then `name:byteCount:value` lines.
        func contentHash(before index: Int) -> String {
            var text: [UInt8] = Array("fieldsync-signoff-v1\n".utf8)
            func line(_ name: String, _ value: String?) {
                let bytes = Array((value ?? "").utf8)
                text += Array("\(name):\(bytes.count):".utf8) + bytes + Array("\n".utf8)
            }
            line("order", create.orderId)
            line("work_done", register(.workDone, before: index)?.value ?? nil)
            line("diagnosis", register(.diagnosis, before: index)?.value ?? nil)
            line("boundary", register(.boundary, before: index)?.value ?? nil)
            line("labour_minutes", register(.labourMinutes, before: index)?.value ?? nil)
            for e in liveLines(before: index).sorted(by: { $0.id < $1.id }) {
                switch e.kind {
                case .part: line("part", "\(e.id)|\(e.code ?? "")|\(e.text)|\(e.quantity ?? 0)|\(e.amountFen ?? 0)")
                case .charge: line("charge", "\(e.id)|\(e.text)|\(e.amountFen ?? 0)")
                case .photo: line("photo", "\(e.id)|\(e.digest ?? "")")
                case .log, .reading: break
                }
            }
            return Digest.sha256Hex(text)
        }

        // MARK: The rules

        /// Signed-for facts (§4 sign-off): technician fields and part/charge/photo lines.
        func signedFor(_ field: OrderField) -> Bool {
            [.workDone, .diagnosis, .boundary, .labourMinutes].contains(field)
        }

        func signedFor(_ kind: ChildEntry.Kind) -> Bool { [.part, .charge, .photo].contains(kind) }

        mutating func conflict(_ rule: Conflict.Rule, _ winner: Intent?, beats loser: Intent) {
            conflicts.insert(ConflictKey(rule: rule, winner: winner?.opId ?? create.opId, loser: loser.opId))
        }

        mutating func decide(_ i: Int) -> Verdict {
            let event = events[i]
            if event.opId == create.opId { return .applied }
            // reassigned_while_offline: a technician who no longer holds the order at this
            // point of the fold. Whatever he did is kept as history at most.
            let stale = event.role == .technician && event.actor != assignee(before: i)
            let now = status(before: i)
            switch event.action {
            case .create:
                return .noEffect  // a second create is refused on acceptance

            case .assign:
                if now.canMove(to: .assigned) { return .applied }
                if ReferenceModel.crewOnSite.contains(now) {
                    conflict(.reassignDuringWork, holder(before: i), beats: event)
                } else {
                    conflict(.statusIgnored, holder(before: i), beats: event)
                }
                return .ignored

            case .transition(let to, _):
                if stale {
                    conflict(.reassignedWhileOffline, assignment(before: i), beats: event)
                    return .ignored
                }
                if to == .cancelled && ReferenceModel.crewWork.contains(now) {
                    conflict(.cancelVersusWork, holder(before: i), beats: event)
                    return .ignored
                }
                if now.canMove(to: to) { return .applied }
                if now == .cancelled && event.role == .technician && ReferenceModel.crewWork.contains(to),
                   let cancel = holder(before: i), let c = events.firstIndex(of: cancel)
                {
                    verdicts[c] = .overridden
                    conflict(.cancelVersusWork, event, beats: cancel)
                    return .applied
                }
                conflict(.statusIgnored, holder(before: i), beats: event)
                return .ignored

            case .setField(let field, _, let base):
                guard field.owner == event.role else { return .noEffect }  // not_owner on acceptance
                if stale {
                    conflict(.reassignedWhileOffline, assignment(before: i), beats: event)
                    return .ignored
                }
                if signedFor(field), let signed = standingSignOff(before: i) {
                    conflict(.frozenBySignOff, signed, beats: event)
                    return .ignored
                }
                if let current = register(field, before: i), current.hlc != base,
                   current.device != event.deviceId
                {
                    conflicts.insert(ConflictKey(rule: .concurrentEdit, winner: event.opId, loser: current.opId))
                }
                return .applied

            case .append(let entry):
                guard entry.allowed(for: event.role) else { return .noEffect }  // not_owner
                if lines(before: i).contains(where: { $0.entry.id == entry.id }) { return .noEffect }
                if stale {
                    conflict(.reassignedWhileOffline, assignment(before: i), beats: event)
                    return .history
                }
                if signedFor(entry.kind), let signed = standingSignOff(before: i) {
                    conflict(.frozenBySignOff, signed, beats: event)
                    return .ignored
                }
                return .applied

            case .void(let id, _):
                if stale {
                    conflict(.reassignedWhileOffline, assignment(before: i), beats: event)
                    return .ignored
                }
                // Only a live signed-for line is a signed fact; a history line or a line
                // voided already is outside the bill, so voiding it changes nothing signed.
                if let signed = standingSignOff(before: i),
                   let line = liveLines(before: i).first(where: { $0.id == id }), signedFor(line.kind)
                {
                    conflict(.frozenBySignOff, signed, beats: event)
                    return .ignored
                }
                return .applied  // a void of a line not yet folded waits for it: voids win

            case .signOff(let signOff):
                if stale {
                    conflict(.reassignedWhileOffline, assignment(before: i), beats: event)
                    return .ignored
                }
                guard now.canMove(to: .signedOff) else {
                    conflict(.statusIgnored, holder(before: i), beats: event)
                    return .ignored
                }
                // The server refuses such a sign-off (§2 sign_off_mismatch); in a device's
                // own view it is simply not applied.
                return contentHash(before: i) == signOff.contentHash ? .applied : .ignored

            case .requestCompensation(let id, _, _):
                if compensationIds(before: i).contains(id) { return .noEffect }
                if stale {
                    conflict(.reassignedWhileOffline, assignment(before: i), beats: event)
                    return .history
                }
                return .applied

            case .reopen:
                if ReferenceModel.reopenable.contains(now) { return .applied }
                conflict(.statusIgnored, holder(before: i), beats: event)
                return .ignored
            }
        }

        // MARK: The outcome, read off the verdicts

        var outcome: Observed {
            let end = events.count
            var fields: [OrderField: String] = [:]
            for field in OrderField.allCases {
                if let value = register(field, before: end)?.value ?? nil { fields[field] = value }
            }
            let recorded = lines(before: end)
            let voids = voidedIds(before: end)
            var live: Set<String> = []
            var history: Set<String> = []
            var voided: Set<String> = []
            for line in recorded {
                if line.history { history.insert(line.entry.id) }
                if voids.contains(line.entry.id) { voided.insert(line.entry.id) }
                if !line.history && !voids.contains(line.entry.id) { live.insert(line.entry.id) }
            }
            var voidedSignOffs: [String] = []
            var lastSignOff: String?
            var onSiteAt: Int64?
            var completedAt: Int64?
            var compensations: [String: Compensation.State] = [:]
            var effects: [String: StatusEntry.Effect] = [:]
            for (event, verdict) in zip(events, verdicts) {
                if isStatusEvent(event) {
                    effects[event.opId] = switch verdict {
                    case .applied: .applied
                    case .overridden: .overridden
                    default: .ignored
                    }
                }
                switch (event.action, verdict) {
                case (.signOff, .applied): lastSignOff = event.opId
                case (.reopen, .applied):
                    if let signed = lastSignOff { voidedSignOffs.append(signed) }
                    lastSignOff = nil
                case (.transition(.onSite, _), .applied): onSiteAt = onSiteAt ?? event.occurredAt
                case (.transition(.completed, _), .applied): completedAt = event.occurredAt
                case (.requestCompensation(let id, let fen, _), .applied):
                    compensations[id] = fen <= ReferenceModel.frontLineLimitFen ? .settled : .awaitingApproval
                case (.requestCompensation(let id, _, _), .history):
                    compensations[id] = .history
                default: break
                }
            }
            return Observed(
                createOpId: create.opId, status: status(before: end), assignee: assignee(before: end),
                fields: fields, liveLines: live, historyLines: history, voidedLines: voided,
                signOff: standingSignOff(before: end)?.opId, voidedSignOffs: voidedSignOffs,
                onSiteAt: onSiteAt, completedAt: completedAt, compensations: compensations,
                conflicts: conflicts, statusEffects: effects, eventCount: events.count)
        }
    }
}

// MARK: - Random histories, with the create each intent built on

/// A ``Scenario`` as a replica receives it, with `createOp` stamped on most intents (a
/// quarter stay nil, as intents recorded before the field existed) and, in a third of the
/// cases, a few intents built on another desk's create under the same order id, which the
/// fold must skip entirely.
struct ReferenceCase: Sendable, CustomStringConvertible {
    var seed: UInt64
    var deviceCount: Int
    var steps: Int
    /// The event set, shuffled, some delivered twice.
    var delivery: [Intent]
    var foreign: [Intent]

    static let foreignCreate = "desk-li/elsewhere"

    static func make(seed: UInt64, deviceCount: Int, steps: Int) -> ReferenceCase {
        let scenario = Scenario.make(seed: seed, deviceCount: deviceCount, steps: steps)
        var rng = SplitMix64(state: seed ^ 0x0bad_c0de_5eed_f00d)
        let createOp = scenario.events.first { if case .create = $0.action { true } else { false } }?.opId
        var events = scenario.events.map { event -> Intent in
            var copy = event
            if copy.opId != createOp && Int.random(in: 0..<4, using: &rng) != 0 { copy.createOp = createOp }
            return copy
        }
        var foreign: [Intent] = []
        if Int.random(in: 0..<3, using: &rng) == 0 {
            for n in 1...Int.random(in: 1...3, using: &rng) {
                let near = events.randomElement(using: &rng)!
                let lineId = events.compactMap { e -> String? in
                    if case .append(let c) = e.action { c.id } else { nil }
                }.randomElement(using: &rng) ?? "L1"
                let actions: [(Person, Action)] = [
                    (.zhang, .move(.cancelled)), (.zhang, .assign(technician: "zhao")),
                    (.zhang, .set(.symptom, "another customer's leak", base: nil)),
                    (.wang, .set(.diagnosis, "another customer's boiler", base: nil)),
                    (.wang, .append(.part("X\(n)"))), (.wang, .void(childId: lineId, reason: "elsewhere")),
                    (.wang, .move(.couldNotComplete)), (.zhang, .reopen(reason: "elsewhere")),
                    (.wang, .requestCompensation(id: "KX\(n)", amountFen: 900, reason: "elsewhere")),
                ]
                let (person, action) = actions.randomElement(using: &rng)!
                foreign.append(Intent(
                    opId: "foreign/\(n)", deviceId: person.device, deviceSeq: 1_000 + Int64(n),
                    actor: person.name, role: person.role,
                    hlc: HLC(physical: near.hlc.physical, logical: near.hlc.logical + 1, device: person.device),
                    occurredAt: near.occurredAt, orderId: near.orderId, createOp: foreignCreate, action: action))
            }
        }
        events += foreign
        var delivery = events
        for event in events where Int.random(in: 0..<4, using: &rng) == 0 { delivery.append(event) }
        delivery.shuffle(using: &rng)
        return ReferenceCase(seed: seed, deviceCount: deviceCount, steps: steps, delivery: delivery, foreign: foreign)
    }

    var replay: String { "ReferenceCase.make(seed: \(seed), deviceCount: \(deviceCount), steps: \(steps))" }

    var description: String {
        let sorted = Set(delivery.map(\.opId)).compactMap { op in delivery.first { $0.opId == op } }
            .sorted { ($0.hlc, $0.opId) < ($1.hlc, $1.opId) }
        let lines = sorted.map { e in
            let base = e.createOp == nil ? " [no createOp]" : e.createOp == Self.foreignCreate ? " [FOREIGN]" : ""
            return "  \(e.hlc) \(e.opId) \(e.actor) \(Scenario.describe(e.action))\(base)"
        }
        return "\(replay), \(sorted.count) events:\n" + lines.joined(separator: "\n")
    }
}

// MARK: - Tests

@Suite("Reference model: the fold agrees with a naive reading of the protocol")
struct ReferenceModelTests {
    /// 300 cases take a few seconds in a debug build; FIELDSYNC_SOAK_COUNT asks for more.
    static var count: Int {
        ProcessInfo.processInfo.environment["FIELDSYNC_SOAK_COUNT"].flatMap(Int.init) ?? 300
    }

    static let cases = zip(Gen.uint64(), Gen.int(in: 2...3), Gen.int(in: 0...40))
        .map { seed, devices, steps in ReferenceCase.make(seed: seed, deviceCount: devices, steps: steps) }

    // On failure: the message names the Scenario seed (`ReferenceCase.make(...)` rebuilds
    // the history) and the library prints a `.fixedSeed(...)` trait that replays the run.
    @Test("property: on random histories the fold's outcome is the reference model's")
    func foldAgreesWithModel() async {
        await propertyCheck(count: Self.count, input: Self.cases) { c in
            // Given a random event set, When the model and the fold each derive the order
            let model = ReferenceModel.observe(c.delivery)
            let fold = WorkOrder.fold(c.delivery).map(Observed.init(order:))

            // Then they agree on every observable fact
            guard let model, let fold else {
                Issue.record("one side has no order: model \(model == nil ? "nil" : "ok"), fold \(fold == nil ? "nil" : "ok")\n\(c)")
                return
            }
            let differences = model.differences(from: fold)
            if !differences.isEmpty {
                let message = "fold ≠ reference model for \(c.replay):\n  "
                    + differences.joined(separator: "\n  ") + "\n\(c)"
                Issue.record(Comment(rawValue: message))
            }
        }
    }

    @Test("the random histories exercise every merge rule and the createOp skip")
    func generatorCoversTheRules() {
        // Given the histories of 300 fixed seeds, When the model derives each
        var rules: [Conflict.Rule: Int] = [:]
        var historyLines = 0, historyCompensations = 0, staleVoids = 0, foreign = 0, overridden = 0
        var signedOff = 0, reopenedSignOffs = 0, voidedLines = 0
        for seed in UInt64(1)...300 {
            let c = ReferenceCase.make(seed: seed &* 0x9e37_79b9_7f4a_7c15, deviceCount: 2 + Int(seed % 2), steps: 40)
            guard let outcome = ReferenceModel.observe(c.delivery) else { continue }
            for key in outcome.conflicts { rules[key.rule, default: 0] += 1 }
            historyLines += outcome.historyLines.count
            historyCompensations += outcome.compensations.values.filter { $0 == .history }.count
            staleVoids += outcome.conflicts.filter { key in
                key.rule == .reassignedWhileOffline
                    && c.delivery.contains { $0.opId == key.loser && $0.action.kind == "void" }
            }.count
            foreign += c.foreign.count
            overridden += outcome.statusEffects.values.filter { $0 == .overridden }.count
            signedOff += outcome.signOff == nil ? 0 : 1
            reopenedSignOffs += outcome.voidedSignOffs.count
            voidedLines += outcome.voidedLines.count
        }

        // Then every rule and every kind of stale action shows up, so the property tests them
        print("ReferenceModel coverage over 300 seeds: rules \(rules.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }), history lines \(historyLines), history compensations \(historyCompensations), stale voids \(staleVoids), foreign events \(foreign), overridden cancels \(overridden), standing sign-offs \(signedOff), reopened sign-offs \(reopenedSignOffs), voided lines \(voidedLines)")
        for rule in Conflict.Rule.allCases { #expect(rules[rule, default: 0] > 0, "no \(rule.rawValue) conflict") }
        #expect(historyLines > 0)
        #expect(historyCompensations > 0)
        #expect(staleVoids > 0)
        #expect(foreign > 0)
        #expect(overridden > 0)
        #expect(signedOff > 0)
        #expect(reopenedSignOffs > 0)
        #expect(voidedLines > 0)
    }
}

// MARK: - The model pinned on hand-written histories

/// Each test states what schema/sync-protocol.md says the outcome of a small history is,
/// checks the model says exactly that, and then that the fold agrees with the model.
@Suite("Reference model: hand-written histories")
struct ReferenceModelExampleTests {
    /// The model's outcome, which must exist.
    static func model(_ events: [Intent], sourceLocation: SourceLocation = #_sourceLocation) throws -> Observed {
        try #require(ReferenceModel.observe(events), sourceLocation: sourceLocation)
    }

    /// Records each observable on which the fold differs from the model.
    static func expectFoldAgrees(_ events: [Intent], sourceLocation: SourceLocation = #_sourceLocation) {
        guard let model = ReferenceModel.observe(events), let fold = WorkOrder.fold(events) else {
            Issue.record("no order", sourceLocation: sourceLocation)
            return
        }
        let differences = model.differences(from: Observed(order: fold))
        #expect(differences.isEmpty, "fold ≠ model: \(differences.joined(separator: "; "))", sourceLocation: sourceLocation)
    }

    static func key(_ rule: Conflict.Rule, _ winner: Intent, _ loser: Intent) -> ConflictKey {
        ConflictKey(rule: rule, winner: winner.opId, loser: loser.opId)
    }

    /// A customer's sign-off of `hash`, the content as the model computes it.
    static func signing(_ hash: String) -> Action {
        .signOff(SignOff(
            signerName: "Chen Jing", signerRole: "customer", signatureDigest: String(repeating: "5e", count: 32),
            rating: 5, comment: nil, signedAt: minute(45), contentHash: hash))
    }

    @Test("cancel that folds before the crew arrives: overridden by the on-site work")
    func cancelBeforeArrival() throws {
        // Given zhang cancels at minute 10 while wang, offline, arrives at 20 and completes at 50
        var timeline = Timeline.assignedToWang()
        timeline.add(.move(.accepted), by: .wang, at: 2)
        let cancel = timeline.add(.move(.cancelled), by: .zhang, at: 10)
        let arrival = timeline.add(.move(.onSite), by: .wang, at: 20)
        let done = timeline.add(.move(.completed), by: .wang, at: 50)

        // When the model derives the order
        let model = try Self.model(timeline.events)

        // Then the work is kept, the cancel overridden, and one cancel_vs_work conflict names it
        #expect(model.status == .completed)
        #expect(model.onSiteAt == minute(20))
        #expect(model.completedAt == minute(50))
        #expect(model.statusEffects[cancel.opId] == .overridden)
        #expect(model.statusEffects[arrival.opId] == .applied)
        #expect(model.statusEffects[done.opId] == .applied)
        #expect(model.conflicts == [Self.key(.cancelVersusWork, arrival, cancel)])
        Self.expectFoldAgrees(timeline.events)
    }

    @Test("cancel that folds while the crew is on site: ignored, the work stands")
    func cancelDuringWork() throws {
        // Given wang is on site from minute 20 and zhang cancels at 30, not having seen it
        var timeline = Timeline.assignedToWang()
        timeline.add(.move(.accepted), by: .wang, at: 2)
        let arrival = timeline.add(.move(.onSite), by: .wang, at: 20)
        let cancel = timeline.add(.move(.cancelled), by: .zhang, at: 30)
        timeline.add(.move(.working), by: .wang, at: 35)

        // When the model derives the order
        let model = try Self.model(timeline.events)

        // Then the crew keeps working and the cancel lost to the arrival
        #expect(model.status == .working)
        #expect(model.statusEffects[cancel.opId] == .ignored)
        #expect(model.conflicts == [Self.key(.cancelVersusWork, arrival, cancel)])
        Self.expectFoldAgrees(timeline.events)
    }

    @Test("reassignment while the crew is on site: the crew keeps the order")
    func reassignDuringWork() throws {
        // Given wang is on site at 20 and zhang reassigns to zhao at 25
        var timeline = Timeline.assignedToWang()
        timeline.add(.move(.accepted), by: .wang, at: 2)
        let arrival = timeline.add(.move(.onSite), by: .wang, at: 20)
        let reassign = timeline.add(.assign(technician: "zhao"), by: .zhang, at: 25)
        let working = timeline.add(.move(.working), by: .wang, at: 30)
        timeline.add(.set(.diagnosis, "valve stuck", base: nil), by: .wang, at: 31)

        // When the model derives the order
        let model = try Self.model(timeline.events)

        // Then wang still holds it, his later work applies, and the reassignment is the loser
        #expect(model.assignee == "wang")
        #expect(model.status == .working)
        #expect(model.statusEffects[reassign.opId] == .ignored)
        #expect(model.statusEffects[working.opId] == .applied)
        #expect(model.fields[.diagnosis] == "valve stuck")
        #expect(model.conflicts == [Self.key(.reassignDuringWork, arrival, reassign)])
        Self.expectFoldAgrees(timeline.events)
    }

    @Test("reassigned while offline: every kind of the former assignee's work is history")
    func reassignedWhileOffline() throws {
        // Given wang recorded a part at minute 5, then zhang gave the order to zhao at 10
        var timeline = Timeline.assignedToWang()
        timeline.add(.move(.accepted), by: .wang, at: 2)
        timeline.add(.append(.part("P0")), by: .wang, at: 5)
        let reassign = timeline.add(.assign(technician: "zhao"), by: .zhang, at: 10)
        // and wang, offline, kept working: a step, an edit, a line, a void, a compensation, a sign-off
        let stale = [
            timeline.add(.move(.enRoute), by: .wang, at: 12),
            timeline.add(.set(.diagnosis, "air lock", base: nil), by: .wang, at: 13),
            timeline.add(.append(.part("P1")), by: .wang, at: 14),
            timeline.add(.void(childId: "P0", reason: "wrong part"), by: .wang, at: 15),
            timeline.add(.requestCompensation(id: "K1", amountFen: 900, reason: "scratched floor"), by: .wang, at: 16),
            timeline.add(Self.signing("00"), by: .wang, at: 17),
        ]
        // while zhao accepted
        timeline.add(.move(.accepted), by: .zhao, at: 18)

        // When the model derives the order
        let model = try Self.model(timeline.events)

        // Then zhao holds it and only his step moved it
        #expect(model.assignee == "zhao")
        #expect(model.status == .accepted)
        // wang's step and sign-off are ignored entries, his edit not applied
        #expect(model.statusEffects[stale[0].opId] == .ignored)
        #expect(model.statusEffects[stale[5].opId] == .ignored)
        #expect(model.signOff == nil)
        #expect(model.fields[.diagnosis] == nil)
        // his line is history, his void did not void P0, his compensation is history
        #expect(model.liveLines == ["P0"])
        #expect(model.historyLines == ["P1"])
        #expect(model.voidedLines.isEmpty)
        #expect(model.compensations == ["K1": .history])
        // and each raised reassigned_while_offline against the reassignment
        #expect(model.conflicts == Set(stale.map { Self.key(.reassignedWhileOffline, reassign, $0) }))
        Self.expectFoldAgrees(timeline.events)
    }

    @Test("LWW: the later HLC wins; an edit that did not see the register raises concurrent_edit")
    func lastWriterWins() throws {
        // Given wang's tablet and phone set the diagnosis, the phone's stamped earlier but listed later
        var timeline = Timeline.assignedToWang()
        let tablet = timeline.add(.set(.diagnosis, "air lock", base: nil), by: .wang, at: 12)
        let phone = timeline.add(.set(.diagnosis, "valve stuck", base: nil), by: .wangPhone, at: 10)
        // and the tablet, having seen its own edit, refines it (no conflict: it saw the register)
        let refine = timeline.add(.set(.diagnosis, "air lock, bled", base: tablet.hlc), by: .wang, at: 14)
        // and two desks change the symptom, each from the created value
        let created = timeline.events[0]
        let zhang = timeline.add(.set(.symptom, "no hot water", base: created.hlc), by: .zhang, at: 5)
        let li = timeline.add(.set(.symptom, "leak", base: created.hlc), by: .li, at: 6)

        // When the model derives the order, in either list order
        let model = try Self.model(timeline.events)
        #expect(try Self.model(timeline.events.reversed()) == model)

        // Then the latest edits hold, and each edit that overwrote another device's unseen value is a conflict
        #expect(model.fields[.diagnosis] == "air lock, bled")
        #expect(model.fields[.symptom] == "leak")
        #expect(model.conflicts == [
            Self.key(.concurrentEdit, tablet, phone), Self.key(.concurrentEdit, li, zhang),
        ])
        #expect(!model.conflicts.contains { $0.winner == refine.opId })
        Self.expectFoldAgrees(timeline.events)
    }

    @Test("a void that folds before its line: the line arrives already void")
    func voidBeforeItsLine() throws {
        // Given wang's phone (clock behind) voided P1 at 25, his tablet appended it at 30
        var timeline = Timeline.assignedToWang()
        timeline.add(.append(.part("P1")), by: .wang, at: 30)
        timeline.add(.void(childId: "P1", reason: "wrong valve"), by: .wangPhone, at: 25)
        timeline.add(.append(.part("P2")), by: .wang, at: 31)

        // When the model derives the order
        let model = try Self.model(timeline.events)

        // Then P1 is recorded and void, P2 is the only live line
        #expect(model.voidedLines == ["P1"])
        #expect(model.liveLines == ["P2"])
        #expect(model.conflicts.isEmpty)
        Self.expectFoldAgrees(timeline.events)
    }

    @Test("after the sign-off, signed facts are frozen; a log line is not")
    func signOffFreezes() throws {
        // Given the customer signs the completed job as the model computes it
        var timeline = SignOffTests.completedJob()
        let hash = try #require(ReferenceModel.contentHash(timeline.events))
        let signOff = timeline.add(Self.signing(hash), by: .wang, at: 45)
        // and wang's phone, offline, then changes signed facts and writes a log line
        let frozen = [
            timeline.add(.set(.workDone, "replaced valve and pump", base: nil), by: .wangPhone, at: 50),
            timeline.add(.append(.part("P2")), by: .wangPhone, at: 51),
            timeline.add(.void(childId: "P1", reason: "not used"), by: .wangPhone, at: 52),
        ]
        timeline.add(.append(.log("L1", "customer offered tea")), by: .wangPhone, at: 53)

        // When the model derives the order
        let model = try Self.model(timeline.events)

        // Then the sign-off stands with the signed values, and each change lost to it
        #expect(model.status == .signedOff)
        #expect(model.signOff == signOff.opId)
        #expect(model.fields[.workDone] == "replaced valve")
        #expect(model.liveLines == ["P1", "L1"])
        #expect(model.voidedLines.isEmpty)
        #expect(model.conflicts == Set(frozen.map { Self.key(.frozenBySignOff, signOff, $0) }))
        Self.expectFoldAgrees(timeline.events)
    }

    @Test("a sign-off of other content than the order's at its place is not applied")
    func signOffOfOtherContent() throws {
        // Given a sign-off whose hash is of content the order does not have
        var timeline = SignOffTests.completedJob()
        let signOff = timeline.add(Self.signing(String(repeating: "0", count: 64)), by: .wang, at: 45)

        // When the model derives the order, Then it stays completed, the sign-off ignored
        let model = try Self.model(timeline.events)
        #expect(model.status == .completed)
        #expect(model.signOff == nil)
        #expect(model.statusEffects[signOff.opId] == .ignored)
        Self.expectFoldAgrees(timeline.events)
    }

    @Test("a reopen voids the sign-off visibly and unfreezes the facts")
    func reopenVoidsSignOff() throws {
        // Given a signed job
        var timeline = SignOffTests.completedJob()
        let signOff = timeline.add(Self.signing(try #require(ReferenceModel.contentHash(timeline.events))), by: .wang, at: 45)
        // When zhang reopens it and wang then edits the work done and voids the part
        let reopen = timeline.add(.reopen(reason: "customer disputes the bill"), by: .zhang, at: 60)
        timeline.add(.set(.workDone, "replaced valve and pump", base: nil), by: .wang, at: 61)
        timeline.add(.void(childId: "P1", reason: "not used"), by: .wang, at: 62)
        let model = try Self.model(timeline.events)

        // Then the order is assigned again, the sign-off is kept among the voided ones
        #expect(model.status == .assigned)
        #expect(model.statusEffects[reopen.opId] == .applied)
        #expect(model.signOff == nil)
        #expect(model.voidedSignOffs == [signOff.opId])
        // and the edits after the reopen apply, with nothing frozen
        #expect(model.fields[.workDone] == "replaced valve and pump")
        #expect(model.voidedLines == ["P1"])
        #expect(model.conflicts.isEmpty)
        Self.expectFoldAgrees(timeline.events)
    }

    @Test("a reopen that folds where the order is not finished is ignored, with a status_ignored conflict")
    func reopenOfUnfinishedOrder() throws {
        // Given li reopened a signed job and zhang, having seen the same sign-off, reopened it too
        var timeline = SignOffTests.completedJob()
        timeline.add(Self.signing(try #require(ReferenceModel.contentHash(timeline.events))), by: .wang, at: 45)
        let first = timeline.add(.reopen(reason: "disputed"), by: .li, at: 60)
        let second = timeline.add(.reopen(reason: "disputed too"), by: .zhang, at: 61)

        // When the model derives the order
        let model = try Self.model(timeline.events)

        // Then the second reopen lost: illegal at its place (§2, §4 status_ignored), kept, conflict written
        #expect(model.status == .assigned)
        #expect(model.statusEffects[second.opId] == .ignored)
        #expect(model.conflicts == [Self.key(.statusIgnored, first, second)])
        // (Failed before the fold wrote this conflict; found by this model.)
        Self.expectFoldAgrees(timeline.events)
    }

    @Test("voiding a line already void after the sign-off changes no signed fact: no conflict")
    func voidOfVoidedLineAfterSignOff() throws {
        // Given P2 was voided before the customer signed
        var timeline = SignOffTests.completedJob()
        timeline.add(.append(.part("P2")), by: .wang, at: 32)
        timeline.add(.void(childId: "P2", reason: "not used"), by: .wang, at: 33)
        timeline.add(Self.signing(try #require(ReferenceModel.contentHash(timeline.events))), by: .wang, at: 45)
        // When wang's phone, offline, voids P2 again after the sign-off
        timeline.add(.void(childId: "P2", reason: "not used"), by: .wangPhone, at: 50)
        let model = try Self.model(timeline.events)

        // Then P2 stays void, the sign-off stands and nothing signed changed, so no conflict
        #expect(model.status == .signedOff)
        #expect(model.voidedLines == ["P2"])
        #expect(model.conflicts.isEmpty)
        // (Failed before the fold skipped this no-op void; found by this model.)
        Self.expectFoldAgrees(timeline.events)
    }

    @Test("an event built on another desk's create is skipped entirely")
    func foreignCreateSkipped() throws {
        // Given an order with events that name its create, and two built on another create
        var timeline = Timeline.assignedToWang()
        let create = timeline.events[0]
        timeline.add(.move(.accepted), by: .wang, at: 2)
        var events = timeline.events.map { event -> Intent in
            var copy = event
            if copy.opId != create.opId { copy.createOp = create.opId }
            return copy
        }
        for (n, action) in [Action.move(.cancelled), .set(.symptom, "another flat", base: nil)].enumerated() {
            events.append(Intent(
                opId: "desk-li#\(n + 2)", deviceId: "desk-li", deviceSeq: Int64(n + 2), actor: "li",
                role: .dispatcher, hlc: HLC(physical: minute(3 + n), device: "desk-li"),
                occurredAt: minute(3 + n), orderId: create.orderId, createOp: "desk-li#1", action: action))
        }

        // When the model derives the order
        let model = try Self.model(events)

        // Then the foreign events have no effect, no record and are not counted
        #expect(model.createOpId == create.opId)
        #expect(model.status == .accepted)
        #expect(model.fields[.symptom] == "radiator cold")
        #expect(model.statusEffects.count == 2)
        #expect(model.conflicts.isEmpty)
        #expect(model.eventCount == 3)
        Self.expectFoldAgrees(events)
    }

    @Test("the model's content hash is the one SignOffContent documents")
    func contentHashMatchesTheEncoding() throws {
        // Given fields, each kind of line, a voided part and a former assignee's history line
        var timeline = SignOffTests.completedJob()
        timeline.add(.set(.diagnosis, "air lock", base: nil), by: .wang, at: 32)
        timeline.add(.set(.boundary, "customer", base: nil), by: .wang, at: 33)
        timeline.add(.set(.labourMinutes, "45", base: nil), by: .wang, at: 34)
        timeline.add(.append(.charge("C1")), by: .wang, at: 35)
        timeline.add(.append(.photo("F1")), by: .wang, at: 36)
        timeline.add(.append(.reading("R1")), by: .wang, at: 37)
        timeline.add(.append(.part("P0", "pump", quantity: 2, fen: 9_900)), by: .wang, at: 38)
        timeline.add(.void(childId: "P1", reason: "not used"), by: .wang, at: 39)

        // When both compute the hash, Then they agree
        let order = try #require(WorkOrder.fold(timeline.events))
        #expect(ReferenceModel.contentHash(timeline.events) == SignOffContent.hash(of: order))
    }
}
