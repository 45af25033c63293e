/// Intents and push requests read with ``JSONReader``: the value `JSONDecoder` would give,
/// or a ``JSONReader/Failure`` for anything unusual (then `JSONDecoder` reads it).
extension PushRequest {
    public init(json bytes: [UInt8]) throws {
        self = try JSONReader.read(bytes) { r in
            var deviceId: String?
            var intents: [Intent]?
            try r.object { r, key in
                switch key {
                case "deviceId": deviceId = try r.string()
                case "intents": intents = try r.list { try Intent(reading: &$0) }
                default: try r.skip()
                }
            }
            guard let deviceId else { throw r.missing("deviceId") }
            guard let intents else { throw r.missing("intents") }
            return PushRequest(deviceId: deviceId, intents: intents)
        }
    }
}

extension Intent {
    public init(json bytes: [UInt8]) throws {
        self = try JSONReader.read(bytes) { try Intent(reading: &$0) }
    }

    public init(reading r: inout JSONReader) throws {
        var opId: String?, deviceId: String?, deviceSeq: Int64?, actor: String?, role: Role?
        var hlc: HLC?, occurredAt: Int64?, orderId: String?, createOp: String?, action: Action?
        var clampedFrom: Int64?
        try r.object { r, key in
            switch key {
            case "opId": opId = try r.string()
            case "deviceId": deviceId = try r.string()
            case "deviceSeq": deviceSeq = try r.int64()
            case "actor": actor = try r.string()
            case "role": role = try r.raw(Role.self)
            case "hlc": hlc = try HLC(reading: &r)
            case "occurredAt": occurredAt = try r.int64()
            case "orderId": orderId = try r.string()
            case "createOp": createOp = try r.optionalString()
            case "action": action = try Action(reading: &r)
            case "clampedFrom": clampedFrom = try r.optionalInt64()
            default: try r.skip()
            }
        }
        guard let opId, let deviceId, let deviceSeq, let actor, let role, let hlc, let occurredAt, let orderId,
              let action
        else { throw r.missing("a member of Intent") }
        self.init(
            opId: opId, deviceId: deviceId, deviceSeq: deviceSeq, actor: actor, role: role, hlc: hlc,
            occurredAt: occurredAt, orderId: orderId, createOp: createOp, action: action, clampedFrom: clampedFrom)
    }
}

extension HLC {
    public init(reading r: inout JSONReader) throws {
        var physical: Int64?, logical: Int32?, device: String?
        try r.object { r, key in
            switch key {
            case "physical": physical = try r.int64()
            case "logical": logical = try r.int32()
            case "device": device = try r.string()
            default: try r.skip()
            }
        }
        guard let physical, let logical, let device else { throw r.missing("a member of HLC") }
        self.init(physical: physical, logical: logical, device: device)
    }
}

extension Action {
    /// Every member is read by its key's one type; the kind then picks the members it
    /// needs. (A member of another kind with an odd type fails over to `JSONDecoder`,
    /// which ignores it.)
    public init(reading r: inout JSONReader) throws {
        var kind: String?, fields: [OrderField: String]?, technician: String?, to: OrderStatus?
        var note: String?, field: OrderField?, value: String?, base: HLC?, child: ChildEntry?
        var childId: String?, reason: String?, signOff: SignOff?, id: String?, amountFen: Int?
        try r.object { r, key in
            switch key {
            case "kind": kind = try r.string()
            case "fields":
                var out: [OrderField: String] = [:]
                try r.object { r, name in
                    guard let field = OrderField(rawValue: name) else { throw r.fail("unknown field \(name)") }
                    out[field] = try r.string()
                }
                fields = out
            case "technician": technician = try r.string()
            case "to": to = try r.raw(OrderStatus.self)
            case "note": note = try r.optionalString()
            case "field": field = try r.raw(OrderField.self)
            case "value": value = try r.optionalString()
            case "base": base = r.null() ? nil : try HLC(reading: &r)
            case "child": child = try ChildEntry(reading: &r)
            case "childId": childId = try r.string()
            case "reason": reason = try r.string()
            case "signOff": signOff = try SignOff(reading: &r)
            case "id": id = try r.string()
            case "amountFen": amountFen = try r.int()
            default: try r.skip()
            }
        }
        func need<T>(_ value: T?) throws -> T {
            guard let value else { throw r.missing("a member of \(kind ?? "an action")") }
            return value
        }
        switch kind {
        case "create": self = .create(fields: try need(fields))
        case "assign": self = .assign(technician: try need(technician))
        case "transition": self = .transition(to: try need(to), note: note)
        case "set_field": self = .setField(field: try need(field), value: value, base: base)
        case "append": self = .append(try need(child))
        case "void": self = .void(childId: try need(childId), reason: try need(reason))
        case "sign_off": self = .signOff(try need(signOff))
        case "request_compensation":
            self = .requestCompensation(id: try need(id), amountFen: try need(amountFen), reason: try need(reason))
        case "reopen": self = .reopen(reason: try need(reason))
        default: throw r.fail("unknown kind")
        }
    }
}

extension ChildEntry {
    public init(reading r: inout JSONReader) throws {
        var id: String?, kind: Kind?, text: String?, code: String?, quantity: Int?, amountFen: Int?
        var digest: String?, value: String?, unit: String?
        try r.object { r, key in
            switch key {
            case "id": id = try r.string()
            case "kind": kind = try r.raw(Kind.self)
            case "text": text = try r.string()
            case "code": code = try r.optionalString()
            case "quantity": quantity = try r.optionalInt()
            case "amountFen": amountFen = try r.optionalInt()
            case "digest": digest = try r.optionalString()
            case "value": value = try r.optionalString()
            case "unit": unit = try r.optionalString()
            default: try r.skip()
            }
        }
        guard let id, let kind, let text else { throw r.missing("a member of ChildEntry") }
        self.init(
            id: id, kind: kind, text: text, code: code, quantity: quantity, amountFen: amountFen, digest: digest,
            value: value, unit: unit)
    }
}

extension SignOff {
    public init(reading r: inout JSONReader) throws {
        var signerName: String?, signerRole: String?, signatureDigest: String?, rating: Int?
        var comment: String?, signedAt: Int64?, contentHash: String?
        try r.object { r, key in
            switch key {
            case "signerName": signerName = try r.string()
            case "signerRole": signerRole = try r.string()
            case "signatureDigest": signatureDigest = try r.string()
            case "rating": rating = try r.int()
            case "comment": comment = try r.optionalString()
            case "signedAt": signedAt = try r.int64()
            case "contentHash": contentHash = try r.string()
            default: try r.skip()
            }
        }
        guard let signerName, let signerRole, let signatureDigest, let rating, let signedAt, let contentHash else {
            throw r.missing("a member of SignOff")
        }
        self.init(
            signerName: signerName, signerRole: signerRole, signatureDigest: signatureDigest, rating: rating,
            comment: comment, signedAt: signedAt, contentHash: contentHash)
    }
}
