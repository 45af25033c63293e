/// Checking and joining the URLs the client talks to, without Foundation.
enum ServerURL {
    /// Returns `text` with its scheme lowercased and trailing `/` removed, or throws
    /// ``HTTPError/invalidURL(_:)`` unless it is `http(s)://host[:port][/prefix]`.
    static func validatedBase(_ text: String) throws(HTTPError) -> String {
        let invalid = HTTPError.invalidURL(text)
        let bytes = Array(text.utf8)
        // No spaces, controls, query or fragment: a base is where paths get appended.
        guard !bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "?")
                                        || $0 == UInt8(ascii: "#") })
        else { throw invalid }

        let scheme: String
        let rest: Substring
        if let r = dropPrefix("http://", of: text) {
            (scheme, rest) = ("http", r)
        } else if let r = dropPrefix("https://", of: text) {
            (scheme, rest) = ("https", r)
        } else {
            throw invalid
        }

        let authority = rest.prefix { $0 != "/" }
        let prefixPath = rest.dropFirst(authority.count)
        guard isValidAuthority(authority) else { throw invalid }

        var base = scheme + "://" + authority + prefixPath
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port`, with no user info.
    private static func isValidAuthority(_ authority: Substring) -> Bool {
        guard !authority.isEmpty, !authority.contains("@") else { return false }
        let host: Substring
        let port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return false }
            host = authority[authority.index(after: authority.startIndex)..<close]
            guard host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            let after = authority[authority.index(after: close)...]
            if after.isEmpty {
                port = nil
            } else if after.hasPrefix(":") {
                port = after.dropFirst()
            } else {
                return false
            }
        } else {
            let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return false }
            host = parts[0]
            port = parts.count == 2 ? parts[1] : nil
            guard host.allSatisfy({ !"[]/\\".contains($0) }) else { return false }
        }
        guard !host.isEmpty else { return false }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.allSatisfy({ $0.isASCII && $0.isNumber }),
                let number = Int(port), (1...65_535).contains(number)
            else { return false }
        }
        return true
    }

    private static func dropPrefix(_ prefix: String, of text: String) -> Substring? {
        guard text.count >= prefix.count else { return nil }
        let head = text.prefix(prefix.count)
        guard head.lowercased() == prefix else { return nil }
        return text.dropFirst(prefix.count)
    }

    /// `base + path + ?query`, the query items percent-encoded.
    ///
    /// `path` is used as given (the caller owns its encoding, see ``percentEncode(_:)``);
    /// a missing leading `/` is added.
    static func join(base: String, path: String, query: [(String, String)]) -> String {
        var url = base
        if !path.hasPrefix("/") { url += "/" }
        url += path
        guard !query.isEmpty else { return url }
        url += path.contains("?") ? "&" : "?"
        url += query.map { percentEncode($0.0) + "=" + percentEncode($0.1) }.joined(separator: "&")
        return url
    }

    /// RFC 3986 percent-encoding of the UTF-8 bytes of `text`: everything but the unreserved
    /// characters `A-Z a-z 0-9 - . _ ~` becomes `%XX`, so `&`, `=`, spaces and Chinese survive
    /// a round trip through any query parser.
    static func percentEncode(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
