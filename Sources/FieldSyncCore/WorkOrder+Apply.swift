import Crypto

extension WorkOrder {
    /// Derives an order from the set of its accepted events: the one merge function that
    /// client and server both call (DESIGN.md §4).
    ///
    /// The result depends only on the set, not on the order the events arrived in: they
    /// are sorted by HLC (op id breaks exact ties) and applied with ``apply(_:)``.
    /// Returns nil while the set holds no `create`.
    public static func fold<S: Sequence>(_ events: S) -> WorkOrder? where S.Element == Intent {
        let sorted = events.sorted { ($0.hlc, $0.opId) < ($1.hlc, $1.opId) }
        guard let create = sorted.first(where: { if case .create = $0.action { true } else { false } }),
              var order = WorkOrder(creating: create)
        else { return nil }
        var seen: Set<String> = [create.opId]
        var pendingVoids: [String: VoidInfo] = [:]
        for event in sorted where seen.insert(event.opId).inserted {
            // Built on another desk's create under the same id: not part of this order.
            if let base = event.createOp, base != create.opId { continue }
            order.apply(event, pendingVoids: &pendingVoids)
        }
        order.pendingVoids = pendingVoids.isEmpty ? nil : pendingVoids
        return order
    }

    /// The order with one more event folded in, when that event sorts after every event
    /// already folded (its `(hlc, opId)` is greater than ``lastHLC`` and ``lastOpId``);
    /// nil when it sorts earlier, or the state predates ``lastOpId``: then only
    /// ``fold(_:)`` of all the events gives the right order.
    ///
    /// Why: a server holding an order's fold as a snapshot applies a push in time
    /// proportional to the push, not to the order's history. The result equals
    /// `fold(events + [event])` whenever `self == fold(events)` and the event's op id is
    /// not among `events` (the server refuses copies before folding). An event built on
    /// another create (``Intent/createOp``) leaves the order as it is, as in the fold.
    ///
    /// ```swift
    /// let next = stored.folding(event) ?? WorkOrder.fold(history + [event])
    /// ```
    public func folding(_ event: Intent) -> WorkOrder? {
        guard let lastOpId, let createOpId, (lastHLC, lastOpId) < (event.hlc, event.opId) else {
            return nil
        }
        if let base = event.createOp, base != createOpId { return self }
        var next = self
        var voids = pendingVoids ?? [:]
        next.apply(event, pendingVoids: &voids)
        next.pendingVoids = voids.isEmpty ? nil : voids
        return next
    }

    /// Starts an order from its `create` event.
    public init?(creating event: Intent) {
        guard case .create(let fields) = event.action else { return nil }
        id = event.orderId
        createOpId = event.opId
        createdAt = event.occurredAt
        createdBy = event.actor
        self.fields = Dictionary(minimumCapacity: fields.count)
        for (field, value) in fields {
            self.fields[field.rawValue] = FieldValue(
                value: value, hlc: event.hlc, actor: event.actor, opId: event.opId)
        }
        assignee = nil
        formerAssignees = []
        status = .open
        history = []
        children = []
        signOff = nil
        voidedSignOffs = []
        compensations = []
        conflicts = []
        onSiteAt = nil
        completedAt = nil
        eventCount = 1
        lastHLC = event.hlc
        lastOpId = event.opId
        pendingVoids = nil
    }

