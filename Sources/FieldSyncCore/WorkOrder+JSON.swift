/// The order's fold written with ``JSONWriter``: what the server stores as `orders.state`
/// after every push that touches the order, in the bytes `JSONEncoder` would write.
extension WorkOrder {
    public var jsonText: String {
        var out = JSONWriter(capacity: 2048)
        write(to: &out)
        return out.text
    }

    public func write(to out: inout JSONWriter) {
        out.beginObject()
        out.member("assignee", ifPresent: assignee)
        out.key("children")
        out.beginArray()
        for child in children { child.write(to: &out) }
        out.endArray()
        out.key("compensations")
        out.beginArray()
        for compensation in compensations { compensation.write(to: &out) }
        out.endArray()
        out.member("completedAt", ifPresent: completedAt)
        out.key("conflicts")
        out.beginArray()
        for conflict in conflicts { conflict.write(to: &out) }
        out.endArray()
        out.member("createOpId", ifPresent: createOpId)
        out.member("createdAt", createdAt)
        out.member("createdBy", createdBy)
        out.member("eventCount", eventCount)
        out.key("fields")
        out.beginObject()
        for name in JSONWriter.sortedKeys(fields) {
            out.key(name)
            fields[name]?.write(to: &out)
        }
        out.endObject()
        out.key("formerAssignees")
        out.beginArray()
        for name in formerAssignees { out.string(name) }
        out.endArray()
        out.key("history")
        out.beginArray()
        for entry in history { entry.write(to: &out) }
        out.endArray()
        out.member("id", id)
        out.key("lastHLC")
        lastHLC.write(to: &out)
        out.member("lastOpId", ifPresent: lastOpId)
        out.member("onSiteAt", ifPresent: onSiteAt)
        if let pendingVoids {
            out.key("pendingVoids")
            out.beginObject()
            for id in JSONWriter.sortedKeys(pendingVoids) {
                out.key(id)
                pendingVoids[id]?.write(to: &out)
            }
            out.endObject()
        }
        if let signOff {
            out.key("signOff")
            signOff.write(to: &out)
        }
        out.member("status", status.rawValue)
        out.key("voidedSignOffs")
        out.beginArray()
        for record in voidedSignOffs { record.write(to: &out) }
        out.endArray()
        out.endObject()
    }
}

extension FieldValue {
    public func write(to out: inout JSONWriter) {
        out.beginObject()
        out.member("actor", actor)
        out.key("hlc")
        hlc.write(to: &out)
        out.member("opId", opId)
        out.member("value", ifPresent: value)
        out.endObject()
    }
}

extension StatusEntry {
    public func write(to out: inout JSONWriter) {
        out.beginObject()
        out.member("actor", actor)
        out.member("assignee", ifPresent: assignee)
        out.member("clockClamped", clockClamped)
        out.member("device", device)
        out.member("effect", effect.rawValue)
        out.member("from", from.rawValue)
        out.key("hlc")
        hlc.write(to: &out)
        out.member("note", ifPresent: note)
        out.member("occurredAt", occurredAt)
        out.member("opId", opId)
        out.member("reason", ifPresent: reason)
        out.member("to", to.rawValue)
        out.endObject()
    }
}

extension ChildRecord {
    public func write(to out: inout JSONWriter) {
        out.beginObject()
        out.member("actor", actor)
        out.key("entry")
        entry.write(to: &out)
        out.member("history", history)
        out.key("hlc")
        hlc.write(to: &out)
        out.member("occurredAt", occurredAt)
        out.member("opId", opId)
        if let voided {
            out.key("voided")
            voided.write(to: &out)
        }
        out.endObject()
    }
}

extension VoidInfo {
    public func write(to out: inout JSONWriter) {
        out.beginObject()
        out.member("actor", actor)
        out.member("occurredAt", occurredAt)
        out.member("opId", opId)
        out.member("reason", reason)
        out.endObject()
    }
}

extension SignOffRecord {
    public func write(to out: inout JSONWriter) {
        out.beginObject()
        out.member("actor", actor)
        out.member("occurredAt", occurredAt)
        out.member("opId", opId)
        out.key("signOff")
        signOff.write(to: &out)
        out.member("voidReason", ifPresent: voidReason)
        out.member("voidedBy", ifPresent: voidedBy)
        out.endObject()
    }
}

extension Compensation {
    public func write(to out: inout JSONWriter) {
        out.beginObject()
        out.member("actor", actor)
        out.member("amountFen", amountFen)
        out.member("id", id)
        out.member("occurredAt", occurredAt)
        out.member("reason", reason)
        out.member("state", state.rawValue)
        out.endObject()
    }
}

extension Conflict {
    public var jsonText: String {
        var out = JSONWriter(capacity: 512)
        write(to: &out)
        return out.text
    }

    public func write(to out: inout JSONWriter) {
        out.beginObject()
        out.member("at", at)
        out.member("field", field)
        out.member("id", id)
        out.key("loser")
        loser.write(to: &out)
        out.member("message", message)
        out.member("orderId", orderId)
        out.member("rule", rule.rawValue)
        out.key("winner")
        winner.write(to: &out)
        out.endObject()
    }
}

extension Conflict.Side {
    public func write(to out: inout JSONWriter) {
        out.beginObject()
        out.member("actor", actor)
        out.member("device", device)
        out.member("occurredAt", occurredAt)
        out.member("opId", opId)
        out.member("value", ifPresent: value)
        out.endObject()
    }
}
