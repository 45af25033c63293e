/// The state of one work order, as derived by ``WorkOrder/fold(_:)`` from its events.
///
/// Nothing here is edited in place by callers: client and server both rebuild it from the
/// set of accepted intents, so two replicas holding the same events hold the same order.
public struct WorkOrder: Codable, Hashable, Sendable {
    public var id: String
    /// The `opId` of the `create` this order was opened with; intents naming another
    /// create (``Intent/createOp``) are not part of it. Nil only in states stored before
    /// the field existed (they are re-folded on the next change).
    public var createOpId: String?
    public var createdAt: Int64
    public var createdBy: String
    /// Scalar fields by wire name (``OrderField/rawValue``), each a last-writer-wins register.
    public var fields: [String: FieldValue]
    public var assignee: String?
    /// Technicians the order was taken from; their offline work is kept as history.
    public var formerAssignees: [String]
    public var status: OrderStatus
    /// Every status event in HLC order, applied or ignored, with who, when and why.
    public var history: [StatusEntry]
    public var children: [ChildRecord]
    public var signOff: SignOffRecord?
    /// Sign-offs voided by a reopen: kept, visibly, as evidence.
    public var voidedSignOffs: [SignOffRecord]
    public var compensations: [Compensation]
    /// Every place where a merge rule picked a loser.
    public var conflicts: [Conflict]
    /// On-site time of the first arrival (the time it happened, not the time it synced).
    public var onSiteAt: Int64?
    public var completedAt: Int64?
    /// Number of events folded in.
    public var eventCount: Int
    /// The greatest HLC folded in.
    public var lastHLC: HLC
    /// The op id of the event folded in with the greatest `(hlc, opId)`: with ``lastHLC``
    /// it tells whether a new event sorts after everything folded, so that a stored order
    /// can take it with ``folding(_:)`` instead of a fold of its whole history. Nil in
    /// states stored before the field existed (they are re-folded on the next change).
    public var lastOpId: String?
    /// Voids folded before their line, by line id: when the line arrives it is already
    /// void (voids win). Kept in the state so that ``folding(_:)`` continues exactly where
    /// ``fold(_:)`` stopped; nil when there are none.
    public var pendingVoids: [String: VoidInfo]?

    public subscript(field: OrderField) -> String? {
        fields[field.rawValue]?.value ?? nil
    }

    public var urgency: Int { self[.urgency].flatMap { Int($0) } ?? 3 }
    public var responseDeadline: Int64? { self[.responseDeadline].flatMap { Int64($0) } }

    /// The lines that are not voided, in the order they were written.
    public var liveChildren: [ChildRecord] { children.filter { $0.voided == nil && !$0.history } }
}

/// A last-writer-wins register: the value and who wrote it when.
public struct FieldValue: Codable, Hashable, Sendable {
    public var value: String?
    public var hlc: HLC
    public var actor: String
    public var opId: String
}

/// One status event as the fold saw it.
public struct StatusEntry: Codable, Hashable, Sendable {
    public enum Effect: String, Codable, Sendable {
        /// Moved the order.
        case applied
        /// Kept in history but illegal at its point in the fold.
        case ignored
        /// Applied, then undone by a rule (a cancel overridden by work on site).
        case overridden
    }

    public var opId: String
    public var from: OrderStatus
    public var to: OrderStatus
    public var actor: String
    public var device: String
    public var occurredAt: Int64
    public var hlc: HLC
    public var note: String?
    /// For assignments: the technician the order went to.
    public var assignee: String?
    public var effect: Effect
    /// Why an event was ignored or overridden.
    public var reason: String?
    /// Set when the server clamped a device time from its future.
    public var clockClamped: Bool
}

/// An appended line with its author and, once voided, the void.
public struct ChildRecord: Codable, Hashable, Sendable {
    public var entry: ChildEntry
    public var actor: String
    public var opId: String
    public var occurredAt: Int64
    public var hlc: HLC
    public var voided: VoidInfo?
    /// Written by a former assignee after the order was taken from him: kept as history,
    /// outside the bill and the sign-off.
    public var history: Bool
}

/// Who voided a line, when and why.
public struct VoidInfo: Codable, Hashable, Sendable {
    public var actor: String
    public var opId: String
    public var reason: String
    public var occurredAt: Int64
}

/// A sign-off as recorded, and — if a dispatcher reopened the order — how it was voided.
public struct SignOffRecord: Codable, Hashable, Sendable {
    public var signOff: SignOff
    public var actor: String
    public var opId: String
    public var occurredAt: Int64
    public var voidedBy: String?
    public var voidReason: String?
}

/// A compensation request; above the front-line limit it waits for a supervisor.
public struct Compensation: Codable, Hashable, Sendable {
    public enum State: String, Codable, Sendable {
        /// Within the front-line limit: the crew may settle it on the spot.
        case settled
        /// Above the limit: waits for a supervisor's approval.
        case awaitingApproval = "awaiting_approval"
        /// Asked for by a former assignee after the order was taken from him: kept as
        /// history, never settled (`reassigned_while_offline`).
        case history
    }

    /// Front-line staff settle up to 500 yuan on their own (seed 003).
    public static let frontLineLimitFen = 50_000

    public var id: String
    public var amountFen: Int
    public var reason: String
    public var actor: String
    public var occurredAt: Int64
    public var state: State
}

/// A record written wherever a merge rule picked a loser (DESIGN.md §4).
public struct Conflict: Codable, Hashable, Sendable {
    public enum Rule: String, Codable, Sendable, CaseIterable {
        /// Two authors of the owning role edited a field without seeing each other's edit;
        /// the later HLC won.
        case concurrentEdit = "concurrent_edit"
        /// A status event was illegal at its point in the fold and was ignored.
        case statusIgnored = "status_ignored"
        /// A dispatcher's cancel met work on site; the work was kept.
        case cancelVersusWork = "cancel_vs_work"
        /// A reassignment met work on site; the crew on site kept the order.
        case reassignDuringWork = "reassign_during_work"
        /// The previous assignee worked offline after the order was reassigned; kept as
        /// history.
        case reassignedWhileOffline = "reassigned_while_offline"
        /// A signed-for fact was changed by an event that sorts after the sign-off; the
        /// signed version was kept.
        case frozenBySignOff = "frozen_by_sign_off"
    }

    /// One side of a conflict.
    public struct Side: Codable, Hashable, Sendable {
        public var value: String?
        public var actor: String
        public var device: String
        public var opId: String
        public var occurredAt: Int64
    }

    /// Deterministic: the same events give the same id on every replica.
    public var id: String
    public var orderId: String
    public var field: String
    public var rule: Rule
    public var winner: Side
    public var loser: Side
    /// HLC physical time of the later of the two events.
    public var at: Int64
    public var message: String
}