    /// Applies one event that sorts after every event already folded in.
    mutating func apply(_ event: Intent, pendingVoids: inout [String: VoidInfo]) {
        eventCount += 1
        if let last = lastOpId, (lastHLC, last) < (event.hlc, event.opId) { lastOpId = event.opId }
        lastHLC = max(lastHLC, event.hlc)
        let staleAuthor = event.role == .technician && event.actor != assignee
        switch event.action {
        case .create:
            break  // a second create for the same id is refused on acceptance; never folded
        case .assign(let technician):
            applyAssign(event, to: technician)
        case .transition(let target, let note):
            applyTransition(event, to: target, note: note, staleAuthor: staleAuthor)
        case .setField(let field, let value, let base):
            guard field.owner == event.role else { return }
            if staleAuthor {
                recordStale(event, field: field.rawValue, value: value)
                return
            }
            if signOff != nil && field.coveredBySignOff {
                recordFrozen(event, field: field.rawValue, value: value)
                return
            }
            let current = fields[field.rawValue]
            if let current, current.hlc != base, current.hlc.device != event.deviceId {
                addConflict(
                    .concurrentEdit, field: field.rawValue,
                    winner: side(of: event, value: value),
                    loser: Conflict.Side(
                        value: current.value, actor: current.actor, device: current.hlc.device,
                        opId: current.opId, occurredAt: current.hlc.physical),
                    at: event.hlc.physical,
                    message: "\(field.rawValue) was edited on two devices; the later edit won")
            }
            fields[field.rawValue] = FieldValue(
                value: value, hlc: event.hlc, actor: event.actor, opId: event.opId)
        case .append(let entry):
            guard entry.allowed(for: event.role),
                  !children.contains(where: { $0.entry.id == entry.id })
            else { return }
            if signOff != nil && entry.coveredBySignOff && !staleAuthor {
                recordFrozen(event, field: entry.kind.rawValue, value: entry.text)
                return
            }
            if staleAuthor { recordStale(event, field: entry.kind.rawValue, value: entry.text) }
            children.append(ChildRecord(
                entry: entry, actor: event.actor, opId: event.opId,
                occurredAt: event.occurredAt, hlc: event.hlc,
                voided: pendingVoids.removeValue(forKey: entry.id), history: staleAuthor))
        case .void(let childId, let reason):
            if staleAuthor {
                recordStale(event, field: "void", value: childId)
                return
            }
            let info = VoidInfo(
                actor: event.actor, opId: event.opId, reason: reason, occurredAt: event.occurredAt)
            if let index = children.firstIndex(where: { $0.entry.id == childId }) {
                // Voiding a line already void changes nothing the customer signed for.
                if children[index].voided != nil { return }
                if signOff != nil && children[index].entry.coveredBySignOff && !children[index].history {
                    recordFrozen(event, field: children[index].entry.kind.rawValue, value: "void")
                    return
                }
                if children[index].voided == nil { children[index].voided = info }
            } else {
                pendingVoids[childId] = info
            }
        case .signOff(let signOff):
            applySignOff(event, signOff, staleAuthor: staleAuthor)
        case .requestCompensation(let id, let amountFen, let reason):
            guard !compensations.contains(where: { $0.id == id }) else { return }
            let state: Compensation.State =
                staleAuthor ? .history
                : amountFen <= Compensation.frontLineLimitFen ? .settled : .awaitingApproval
            if staleAuthor { recordStale(event, field: "compensation", value: String(amountFen)) }
            compensations.append(Compensation(
                id: id, amountFen: amountFen, reason: reason, actor: event.actor,
                occurredAt: event.occurredAt, state: state))
        case .reopen(let reason):
            guard status.canReopen else {
                // Illegal at its place (two desks reopened at once): kept, and a loser.
                let winner = lastApplied()
                recordStatus(event, to: .assigned, note: reason, effect: .ignored,
                             reason: "cannot reopen an order that is \(status.rawValue)")
                addConflict(
                    .statusIgnored, field: "status",
                    winner: winner.map { side(of: $0, value: status.rawValue) }
                        ?? side(of: event, value: status.rawValue),
                    loser: side(of: event, value: "reopen"), at: event.hlc.physical,
                    message: "reopen from \(event.actor) came when the order was \(status.rawValue) and was ignored")
                return
            }
            if var record = signOff {
                record.voidedBy = event.actor
                record.voidReason = reason
                voidedSignOffs.append(record)
                signOff = nil
            }
            recordStatus(event, to: .assigned, note: reason, effect: .applied, reason: nil)
            status = .assigned
        }
    }

