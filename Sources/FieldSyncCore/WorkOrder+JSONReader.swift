/// The stored fold read with ``JSONReader`` (the server reads it for every order a push
/// touches); a ``JSONReader/Failure`` means "read it with `JSONDecoder`".
extension WorkOrder {
    public init(json bytes: [UInt8]) throws {
        self = try JSONReader.read(bytes) { try WorkOrder(reading: &$0) }
    }

    public init(reading r: inout JSONReader) throws {
        var id: String?, createOpId: String?, createdAt: Int64?, createdBy: String?
        var fields: [String: FieldValue]?, assignee: String?, formerAssignees: [String]?, status: OrderStatus?
        var history: [StatusEntry]?, children: [ChildRecord]?, signOff: SignOffRecord?
        var voidedSignOffs: [SignOffRecord]?, compensations: [Compensation]?, conflicts: [Conflict]?
        var onSiteAt: Int64?, completedAt: Int64?, eventCount: Int?, lastHLC: HLC?, lastOpId: String?
        var pendingVoids: [String: VoidInfo]?
        try r.object { r, key in
            switch key {
            case "id": id = try r.string()
            case "createOpId": createOpId = try r.optionalString()
            case "createdAt": createdAt = try r.int64()
            case "createdBy": createdBy = try r.string()
            case "fields":
                var out: [String: FieldValue] = [:]
                try r.object { r, name in out[name.string] = try FieldValue(reading: &r) }
                fields = out
            case "assignee": assignee = try r.optionalString()
            case "formerAssignees": formerAssignees = try r.list { try $0.string() }
            case "status": status = try r.raw(OrderStatus.self)
            case "history": history = try r.list { try StatusEntry(reading: &$0) }
            case "children": children = try r.list { try ChildRecord(reading: &$0) }
            case "signOff": signOff = r.null() ? nil : try SignOffRecord(reading: &r)
            case "voidedSignOffs": voidedSignOffs = try r.list { try SignOffRecord(reading: &$0) }
            case "compensations": compensations = try r.list { try Compensation(reading: &$0) }
            case "conflicts": conflicts = try r.list { try Conflict(reading: &$0) }
            case "onSiteAt": onSiteAt = try r.optionalInt64()
            case "completedAt": completedAt = try r.optionalInt64()
            case "eventCount": eventCount = try r.int()
            case "lastHLC": lastHLC = try HLC(reading: &r)
            case "lastOpId": lastOpId = try r.optionalString()
            case "pendingVoids":
                if !r.null() {
                    var out: [String: VoidInfo] = [:]
                    try r.object { r, childId in out[childId.string] = try VoidInfo(reading: &r) }
                    pendingVoids = out
                }
            default: try r.skip()
            }
        }
        guard let id, let createdAt, let createdBy, let fields, let formerAssignees, let status, let history,
              let children, let voidedSignOffs, let compensations, let conflicts, let eventCount, let lastHLC
        else { throw r.missing("a member of WorkOrder") }
        self.id = id
        self.createOpId = createOpId
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.fields = fields
        self.assignee = assignee
        self.formerAssignees = formerAssignees
        self.status = status
        self.history = history
        self.children = children
        self.signOff = signOff
        self.voidedSignOffs = voidedSignOffs
        self.compensations = compensations
        self.conflicts = conflicts
        self.onSiteAt = onSiteAt
        self.completedAt = completedAt
        self.eventCount = eventCount
        self.lastHLC = lastHLC
        self.lastOpId = lastOpId
        self.pendingVoids = pendingVoids
    }
}

extension FieldValue {
    public init(reading r: inout JSONReader) throws {
        var value: String?, hlc: HLC?, actor: String?, opId: String?
        try r.object { r, key in
            switch key {
            case "value": value = try r.optionalString()
            case "hlc": hlc = try HLC(reading: &r)
            case "actor": actor = try r.string()
            case "opId": opId = try r.string()
            default: try r.skip()
            }
        }
        guard let hlc, let actor, let opId else { throw r.missing("a member of FieldValue") }
        self.init(value: value, hlc: hlc, actor: actor, opId: opId)
    }
}

extension StatusEntry {
    public init(reading r: inout JSONReader) throws {
        var opId: String?, from: OrderStatus?, to: OrderStatus?, actor: String?, device: String?
        var occurredAt: Int64?, hlc: HLC?, note: String?, assignee: String?, effect: Effect?, reason: String?
        var clockClamped: Bool?
        try r.object { r, key in
            switch key {
            case "opId": opId = try r.string()
            case "from": from = try r.raw(OrderStatus.self)
            case "to": to = try r.raw(OrderStatus.self)
            case "actor": actor = try r.string()
            case "device": device = try r.string()
            case "occurredAt": occurredAt = try r.int64()
            case "hlc": hlc = try HLC(reading: &r)
            case "note": note = try r.optionalString()
            case "assignee": assignee = try r.optionalString()
            case "effect": effect = try r.raw(Effect.self)
            case "reason": reason = try r.optionalString()
            case "clockClamped": clockClamped = try r.bool()
            default: try r.skip()
            }
        }
        guard let opId, let from, let to, let actor, let device, let occurredAt, let hlc, let effect, let clockClamped
        else { throw r.missing("a member of StatusEntry") }
        self.init(
            opId: opId, from: from, to: to, actor: actor, device: device, occurredAt: occurredAt, hlc: hlc,
            note: note, assignee: assignee, effect: effect, reason: reason, clockClamped: clockClamped)
    }
}

