/// A one-line account of why a JSON body did not decode, naming the field path, so the
/// 400 answer tells the client's author what to fix.
enum DecodingErrorText {
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field '\(path(context.codingPath + [key]))'"
        case .valueNotFound(let type, let context):
            return "null where \(type) is expected at '\(path(context.codingPath))'"
        case .typeMismatch(let type, let context):
            return "expected \(type) at '\(path(context.codingPath))': \(context.debugDescription)"
        case .dataCorrupted(let context):
            let at = context.codingPath.isEmpty ? "" : " at '\(path(context.codingPath))'"
            return "invalid JSON\(at): \(context.debugDescription)"
        @unknown default:
            return String(describing: error)
        }
    }

    /// `intents[2].action.kind` from a coding path.
    static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return out.isEmpty ? "(body)" : out
    }
}