    private mutating func applyAssign(_ event: Intent, to technician: String) {
        if status.canMove(to: .assigned) {
            recordStatus(event, to: .assigned, note: nil, effect: .applied, reason: nil,
                         assignee: technician)
            if let previous = assignee, previous != technician, !formerAssignees.contains(previous) {
                formerAssignees.append(previous)
            }
            formerAssignees.removeAll { $0 == technician }
            assignee = technician
            status = .assigned
        } else if status.isWorkOnSite && !status.isFinished {
            let winner = lastApplied()
            recordStatus(event, to: .assigned, note: nil, effect: .ignored,
                         reason: "the crew is on site", assignee: technician)
            addConflict(
                .reassignDuringWork, field: "assignee",
                winner: winner.map { side(of: $0, value: assignee) }
                    ?? side(of: event, value: assignee),
                loser: side(of: event, value: technician), at: event.hlc.physical,
                message: "reassignment to \(technician) arrived while the crew was on site; the crew kept the order")
        } else {
            ignoreIllegal(event, to: .assigned, note: nil, assignee: technician)
        }
    }

    private mutating func applyTransition(
        _ event: Intent, to target: OrderStatus, note: String?, staleAuthor: Bool
    ) {
        if staleAuthor {
            recordStatus(event, to: target, note: note, effect: .ignored,
                         reason: "reassigned to \(assignee ?? "nobody")")
            recordStale(event, field: "status", value: target.rawValue)
            return
        }
        // Completed counts too: a cancel stamped after an offline crew finished is the same
        // concurrent cancel as one stamped a minute earlier (DESIGN.md §4).
        if target == .cancelled && status.isWorkOnSite {
            let winner = lastApplied()
            recordStatus(event, to: target, note: note, effect: .ignored,
                         reason: "the crew is on site")
            addConflict(
                .cancelVersusWork, field: "status",
                winner: winner.map { side(of: $0, value: status.rawValue) }
                    ?? side(of: event, value: status.rawValue),
                loser: side(of: event, value: target.rawValue), at: event.hlc.physical,
                message: "cancel arrived while the crew was \(status.rawValue); the work was kept")
            return
        }
        if status.canMove(to: target) {
            recordStatus(event, to: target, note: note, effect: .applied, reason: nil)
            status = target
            if target == .onSite && onSiteAt == nil { onSiteAt = event.occurredAt }
            if target == .completed { completedAt = event.occurredAt }
            return
        }
        if status == .cancelled && event.role == .technician && target.isWorkOnSite,
           let cancel = history.lastIndex(where: { $0.to == .cancelled && $0.effect == .applied })
        {
            history[cancel].effect = .overridden
            history[cancel].reason = "work on site by \(event.actor)"
            let cancelEntry = history[cancel]
            recordStatus(event, to: target, note: note, effect: .applied, reason: nil)
            status = target
            if target == .onSite && onSiteAt == nil { onSiteAt = event.occurredAt }
            if target == .completed { completedAt = event.occurredAt }
            addConflict(
                .cancelVersusWork, field: "status",
                winner: side(of: event, value: target.rawValue),
                loser: Conflict.Side(
                    value: OrderStatus.cancelled.rawValue, actor: cancelEntry.actor,
                    device: cancelEntry.device, opId: cancelEntry.opId,
                    occurredAt: cancelEntry.occurredAt),
                at: event.hlc.physical,
                message: "the order was cancelled while the crew was working offline; their work was kept")
            return
        }
        ignoreIllegal(event, to: target, note: note, assignee: nil)
    }

    private mutating func applySignOff(_ event: Intent, _ signOff: SignOff, staleAuthor: Bool) {
        if staleAuthor {
            recordStatus(event, to: .signedOff, note: nil, effect: .ignored,
                         reason: "reassigned to \(assignee ?? "nobody")")
            recordStale(event, field: "sign_off", value: signOff.contentHash)
            return
        }
        guard status.canMove(to: .signedOff) else {
            ignoreIllegal(event, to: .signedOff, note: nil, assignee: nil)
            return
        }
        guard SignOffContent.hash(of: self) == signOff.contentHash else {
            recordStatus(event, to: .signedOff, note: nil, effect: .ignored,
                         reason: "signed content does not match the order")
            return
        }
        recordStatus(event, to: .signedOff, note: nil, effect: .applied, reason: nil)
        status = .signedOff
        self.signOff = SignOffRecord(
            signOff: signOff, actor: event.actor, opId: event.opId,
            occurredAt: event.occurredAt, voidedBy: nil, voidReason: nil)
    }

