/// The push's answer written with ``JSONWriter`` (the same bytes as sorted-key
/// `JSONEncoder`): a 500-intent answer carries every stored intent again.
extension PushOutcome {
    /// `stored` is left out when `includeStored` is false: the `outcomes` table keeps the
    /// outcome without it (the event row holds it).
    public func write(to out: inout JSONWriter, includeStored: Bool = true) {
        out.beginObject()
        out.key("conflicts")
        out.beginArray()
        for id in conflicts { out.string(id) }
        out.endArray()
        out.member("deviceSeq", deviceSeq)
        out.member("duplicate", duplicate)
        out.member("opId", opId)
        if let rejection {
            out.key("rejection")
            rejection.write(to: &out)
        }
        out.member("result", result.rawValue)
        if includeStored, let stored {
            out.key("stored")
            stored.write(to: &out)
        }
        out.endObject()
    }
}

extension Rejection {
    public func write(to out: inout JSONWriter) {
        out.beginObject()
        out.member("code", code.rawValue)
        out.member("message", message)
        out.endObject()
    }
}

extension PushResponse {
    public func write(to out: inout JSONWriter) {
        out.beginObject()
        out.member("nextSeq", nextSeq)
        out.key("outcomes")
        out.beginArray()
        for outcome in outcomes { outcome.write(to: &out) }
        out.endArray()
        out.key("serverHLC")
        serverHLC.write(to: &out)
        out.endObject()
    }
}
