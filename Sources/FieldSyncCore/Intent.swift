/// One user action, recorded in the device's outbox in the same transaction that updates
/// its local view, and applied by the server with the same rules (DESIGN.md §3).
///
/// The client never ships "row X now looks like Y": it ships what the person did.
public struct Intent: Codable, Hashable, Sendable {
    /// Unique id of the action (a UUID string).
    public var opId: String
    /// The device that recorded it.
    public var deviceId: String
    /// Gap-free per device, starting at 1: the exactly-once key with `deviceId`.
    public var deviceSeq: Int64
    /// The user who acted (the server checks it against the bearer token).
    public var actor: String
    public var role: Role
    /// Orders every event of every device; see ``HLC``.
    public var hlc: HLC
    /// The device's wall-clock time of the event in milliseconds: when it happened on
    /// site, not when it synced.
    public var occurredAt: Int64
    public var orderId: String
    /// The `opId` of the order's `create` the author built on (nil for a `create`, and in
    /// intents recorded before this field existed). Order ids are chosen offline, so two
    /// desks can open different orders under one id; an intent naming another create than
    /// the one the order was opened with is refused (`order_id_taken`) and never folded,
    /// so one desk's actions can never reach another customer's order.
    public var createOp: String?
    public var action: Action
    /// Set by the server when the device's clock lay in the server's future beyond the
    /// tolerance: `hlc` and `occurredAt` were clamped and the original time is kept here.
    public var clampedFrom: Int64?

    public init(
        opId: String, deviceId: String, deviceSeq: Int64, actor: String, role: Role, hlc: HLC,
        occurredAt: Int64, orderId: String, createOp: String? = nil, action: Action,
        clampedFrom: Int64? = nil
    ) {
        self.opId = opId
        self.deviceId = deviceId
        self.deviceSeq = deviceSeq
        self.actor = actor
        self.role = role
        self.hlc = hlc
        self.occurredAt = occurredAt
        self.orderId = orderId
        self.createOp = createOp
        self.action = action
        self.clampedFrom = clampedFrom
    }
}

/// What an intent does to its order.
public enum Action: Hashable, Sendable {
    /// Opens an order (dispatcher). `fields` are the dispatcher-owned fields.
    case create(fields: [OrderField: String])
    /// Dispatches or re-dispatches to a technician (派单).
    case assign(technician: String)
    /// Moves the lifecycle; see ``OrderStatus``.
    case transition(to: OrderStatus, note: String?)
    /// Sets (or clears, with nil) one scalar field. `base` is the timestamp of the value
    /// the author saw, so a concurrent edit is detected and recorded as a conflict.
    case setField(field: OrderField, value: String?, base: HLC?)
    /// Appends a log, part, charge, photo or reading line.
    case append(ChildEntry)
    /// Voids a line appended before; the line stays in history.
    case void(childId: String, reason: String)
    /// The customer's sign-off of the work and bill (客户签字).
    case signOff(SignOff)
    /// A compensation request (赔偿); above the front-line limit it waits for approval.
    case requestCompensation(id: String, amountFen: Int, reason: String)
    /// Reopens a finished order, voiding its sign-off visibly (dispatcher).
    case reopen(reason: String)

    /// The wire name of the action (`kind` in JSON).
    public var kind: String {
        switch self {
        case .create: "create"
        case .assign: "assign"
        case .transition: "transition"
        case .setField: "set_field"
        case .append: "append"
        case .void: "void"
        case .signOff: "sign_off"
        case .requestCompensation: "request_compensation"
        case .reopen: "reopen"
        }
    }

    /// Every wire name, for error messages.
    public static let kinds = [
        "create", "assign", "transition", "set_field", "append", "void", "sign_off",
        "request_compensation", "reopen",
    ]
}

