/// The id of a request, for correlating a client's report, the proxy's log and ours.
///
/// A caller's `X-Request-Id` (a proxy's, say) is kept when it is sane — 1 to 128 of
/// letters, digits and `-_.:@` — so it cannot forge log lines or flood them; otherwise the
/// server makes one.
enum RequestID {
    /// The header, in requests and answers.
    static let header = "X-Request-Id"
    /// The longest id taken from a request.
    static let maxLength = 128

    /// `given` when sane, else a new id.
    static func take(_ given: String?) -> String {
        if let given, isSane(given) { return given }
        return make()
    }

    static func isSane(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= maxLength
            && id.unicodeScalars.allSatisfy { $0.isASCII && (Character($0).isLetter || Character($0).isNumber || "-_.:@".unicodeScalars.contains($0)) }
    }

    /// 32 random hex digits.
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return hex(generator.next()) + hex(generator.next())
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