extension ChildRecord {
    public init(reading r: inout JSONReader) throws {
        var entry: ChildEntry?, actor: String?, opId: String?, occurredAt: Int64?, hlc: HLC?
        var voided: VoidInfo?, history: Bool?
        try r.object { r, key in
            switch key {
            case "entry": entry = try ChildEntry(reading: &r)
            case "actor": actor = try r.string()
            case "opId": opId = try r.string()
            case "occurredAt": occurredAt = try r.int64()
            case "hlc": hlc = try HLC(reading: &r)
            case "voided": voided = r.null() ? nil : try VoidInfo(reading: &r)
            case "history": history = try r.bool()
            default: try r.skip()
            }
        }
        guard let entry, let actor, let opId, let occurredAt, let hlc, let history else {
            throw r.missing("a member of ChildRecord")
        }
        self.init(entry: entry, actor: actor, opId: opId, occurredAt: occurredAt, hlc: hlc, voided: voided, history: history)
    }
}

extension VoidInfo {
    public init(reading r: inout JSONReader) throws {
        var actor: String?, opId: String?, reason: String?, occurredAt: Int64?
        try r.object { r, key in
            switch key {
            case "actor": actor = try r.string()
            case "opId": opId = try r.string()
            case "reason": reason = try r.string()
            case "occurredAt": occurredAt = try r.int64()
            default: try r.skip()
            }
        }
        guard let actor, let opId, let reason, let occurredAt else { throw r.missing("a member of VoidInfo") }
        self.init(actor: actor, opId: opId, reason: reason, occurredAt: occurredAt)
    }
}

extension SignOffRecord {
    public init(reading r: inout JSONReader) throws {
        var signOff: SignOff?, actor: String?, opId: String?, occurredAt: Int64?, voidedBy: String?
        var voidReason: String?
        try r.object { r, key in
            switch key {
            case "signOff": signOff = try SignOff(reading: &r)
            case "actor": actor = try r.string()
            case "opId": opId = try r.string()
            case "occurredAt": occurredAt = try r.int64()
            case "voidedBy": voidedBy = try r.optionalString()
            case "voidReason": voidReason = try r.optionalString()
            default: try r.skip()
            }
        }
        guard let signOff, let actor, let opId, let occurredAt else { throw r.missing("a member of SignOffRecord") }
        self.init(signOff: signOff, actor: actor, opId: opId, occurredAt: occurredAt, voidedBy: voidedBy, voidReason: voidReason)
    }
}

extension Compensation {
    public init(reading r: inout JSONReader) throws {
        var id: String?, amountFen: Int?, reason: String?, actor: String?, occurredAt: Int64?, state: State?
        try r.object { r, key in
            switch key {
            case "id": id = try r.string()
            case "amountFen": amountFen = try r.int()
            case "reason": reason = try r.string()
            case "actor": actor = try r.string()
            case "occurredAt": occurredAt = try r.int64()
            case "state": state = try r.raw(State.self)
            default: try r.skip()
            }
        }
        guard let id, let amountFen, let reason, let actor, let occurredAt, let state else {
            throw r.missing("a member of Compensation")
        }
        self.init(id: id, amountFen: amountFen, reason: reason, actor: actor, occurredAt: occurredAt, state: state)
    }
}

extension Conflict {
    public init(reading r: inout JSONReader) throws {
        var id: String?, orderId: String?, field: String?, rule: Rule?, winner: Side?, loser: Side?
        var at: Int64?, message: String?
        try r.object { r, key in
            switch key {
            case "id": id = try r.string()
            case "orderId": orderId = try r.string()
            case "field": field = try r.string()
            case "rule": rule = try r.raw(Rule.self)
            case "winner": winner = try Side(reading: &r)
            case "loser": loser = try Side(reading: &r)
            case "at": at = try r.int64()
            case "message": message = try r.string()
            default: try r.skip()
            }
        }
        guard let id, let orderId, let field, let rule, let winner, let loser, let at, let message else {
            throw r.missing("a member of Conflict")
        }
        self.init(id: id, orderId: orderId, field: field, rule: rule, winner: winner, loser: loser, at: at, message: message)
    }
}

extension Conflict.Side {
    public init(reading r: inout JSONReader) throws {
        var value: String?, actor: String?, device: String?, opId: String?, occurredAt: Int64?
        try r.object { r, key in
            switch key {
            case "value": value = try r.optionalString()
            case "actor": actor = try r.string()
            case "device": device = try r.string()
            case "opId": opId = try r.string()
            case "occurredAt": occurredAt = try r.int64()
            default: try r.skip()
            }
        }
        guard let actor, let device, let opId, let occurredAt else { throw r.missing("a member of Conflict.Side") }
        self.init(value: value, actor: actor, device: device, opId: opId, occurredAt: occurredAt)
    }
}