extension Action: Codable {
    private enum Keys: String, CodingKey {
        case kind, fields, technician, to, note, field, value, base, child, childId, reason
        case signOff, id, amountFen
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let kind = try c.decode(String.self, forKey: .kind)
        switch kind {
        case "create":
            let raw = try c.decode([String: String].self, forKey: .fields)
            var fields: [OrderField: String] = [:]
            for (key, value) in raw {
                guard let field = OrderField(rawValue: key) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .fields, in: c, debugDescription: "unknown field '\(key)'")
                }
                fields[field] = value
            }
            self = .create(fields: fields)
        case "assign": self = .assign(technician: try c.decode(String.self, forKey: .technician))
        case "transition":
            self = .transition(
                to: try c.decode(OrderStatus.self, forKey: .to),
                note: try c.decodeIfPresent(String.self, forKey: .note))
        case "set_field":
            self = .setField(
                field: try c.decode(OrderField.self, forKey: .field),
                value: try c.decodeIfPresent(String.self, forKey: .value),
                base: try c.decodeIfPresent(HLC.self, forKey: .base))
        case "append": self = .append(try c.decode(ChildEntry.self, forKey: .child))
        case "void":
            self = .void(
                childId: try c.decode(String.self, forKey: .childId),
                reason: try c.decode(String.self, forKey: .reason))
        case "sign_off": self = .signOff(try c.decode(SignOff.self, forKey: .signOff))
        case "request_compensation":
            self = .requestCompensation(
                id: try c.decode(String.self, forKey: .id),
                amountFen: try c.decode(Int.self, forKey: .amountFen),
                reason: try c.decode(String.self, forKey: .reason))
        case "reopen": self = .reopen(reason: try c.decode(String.self, forKey: .reason))
        default:
            throw UnknownIntentKind(kind: kind)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(kind, forKey: .kind)
        switch self {
        case .create(let fields):
            try c.encode(
                Dictionary(uniqueKeysWithValues: fields.map { ($0.key.rawValue, $0.value) }),
                forKey: .fields)
        case .assign(let technician): try c.encode(technician, forKey: .technician)
        case .transition(let to, let note):
            try c.encode(to, forKey: .to)
            try c.encodeIfPresent(note, forKey: .note)
        case .setField(let field, let value, let base):
            try c.encode(field, forKey: .field)
            try c.encodeIfPresent(value, forKey: .value)
            try c.encodeIfPresent(base, forKey: .base)
        case .append(let child): try c.encode(child, forKey: .child)
        case .void(let childId, let reason):
            try c.encode(childId, forKey: .childId)
            try c.encode(reason, forKey: .reason)
        case .signOff(let signOff): try c.encode(signOff, forKey: .signOff)
        case .requestCompensation(let id, let amountFen, let reason):
            try c.encode(id, forKey: .id)
            try c.encode(amountFen, forKey: .amountFen)
            try c.encode(reason, forKey: .reason)
        case .reopen(let reason): try c.encode(reason, forKey: .reason)
        }
    }
}

/// A push carried an intent kind this build does not know.
public struct UnknownIntentKind: Error, CustomStringConvertible {
    public var kind: String
    public var description: String {
        "unknown intent kind '\(kind)': expected one of \(Action.kinds.joined(separator: ", "))"
    }
}

/// The customer's sign-off: evidence tied to exactly what was signed.
public struct SignOff: Codable, Hashable, Sendable {
    public var signerName: String
    /// "customer" or the representative's relation (e.g. "property manager").
    public var signerRole: String
    /// SHA-256 (hex) of the signature image.
    public var signatureDigest: String
    /// 1 (very dissatisfied) … 5 (very satisfied).
    public var rating: Int
    public var comment: String?
    public var signedAt: Int64
    /// SHA-256 (hex) of ``SignOffContent/canonicalEncoding`` at the time of signing.
    public var contentHash: String

    public init(
        signerName: String, signerRole: String, signatureDigest: String, rating: Int,
        comment: String?, signedAt: Int64, contentHash: String
    ) {
        self.signerName = signerName
        self.signerRole = signerRole
        self.signatureDigest = signatureDigest
        self.rating = rating
        self.comment = comment
        self.signedAt = signedAt
        self.contentHash = contentHash
    }
}
