/// Intents written with ``JSONWriter``: the same bytes as `JSONEncoder` with sorted keys,
/// without its cost (the server writes every pushed intent once for its digest and row).
extension Intent {
    /// The intent's JSON, as ``StoredJSON``-style sorted-key `JSONEncoder` output.
    public var jsonText: String {
        var out = JSONWriter(capacity: 512)
        write(to: &out)
        return out.text
    }

    public func write(to out: inout JSONWriter) {
        out.beginObject()
        out.key("action")
        action.write(to: &out)
        out.member("actor", actor)
        out.member("clampedFrom", ifPresent: clampedFrom)
        out.member("createOp", ifPresent: createOp)
        out.member("deviceId", deviceId)
        out.member("deviceSeq", deviceSeq)
        out.key("hlc")
        hlc.write(to: &out)
        out.member("occurredAt", occurredAt)
        out.member("opId", opId)
        out.member("orderId", orderId)
        out.member("role", role.rawValue)
        out.endObject()
    }
}

extension HLC {
    public func write(to out: inout JSONWriter) {
        out.beginObject()
        out.member("device", device)
        out.member("logical", logical)
        out.member("physical", physical)
        out.endObject()
    }
}

extension Action {
    public func write(to out: inout JSONWriter) {
        out.beginObject()
        switch self {
        case .create(let fields):
            out.key("fields")
            out.beginObject()
            for (field, value) in fields.sorted(by: { $0.key.rawValue.utf8.lexicographicallyPrecedes($1.key.rawValue.utf8) }) {
                out.key(field.rawValue)
                out.string(value)
            }
            out.endObject()
            out.member("kind", "create")
        case .assign(let technician):
            out.member("kind", "assign")
            out.member("technician", technician)
        case .transition(let to, let note):
            out.member("kind", "transition")
            out.member("note", ifPresent: note)
            out.member("to", to.rawValue)
        case .setField(let field, let value, let base):
            if let base {
                out.key("base")
                base.write(to: &out)
            }
            out.member("field", field.rawValue)
            out.member("kind", "set_field")
            out.member("value", ifPresent: value)
        case .append(let child):
            out.key("child")
            child.write(to: &out)
            out.member("kind", "append")
        case .void(let childId, let reason):
            out.member("childId", childId)
            out.member("kind", "void")
            out.member("reason", reason)
        case .signOff(let signOff):
            out.member("kind", "sign_off")
            out.key("signOff")
            signOff.write(to: &out)
        case .requestCompensation(let id, let amountFen, let reason):
            out.member("amountFen", amountFen)
            out.member("id", id)
            out.member("kind", "request_compensation")
            out.member("reason", reason)
        case .reopen(let reason):
            out.member("kind", "reopen")
            out.member("reason", reason)
        }
        out.endObject()
    }
}

extension ChildEntry {
    public func write(to out: inout JSONWriter) {
        out.beginObject()
        out.member("amountFen", ifPresent: amountFen)
        out.member("code", ifPresent: code)
        out.member("digest", ifPresent: digest)
        out.member("id", id)
        out.member("kind", kind.rawValue)
        out.member("quantity", ifPresent: quantity)
        out.member("text", text)
        out.member("unit", ifPresent: unit)
        out.member("value", ifPresent: value)
        out.endObject()
    }
}

extension SignOff {
    public func write(to out: inout JSONWriter) {
        out.beginObject()
        out.member("comment", ifPresent: comment)
        out.member("contentHash", contentHash)
        out.member("rating", rating)
        out.member("signatureDigest", signatureDigest)
        out.member("signedAt", signedAt)
        out.member("signerName", signerName)
        out.member("signerRole", signerRole)
        out.endObject()
    }
}
