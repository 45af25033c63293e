/// Why an intent was refused. Stored with the outcome and shown to the technician.
public struct Rejection: Error, Codable, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Codable, Sendable {
        case unknownOrder = "unknown_order"
        case orderExists = "order_exists"
        case notOwner = "not_owner"
        case invalidValue = "invalid_value"
        case signed
        case signOffMismatch = "sign_off_mismatch"
        case unknownChild = "unknown_child"
        case duplicateChild = "duplicate_child"
        /// Kept for stored outcomes of older releases; a technician now gets
        /// `unknown_order` for an order outside his scope, so ids cannot be probed.
        case outOfScope = "out_of_scope"
        /// The intent built on a `create` other than the one the order was opened with:
        /// another desk took the id first.
        case orderIdTaken = "order_id_taken"
        case notAllowedNow = "not_allowed_now"
        case wrongActor = "wrong_actor"
        /// An `assign` to a name that is not an existing, enabled technician (checked by
        /// the server against its users; the message names the closest names).
        case unknownTechnician = "unknown_technician"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// The acceptance rules every intent passes before it joins the order's event set.
///
/// The server runs them against its state when the intent arrives; the CLI runs them
/// against the local view before recording, so a technician hears "no" at once.
/// Lifecycle legality is *not* a rejection: an illegal status event is kept and ignored by
/// the fold (DESIGN.md §4); the CLI checks it separately before recording.
public enum IntentCheck {
    public static func rejection(for intent: Intent, order: WorkOrder?) -> Rejection? {
        if case .create(let fields) = intent.action {
            if order != nil {
                return Rejection(
                    .orderExists,
                    "order id \(intent.orderId) is taken by another order (another desk opened it first); open yours again under a new id with `fieldsync dispatch recreate \(intent.orderId)`")
            }
            guard intent.role == .dispatcher else {
                return Rejection(.notOwner, "only a dispatcher opens orders")
            }
            if intent.orderId.isEmpty || intent.orderId.utf8.count > 64 {
                return Rejection(.invalidValue, "an order id must be 1 to 64 characters")
            }
            for required in [OrderField.kind, .urgency, .customerName, .address] where fields[required] == nil {
                return Rejection(.invalidValue, "\(required.rawValue) is required to open an order")
            }
            for (field, value) in fields.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                if field.owner != .dispatcher {
                    return Rejection(.notOwner, "\(field.rawValue) is recorded by the technician on site")
                }
                if let problem = field.problem(with: value) { return Rejection(.invalidValue, problem) }
            }
            return nil
        }
        // Outside a technician's scope, an order that exists and one that does not get the
        // same answer: a technician cannot probe which order ids exist.
        guard let order,
              intent.role != .technician || intent.actor == order.assignee
                || order.formerAssignees.contains(intent.actor)
        else {
            return unknownOrder(intent.orderId, role: intent.role)
        }
        if let base = intent.createOp, let opened = order.createOpId, base != opened {
            return Rejection(
                .orderIdTaken,
                "order id \(order.id) was taken by another desk's order before yours reached the server, so your order was refused; open it again under a new id with `fieldsync dispatch recreate \(order.id)`")
        }
        switch intent.action {
        case .create:
            return nil
        case .assign(let technician):
            if intent.role != .dispatcher { return Rejection(.notOwner, "only a dispatcher assigns orders") }
            if technician.trimmingWhitespace.isEmpty {
                return Rejection(.invalidValue, "name the technician to assign")
            }
        case .transition(let target, let note):
            if target == .assigned || target == .open || target == .signedOff {
                let how = target == .signedOff ? "`fieldsync signoff`" : "`fieldsync dispatch assign`"
                return Rejection(.invalidValue, "\(target.rawValue) is reached with \(how), not a status change")
            }
            if target.owner != intent.role {
                return Rejection(.notOwner, "a \(intent.role.rawValue) cannot move an order to \(target.rawValue)")
            }
            if let note, note.utf8.count > 4000 { return Rejection(.invalidValue, "the note is longer than 4000 bytes") }
        case .setField(let field, let value, _):
            if field.owner != intent.role {
                return Rejection(.notOwner, "\(field.rawValue) belongs to the \(field.owner.rawValue)")
            }
            if let problem = field.problem(with: value) { return Rejection(.invalidValue, problem) }
            if order.signOff != nil && field.coveredBySignOff {
                return Rejection(.signed, "\(field.rawValue) was signed for by the customer; a dispatcher must reopen the order first")
            }
        case .append(let entry):
            if !entry.allowed(for: intent.role) {
                return Rejection(.notOwner, "\(entry.kind.rawValue) lines are recorded by the technician")
            }
            if let problem = entry.problem { return Rejection(.invalidValue, problem) }
            if let existing = order.children.first(where: { $0.entry.id == entry.id }),
               existing.entry != entry
            {
                return Rejection(.duplicateChild, "line id \(entry.id) is taken by another line")
            }
            if order.signOff != nil && entry.coveredBySignOff {
                return Rejection(.signed, "the bill was signed for by the customer; a dispatcher must reopen the order first")
            }
        case .void(let childId, let reason):
            guard let target = order.children.first(where: { $0.entry.id == childId }) else {
                return Rejection(.unknownChild, "order \(order.id) has no line \(childId)")
            }
            if !target.entry.allowed(for: intent.role) {
                return Rejection(.notOwner, "\(target.entry.kind.rawValue) lines are voided by the technician")
            }
            if reason.trimmingWhitespace.isEmpty { return Rejection(.invalidValue, "say why the line is void") }
            if order.signOff != nil && target.entry.coveredBySignOff && target.voided == nil {
                return Rejection(.signed, "the line was signed for by the customer; a dispatcher must reopen the order first")
            }
        case .signOff(let signOff):
            if intent.role != .technician {
                return Rejection(.notOwner, "the sign-off is taken on site by the technician")
            }
            if signOff.signerName.trimmingWhitespace.isEmpty {
                return Rejection(.invalidValue, "the signer's name is required")
            }
            if !(1...5).contains(signOff.rating) { return Rejection(.invalidValue, "rating must be 1 to 5") }
            if signOff.signatureDigest.count != 64 || !signOff.signatureDigest.allSatisfy(\.isHexDigit) {
                return Rejection(.invalidValue, "the signature digest must be 64 hex characters")
            }
            if order.status != .completed {
                return Rejection(.notAllowedNow, "a sign-off needs a completed order; it is \(order.status.rawValue)")
            }
            if SignOffContent.hash(of: order) != signOff.contentHash {
                return Rejection(.signOffMismatch, "the signed content does not match the order; show the customer the current bill and sign again")
            }
        case .requestCompensation(let id, let amountFen, let reason):
            if id.isEmpty { return Rejection(.invalidValue, "a compensation request needs an id") }
            if amountFen <= 0 || amountFen > 100_000_000 {
                return Rejection(.invalidValue, "the amount must be from 0.01 to 1000000 yuan")
            }
            if reason.trimmingWhitespace.isEmpty { return Rejection(.invalidValue, "say why compensation is due") }
        case .reopen(let reason):
            if intent.role != .dispatcher { return Rejection(.notOwner, "only a dispatcher reopens orders") }
            if !order.status.canReopen {
                return Rejection(.notAllowedNow, "an order that is \(order.status.rawValue) cannot be reopened")
            }
            if reason.trimmingWhitespace.isEmpty { return Rejection(.invalidValue, "say why the order is reopened") }
        }
        return nil
    }

    /// The one answer for an order the actor may not see or that does not exist.
    public static func unknownOrder(_ id: String, role: Role) -> Rejection {
        Rejection(
            .unknownOrder,
            role == .technician
                ? "no order \(id) among your orders: check the id with `fieldsync jobs` (sync first if it was just assigned)"
                : "no order \(id): check the id with `fieldsync dispatch board`")
    }
}