    private mutating func ignoreIllegal(
        _ event: Intent, to target: OrderStatus, note: String?, assignee: String?
    ) {
        let winner = lastApplied()
        recordStatus(event, to: target, note: note, effect: .ignored,
                     reason: "\(status.rawValue) → \(target.rawValue) is not a legal step",
                     assignee: assignee)
        addConflict(
            .statusIgnored, field: "status",
            winner: winner.map { side(of: $0, value: status.rawValue) }
                ?? side(of: event, value: status.rawValue),
            loser: side(of: event, value: target.rawValue), at: event.hlc.physical,
            message: "\(target.rawValue) from \(event.actor) came after the order was \(status.rawValue) and was ignored")
    }

    /// Work by a technician who no longer holds the order: history plus a conflict.
    private mutating func recordStale(_ event: Intent, field: String, value: String?) {
        let assign = history.last { $0.effect == .applied && $0.assignee != nil }
        addConflict(
            .reassignedWhileOffline, field: field,
            winner: Conflict.Side(
                value: assignee, actor: assign?.actor ?? createdBy, device: assign?.device ?? "",
                opId: assign?.opId ?? "", occurredAt: assign?.occurredAt ?? createdAt),
            loser: side(of: event, value: value), at: event.hlc.physical,
            message: "\(event.actor) worked on the order after it was reassigned to \(assignee ?? "nobody"); kept as history")
    }

    /// An edit of signed-for facts that sorts after the sign-off: ignored, and recorded.
    private mutating func recordFrozen(_ event: Intent, field: String, value: String?) {
        guard let record = signOff else { return }
        addConflict(
            .frozenBySignOff, field: field,
            winner: Conflict.Side(
                value: record.signOff.contentHash, actor: record.actor, device: "",
                opId: record.opId, occurredAt: record.occurredAt),
            loser: side(of: event, value: value), at: event.hlc.physical,
            message: "\(field) changed after the customer signed; the signed version was kept")
    }

    private mutating func recordStatus(
        _ event: Intent, to target: OrderStatus, note: String?, effect: StatusEntry.Effect,
        reason: String?, assignee: String? = nil
    ) {
        history.append(StatusEntry(
            opId: event.opId, from: status, to: target, actor: event.actor,
            device: event.deviceId, occurredAt: event.occurredAt, hlc: event.hlc, note: note,
            assignee: assignee, effect: effect, reason: reason,
            clockClamped: event.clampedFrom != nil))
    }

    private func lastApplied() -> StatusEntry? { history.last { $0.effect == .applied } }

    private func side(of event: Intent, value: String?) -> Conflict.Side {
        Conflict.Side(
            value: value, actor: event.actor, device: event.deviceId, opId: event.opId,
            occurredAt: event.occurredAt)
    }

    private func side(of entry: StatusEntry, value: String?) -> Conflict.Side {
        Conflict.Side(
            value: value, actor: entry.actor, device: entry.device, opId: entry.opId,
            occurredAt: entry.occurredAt)
    }

    private mutating func addConflict(
        _ rule: Conflict.Rule, field: String, winner: Conflict.Side, loser: Conflict.Side,
        at: Int64, message: String
    ) {
        let key = "\(rule.rawValue)|\(id)|\(field)|\(winner.opId)|\(loser.opId)"
        let digest = SHA256.hash(data: Array(key.utf8))
        let id = "C" + Hex.string(digest.prefix(6))
        guard !conflicts.contains(where: { $0.id == id }) else { return }
        conflicts.append(Conflict(
            id: id, orderId: self.id, field: field, rule: rule, winner: winner, loser: loser,
            at: at, message: message))
    }
}

/// Lower-case hexadecimal, without Foundation.
public enum Hex {
    /// Lower-case hex, two digits a byte. Written as bytes, then made a String once:
    /// appending `Character`s took 37,000 instructions for a SHA-256 digest, and the
    /// server hashes every intent a push brings.
    /// (Inlinable: the server calls it with a digest's bytes, which a generic call from
    /// another module iterates through witness tables, 400 instructions a byte.)
    @inlinable
    public static func string<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for b in bytes {
            out.append(digit(b >> 4))
            out.append(digit(b & 0x0f))
        }
        return String(decoding: out, as: UTF8.self)
    }

    @inlinable
    static func digit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}
