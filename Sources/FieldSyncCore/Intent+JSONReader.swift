/// Intents and push requests read with ``JSONReader``: the value `JSONDecoder` would give,
/// or a ``JSONReader/Failure`` for anything unusual (then `JSONDecoder` reads it). The
/// server reads pushes and stored events so, the device the events of its pull pages
/// (``PullPageDecoder``) and its stored events.
///
/// These readers check repeated keys themselves (``JSONReader/once(_:)``): a member that
/// may be `null` is held as a double optional, so a `null` read counts as read.
extension PushRequest {
    public init(json bytes: [UInt8]) throws {
        self = try JSONReader.read(bytes) { r in
            var deviceId: String?
            var intents: [Intent]?
            try r.object(checkingRepeats: false) { r, key in
                switch key {
                case "deviceId": try r.once(deviceId); deviceId = try r.string()
                case "intents": try r.once(intents); intents = try r.list { try Intent(reading: &$0) }
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
        var hlc: HLC?, occurredAt: Int64?, orderId: String?, createOp: String??, action: Action?
        var clampedFrom: Int64??
        try r.object(checkingRepeats: false) { r, key in
            switch key {
            case "opId": try r.once(opId); opId = try r.string()
            case "deviceId": try r.once(deviceId); deviceId = try r.string()
            case "deviceSeq": try r.once(deviceSeq); deviceSeq = try r.int64()
            case "actor": try r.once(actor); actor = try r.string()
            case "role": try r.once(role); role = try r.raw(Role.self)
            case "hlc": try r.once(hlc); hlc = try HLC(reading: &r)
            case "occurredAt": try r.once(occurredAt); occurredAt = try r.int64()
            case "orderId": try r.once(orderId); orderId = try r.string()
            case "createOp": try r.once(createOp); createOp = .some(try r.optionalString())
            case "action": try r.once(action); action = try Action(reading: &r)
            case "clampedFrom": try r.once(clampedFrom); clampedFrom = .some(try r.optionalInt64())
            default: try r.skip()
            }
        }
        guard let opId, let deviceId, let deviceSeq, let actor, let role, let hlc, let occurredAt, let orderId,
              let action
        else { throw r.missing("a member of Intent") }
        self.init(
            opId: opId, deviceId: deviceId, deviceSeq: deviceSeq, actor: actor, role: role, hlc: hlc,
            occurredAt: occurredAt, orderId: orderId, createOp: createOp ?? nil, action: action,
            clampedFrom: clampedFrom ?? nil)
    }
}

extension HLC {
    public init(reading r: inout JSONReader) throws {
        var physical: Int64?, logical: Int32?, device: String?
        try r.object(checkingRepeats: false) { r, key in
            switch key {
            case "physical": try r.once(physical); physical = try r.int64()
            case "logical": try r.once(logical); logical = try r.int32()
            case "device": try r.once(device); device = try r.string()
            default: try r.skip()
            }
        }
        guard let physical, let logical, let device else { throw r.missing("a member of HLC") }
        self.init(physical: physical, logical: logical, device: device)
    }
}

extension Action {
    /// The members an action's kinds read, each by one kind or more.
    private enum Member: Int {
        case fields, technician, to, note, field, value, base, child, childId, reason, signOff, id, amountFen

        init?(_ key: JSONReader.Key) {
            switch key {
            case "fields": self = .fields
            case "technician": self = .technician
            case "to": self = .to
            case "note": self = .note
            case "field": self = .field
            case "value": self = .value
            case "base": self = .base
            case "child": self = .child
            case "childId": self = .childId
            case "reason": self = .reason
            case "signOff": self = .signOff
            case "id": self = .id
            case "amountFen": self = .amountFen
            default: return nil
            }
        }
    }

    /// Where each member's value starts is noted first, then the values are read as the
    /// kind needs them, so a member the kind does not read is ignored whatever it holds
    /// (as `Action.init(from:)` ignores it).
    public init(reading r: inout JSONReader) throws {
        var kind: String?
        var at = InlineArray<13, Int>(repeating: -1)  // by Member; -1: absent
        try r.object(checkingRepeats: false) { r, key in
            if key == "kind" {
                try r.once(kind)
                kind = try r.string()
                return
            }
            if let member = Member(key) {
                guard at[member.rawValue] < 0 else { throw r.fail("a key twice") }
                r.skipSpace()
                at[member.rawValue] = r.index
            }
            try r.skip()
        }
        guard let kind else { throw r.missing("kind") }
        let end = r.index
        defer { r.index = end }
        func value<T>(_ member: Member, _ read: (inout JSONReader) throws -> T) throws -> T {
            guard at[member.rawValue] >= 0 else { throw r.missing("\(member) of \(kind)") }
            r.index = at[member.rawValue]
            return try read(&r)
        }
        func optional<T>(_ member: Member, _ read: (inout JSONReader) throws -> T) throws -> T? {
            guard at[member.rawValue] >= 0 else { return nil }
            r.index = at[member.rawValue]
            return r.null() ? nil : try read(&r)
        }
        switch kind {
        case "create": self = .create(fields: try value(.fields) { try $0.orderFields() })
        case "assign": self = .assign(technician: try value(.technician) { try $0.string() })
        case "transition":
            self = .transition(
                to: try value(.to) { try $0.raw(OrderStatus.self) }, note: try optional(.note) { try $0.string() })
        case "set_field":
            self = .setField(
                field: try value(.field) { try $0.raw(OrderField.self) },
                value: try optional(.value) { try $0.string() },
                base: try optional(.base) { try HLC(reading: &$0) })
        case "append": self = .append(try value(.child) { try ChildEntry(reading: &$0) })
        case "void":
            self = .void(childId: try value(.childId) { try $0.string() }, reason: try value(.reason) { try $0.string() })
        case "sign_off": self = .signOff(try value(.signOff) { try SignOff(reading: &$0) })
        case "request_compensation":
            self = .requestCompensation(
                id: try value(.id) { try $0.string() }, amountFen: try value(.amountFen) { try $0.int() },
                reason: try value(.reason) { try $0.string() })
        case "reopen": self = .reopen(reason: try value(.reason) { try $0.string() })
        default: throw r.fail("unknown kind")  // JSONDecoder throws UnknownIntentKind with the name
        }
    }
}

extension JSONReader {
    /// A create's fields: every key must be a field's name.
    ///
    /// A first sync reads nine per order: each key is matched as bytes against the fields'
    /// names (``OrderField/wireNames``) and the values are kept by field, so no key becomes
    /// a `String` and no dictionary grows while they are read.
    fileprivate mutating func orderFields() throws -> [OrderField: String] {
        var values = [String?](repeating: nil, count: OrderField.allCases.count)
        var count = 0
        try object(checkingRepeats: false) { r, key in
            guard let n = key.index(in: OrderField.wireNames), values[n] == nil else {
                throw r.fail("unknown or repeated field \(key.string)")
            }
            values[n] = try r.string()
            count += 1
        }
        var fields = [OrderField: String](minimumCapacity: count)
        for (field, value) in zip(OrderField.allCases, values) where value != nil {
            fields[field] = value
        }
        return fields
    }
}

extension ChildEntry {
    public init(reading r: inout JSONReader) throws {
        var id: String?, kind: Kind?, text: String?, code: String??, quantity: Int??, amountFen: Int??
        var digest: String??, value: String??, unit: String??
        try r.object(checkingRepeats: false) { r, key in
            switch key {
            case "id": try r.once(id); id = try r.string()
            case "kind": try r.once(kind); kind = try r.raw(Kind.self)
            case "text": try r.once(text); text = try r.string()
            case "code": try r.once(code); code = .some(try r.optionalString())
            case "quantity": try r.once(quantity); quantity = .some(try r.optionalInt())
            case "amountFen": try r.once(amountFen); amountFen = .some(try r.optionalInt())
            case "digest": try r.once(digest); digest = .some(try r.optionalString())
            case "value": try r.once(value); value = .some(try r.optionalString())
            case "unit": try r.once(unit); unit = .some(try r.optionalString())
            default: try r.skip()
            }
        }
        guard let id, let kind, let text else { throw r.missing("a member of ChildEntry") }
        self.init(
            id: id, kind: kind, text: text, code: code ?? nil, quantity: quantity ?? nil, amountFen: amountFen ?? nil,
            digest: digest ?? nil, value: value ?? nil, unit: unit ?? nil)
    }
}

extension SignOff {
    public init(reading r: inout JSONReader) throws {
        var signerName: String?, signerRole: String?, signatureDigest: String?, rating: Int?
        var comment: String??, signedAt: Int64?, contentHash: String?
        try r.object(checkingRepeats: false) { r, key in
            switch key {
            case "signerName": try r.once(signerName); signerName = try r.string()
            case "signerRole": try r.once(signerRole); signerRole = try r.string()
            case "signatureDigest": try r.once(signatureDigest); signatureDigest = try r.string()
            case "rating": try r.once(rating); rating = try r.int()
            case "comment": try r.once(comment); comment = .some(try r.optionalString())
            case "signedAt": try r.once(signedAt); signedAt = try r.int64()
            case "contentHash": try r.once(contentHash); contentHash = try r.string()
            default: try r.skip()
            }
        }
        guard let signerName, let signerRole, let signatureDigest, let rating, let signedAt, let contentHash else {
            throw r.missing("a member of SignOff")
        }
        self.init(
            signerName: signerName, signerRole: signerRole, signatureDigest: signatureDigest, rating: rating,
            comment: comment ?? nil, signedAt: signedAt, contentHash: contentHash)
    }
}
