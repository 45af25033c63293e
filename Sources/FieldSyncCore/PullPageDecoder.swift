/// Reads a pull page straight from its bytes into a ``PullResponse``, each event's text
/// cut out on the way, in one pass and without Foundation.
///
/// Why: the profile of a desk's first sync showed Foundation's `JSONDecoder` as about half
/// of the device's CPU (it builds a tree of every value, then decodes through the
/// `Decoder` protocol's existential containers). This reader knows the page's shape and
/// builds the wire types directly.
///
/// It is not a second JSON dialect: it accepts only what it fully understands and gives
/// nil for anything else (an escaped key, a number with a fraction or exponent, a
/// duplicate key, an unknown intent kind, a value of the wrong type, any syntax error), so
/// the caller decodes those pages with `JSONDecoder`, which then decides. Where it
/// succeeds it gives exactly what `JSONDecoder` gives (property-tested in
/// `PullPageDecoderTests`): keys in any order, unknown keys ignored, `null` or absence
/// for optional fields, keys an action's kind does not read ignored whatever they hold.
public enum PullPageDecoder {
    /// The page in `bytes`, with ``PullResponse/eventTexts`` set; nil when the bytes are
    /// not a pull page this reader is sure of (decode them with `JSONDecoder`).
    public static func decode(_ bytes: [UInt8]) -> PullResponse? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = Reader(bytes: buffer)
            do {
                let page = try reader.page()
                try reader.end()
                return page
            } catch {
                return nil
            }
        }
    }
}

extension PullPageDecoder {
    /// One intent's JSON text (an event as the device or the server stored it), read the
    /// same way; nil when the reader is not sure of it (decode it with `JSONDecoder`).
    public static func intent(_ text: String) -> Intent? {
        var text = text
        return text.withUTF8 { buffer in
            var reader = Reader(bytes: buffer)
            do {
                let intent = try reader.intent()
                try reader.end()
                return intent
            } catch {
                return nil
            }
        }
    }
}

/// Why the reader gave up; the page then goes to `JSONDecoder`.
struct PullPageGiveUp: Error {}

private let quote = UInt8(ascii: "\"")
private let backslash = UInt8(ascii: "\\")
private let comma = UInt8(ascii: ",")
private let colon = UInt8(ascii: ":")
private let openBrace = UInt8(ascii: "{")
private let closeBrace = UInt8(ascii: "}")
private let openBracket = UInt8(ascii: "[")
private let closeBracket = UInt8(ascii: "]")
private let minus = UInt8(ascii: "-")
private let zero = UInt8(ascii: "0")
private let nine = UInt8(ascii: "9")

/// A cursor over the page's bytes. Every method either consumes a whole value or throws.
private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0

    typealias GiveUp = PullPageGiveUp

    // MARK: - The page's shape

    mutating func page() throws(GiveUp) -> PullResponse {
        var orders: [OrderSnapshot]?
        var texts: [[String]] = []
        var revoked: [String]?
        var archived: [String]?
        var cursor: Int64?
        var hasMore: Bool?
        var checksum: String??
        var serverHLC: HLC?
        try object { (r: inout Reader, key: Key) throws(GiveUp) in
            switch key {
            case "orders":
                try r.once(orders)
                var list: [OrderSnapshot] = []
                try r.array { (r: inout Reader) throws(GiveUp) in
                    let (snapshot, eventTexts) = try r.snapshot()
                    list.append(snapshot)
                    texts.append(eventTexts)
                }
                orders = list
            case "revoked": try r.once(revoked); revoked = try r.strings()
            case "archived": try r.once(archived); archived = try r.nullable { (r: inout Reader) throws(GiveUp) in try r.strings() } ?? []
            case "cursor": try r.once(cursor); cursor = try r.int64()
            case "hasMore": try r.once(hasMore); hasMore = try r.bool()
            case "checksum": try r.once(checksum); checksum = .some(try r.nullable { (r: inout Reader) throws(GiveUp) in try r.string() })
            case "serverHLC": try r.once(serverHLC); serverHLC = try r.hlc()
            default: try r.skipValue()
            }
        }
        guard let orders, let revoked, let cursor, let hasMore, let serverHLC else { throw GiveUp() }
        var page = PullResponse(
            orders: orders, revoked: revoked, archived: archived ?? [], cursor: cursor, hasMore: hasMore,
            checksum: checksum ?? nil, serverHLC: serverHLC)
        page.eventTexts = texts
        return page
    }

    mutating func snapshot() throws(GiveUp) -> (OrderSnapshot, [String]) {
        var id: String?
        var version: Int64?
        var events: [Intent]?
        var texts: [String] = []
        var after: Int64??
        try object { (r: inout Reader, key: Key) throws(GiveUp) in
            switch key {
            case "id": try r.once(id); id = try r.string()
            case "version": try r.once(version); version = try r.int64()
            case "after": try r.once(after); after = .some(try r.nullable { (r: inout Reader) throws(GiveUp) in try r.int64() })
            case "events":
                try r.once(events)
                var list: [Intent] = []
                texts = []
                try r.array { (r: inout Reader) throws(GiveUp) in
                    r.skipSpace()
                    let start = r.i
                    list.append(try r.intent())
                    texts.append(String(decoding: UnsafeBufferPointer(rebasing: r.bytes[start..<r.i]), as: UTF8.self))
                }
                events = list
            default: try r.skipValue()
            }
        }
        guard let id, let version, let events else { throw GiveUp() }
        return (OrderSnapshot(id: id, version: version, events: events, after: after ?? nil), texts)
    }

    mutating func intent() throws(GiveUp) -> Intent {
        var opId: String?, deviceId: String?, actor: String?, orderId: String?
        var deviceSeq: Int64?, occurredAt: Int64?
        var role: Role?
        var hlc: HLC?
        var createOp: String??
        var clampedFrom: Int64??
        var action: Action?
        try object { (r: inout Reader, key: Key) throws(GiveUp) in
            switch key {
            case "opId": try r.once(opId); opId = try r.string()
            case "deviceId": try r.once(deviceId); deviceId = try r.string()
            case "deviceSeq": try r.once(deviceSeq); deviceSeq = try r.int64()
            case "actor": try r.once(actor); actor = try r.string()
            case "role": try r.once(role); role = try r.enumValue(Role.self)
            case "hlc": try r.once(hlc); hlc = try r.hlc()
            case "occurredAt": try r.once(occurredAt); occurredAt = try r.int64()
            case "orderId": try r.once(orderId); orderId = try r.string()
            case "createOp": try r.once(createOp); createOp = .some(try r.nullable { (r: inout Reader) throws(GiveUp) in try r.string() })
            case "clampedFrom": try r.once(clampedFrom); clampedFrom = .some(try r.nullable { (r: inout Reader) throws(GiveUp) in try r.int64() })
            case "action": try r.once(action); action = try r.action()
            default: try r.skipValue()
            }
        }
        guard let opId, let deviceId, let deviceSeq, let actor, let role, let hlc, let occurredAt, let orderId,
              let action
        else { throw GiveUp() }
        return Intent(
            opId: opId, deviceId: deviceId, deviceSeq: deviceSeq, actor: actor, role: role, hlc: hlc,
            occurredAt: occurredAt, orderId: orderId, createOp: createOp ?? nil, action: action,
            clampedFrom: clampedFrom ?? nil)
    }

    /// An action: the keys' values are remembered as byte positions first, then read as
    /// the kind needs them, so a key the kind does not read is ignored whatever it holds
    /// (as `Action.init(from:)` does).
    /// The keys an action's kinds read.
    enum ActionKey: Int, CaseIterable {
        case fields, technician, to, note, field, value, base, child, childId, reason, signOff, id, amountFen

        init?(_ key: Key) {
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

    /// An action: where each key's value starts is noted first, then the values are read
    /// as the kind needs them, so a key the kind does not read is ignored whatever it
    /// holds (as `Action.init(from:)` does).
    mutating func action() throws(GiveUp) -> Action {
        var kind: String?
        var at = InlineArray<13, Int>(repeating: -1)  // by ActionKey; -1: absent
        try object { (r: inout Reader, key: Key) throws(GiveUp) in
            if key == "kind" {
                try r.once(kind)
                kind = try r.string()
                return
            }
            if let slot = ActionKey(key) {
                guard at[slot.rawValue] < 0 else { throw GiveUp() }
                r.skipSpace()
                at[slot.rawValue] = r.i
            }
            try r.skipValue()
        }
        guard let kind else { throw GiveUp() }
        let resume = i
        defer { i = resume }
        func value<T>(_ key: ActionKey, _ read: (inout Reader) throws(GiveUp) -> T) throws(GiveUp) -> T {
            guard at[key.rawValue] >= 0 else { throw GiveUp() }
            i = at[key.rawValue]
            return try read(&self)
        }
        func optional<T>(_ key: ActionKey, _ read: (inout Reader) throws(GiveUp) -> T) throws(GiveUp) -> T? {
            guard at[key.rawValue] >= 0 else { return nil }
            i = at[key.rawValue]
            return try nullable(read)
        }
        switch kind {
        case "create":
            return .create(fields: try value(.fields) { (r: inout Reader) throws(GiveUp) in try r.fields() })
        case "assign":
            return .assign(technician: try value(.technician) { (r: inout Reader) throws(GiveUp) in try r.string() })
        case "transition":
            return .transition(
                to: try value(.to) { (r: inout Reader) throws(GiveUp) in try r.enumValue(OrderStatus.self) },
                note: try optional(.note) { (r: inout Reader) throws(GiveUp) in try r.string() })
        case "set_field":
            return .setField(
                field: try value(.field) { (r: inout Reader) throws(GiveUp) in try r.enumValue(OrderField.self) },
                value: try optional(.value) { (r: inout Reader) throws(GiveUp) in try r.string() },
                base: try optional(.base) { (r: inout Reader) throws(GiveUp) in try r.hlc() })
        case "append":
            return .append(try value(.child) { (r: inout Reader) throws(GiveUp) in try r.child() })
        case "void":
            return .void(
                childId: try value(.childId) { (r: inout Reader) throws(GiveUp) in try r.string() },
                reason: try value(.reason) { (r: inout Reader) throws(GiveUp) in try r.string() })
        case "sign_off":
            return .signOff(try value(.signOff) { (r: inout Reader) throws(GiveUp) in try r.signOff() })
        case "request_compensation":
            return .requestCompensation(
                id: try value(.id) { (r: inout Reader) throws(GiveUp) in try r.string() },
                amountFen: try value(.amountFen) { (r: inout Reader) throws(GiveUp) in try r.int() },
                reason: try value(.reason) { (r: inout Reader) throws(GiveUp) in try r.string() })
        case "reopen":
            return .reopen(reason: try value(.reason) { (r: inout Reader) throws(GiveUp) in try r.string() })
        default:
            throw GiveUp()  // JSONDecoder throws UnknownIntentKind with the name
        }
    }

    mutating func fields() throws(GiveUp) -> [OrderField: String] {
        var fields: [OrderField: String] = [:]
        try object { (r: inout Reader, key: Key) throws(GiveUp) in
            // A dictionary's keys are read whole (escapes are not handled: give up).
            guard let field = OrderField.allCases.first(where: { key.matches($0.rawValue) }), fields[field] == nil else {
                throw GiveUp()
            }
            fields[field] = try r.string()
        }
        return fields
    }

    mutating func hlc() throws(GiveUp) -> HLC {
        var physical: Int64?
        var logical: Int32?
        var device: String?
        try object { (r: inout Reader, key: Key) throws(GiveUp) in
            switch key {
            case "physical": try r.once(physical); physical = try r.int64()
            case "logical":
                try r.once(logical)
                guard let value = Int32(exactly: try r.int64()) else { throw GiveUp() }
                logical = value
            case "device": try r.once(device); device = try r.string()
            default: try r.skipValue()
            }
        }
        guard let physical, let logical, let device else { throw GiveUp() }
        return HLC(physical: physical, logical: logical, device: device)
    }

    mutating func child() throws(GiveUp) -> ChildEntry {
        var id: String?, text: String?
        var kind: ChildEntry.Kind?
        var code: String??, digest: String??, value: String??, unit: String??
        var quantity: Int??, amountFen: Int??
        try object { (r: inout Reader, key: Key) throws(GiveUp) in
            switch key {
            case "id": try r.once(id); id = try r.string()
            case "kind": try r.once(kind); kind = try r.enumValue(ChildEntry.Kind.self)
            case "text": try r.once(text); text = try r.string()
            case "code": try r.once(code); code = .some(try r.nullable { (r: inout Reader) throws(GiveUp) in try r.string() })
            case "quantity": try r.once(quantity); quantity = .some(try r.nullable { (r: inout Reader) throws(GiveUp) in try r.int() })
            case "amountFen": try r.once(amountFen); amountFen = .some(try r.nullable { (r: inout Reader) throws(GiveUp) in try r.int() })
            case "digest": try r.once(digest); digest = .some(try r.nullable { (r: inout Reader) throws(GiveUp) in try r.string() })
            case "value": try r.once(value); value = .some(try r.nullable { (r: inout Reader) throws(GiveUp) in try r.string() })
            case "unit": try r.once(unit); unit = .some(try r.nullable { (r: inout Reader) throws(GiveUp) in try r.string() })
            default: try r.skipValue()
            }
        }
        guard let id, let kind, let text else { throw GiveUp() }
        return ChildEntry(
            id: id, kind: kind, text: text, code: code ?? nil, quantity: quantity ?? nil,
            amountFen: amountFen ?? nil, digest: digest ?? nil, value: value ?? nil, unit: unit ?? nil)
    }

    mutating func signOff() throws(GiveUp) -> SignOff {
        var signerName: String?, signerRole: String?, signatureDigest: String?, contentHash: String?
        var rating: Int?
        var comment: String??
        var signedAt: Int64?
        try object { (r: inout Reader, key: Key) throws(GiveUp) in
            switch key {
            case "signerName": try r.once(signerName); signerName = try r.string()
            case "signerRole": try r.once(signerRole); signerRole = try r.string()
            case "signatureDigest": try r.once(signatureDigest); signatureDigest = try r.string()
            case "rating": try r.once(rating); rating = try r.int()
            case "comment": try r.once(comment); comment = .some(try r.nullable { (r: inout Reader) throws(GiveUp) in try r.string() })
            case "signedAt": try r.once(signedAt); signedAt = try r.int64()
            case "contentHash": try r.once(contentHash); contentHash = try r.string()
            default: try r.skipValue()
            }
        }
        guard let signerName, let signerRole, let signatureDigest, let rating, let signedAt, let contentHash else {
            throw GiveUp()
        }
        return SignOff(
            signerName: signerName, signerRole: signerRole, signatureDigest: signatureDigest, rating: rating,
            comment: comment ?? nil, signedAt: signedAt, contentHash: contentHash)
    }

    // MARK: - JSON values

    /// A key of an object, as its raw bytes (keys with escapes make the reader give up).
    struct Key {
        let bytes: UnsafeBufferPointer<UInt8>

        /// Whether the key is `text`, byte for byte.
        func matches(_ text: String) -> Bool {
            text.utf8.count == bytes.count && text.utf8.elementsEqual(bytes)
        }

        static func ~= (pattern: StaticString, key: Key) -> Bool {
            guard pattern.utf8CodeUnitCount == key.bytes.count else { return false }
            let p = pattern.utf8Start
            for n in 0..<key.bytes.count where p[n] != key.bytes[n] { return false }
            return true
        }

        static func == (key: Key, pattern: StaticString) -> Bool { pattern ~= key }
    }

    /// A key seen twice in one object: `JSONDecoder`'s choice is not this reader's to guess.
    func once<T>(_ seen: T?) throws(GiveUp) {
        if seen != nil { throw GiveUp() }
    }

    mutating func skipSpace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }

    mutating func peek() throws(GiveUp) -> UInt8 {
        skipSpace()
        guard i < bytes.count else { throw GiveUp() }
        return bytes[i]
    }

    mutating func consume(_ byte: UInt8) throws(GiveUp) {
        guard try peek() == byte else { throw GiveUp() }
        i += 1
    }

    /// Nothing but white space after the page.
    mutating func end() throws(GiveUp) {
        skipSpace()
        guard i == bytes.count else { throw GiveUp() }
    }

    mutating func object(_ member: (inout Reader, Key) throws(GiveUp) -> Void) throws(GiveUp) {
        try consume(openBrace)
        if try peek() == closeBrace {
            i += 1
            return
        }
        while true {
            let key = try rawKey()
            try consume(colon)
            try member(&self, key)
            let next = try peek()
            i += 1
            if next == closeBrace { return }
            guard next == comma else { throw GiveUp() }
        }
    }

    mutating func array(_ element: (inout Reader) throws(GiveUp) -> Void) throws(GiveUp) {
        try consume(openBracket)
        if try peek() == closeBracket {
            i += 1
            return
        }
        while true {
            try element(&self)
            let next = try peek()
            i += 1
            if next == closeBracket { return }
            guard next == comma else { throw GiveUp() }
        }
    }

    mutating func rawKey() throws(GiveUp) -> Key {
        try consume(quote)
        let start = i
        while i < bytes.count {
            let byte = bytes[i]
            if byte == quote {
                let key = Key(bytes: UnsafeBufferPointer(rebasing: bytes[start..<i]))
                i += 1
                return key
            }
            // Escapes, control characters and non-ASCII keys: not in this page's shape.
            guard byte != backslash, byte >= 0x20, byte < 0x80 else { throw GiveUp() }
            i += 1
        }
        throw GiveUp()
    }

    /// `null` gives nil; anything else is read by `read`.
    mutating func nullable<T>(_ read: (inout Reader) throws(GiveUp) -> T) throws(GiveUp) -> T? {
        if try peek() == UInt8(ascii: "n") {
            try literal("null")
            return nil
        }
        return try read(&self)
    }

    mutating func literal(_ word: StaticString) throws(GiveUp) {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw GiveUp() }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { throw GiveUp() }
        i += n
    }

    mutating func bool() throws(GiveUp) -> Bool {
        switch try peek() {
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        default: throw GiveUp()
        }
    }

    mutating func enumValue<T: RawRepresentable>(_: T.Type) throws(GiveUp) -> T where T.RawValue == String {
        guard let value = T(rawValue: try string()) else { throw GiveUp() }
        return value
    }

    mutating func strings() throws(GiveUp) -> [String] {
        var list: [String] = []
        try array { (r: inout Reader) throws(GiveUp) in list.append(try r.string()) }
        return list
    }

    mutating func int() throws(GiveUp) -> Int {
        guard let value = Int(exactly: try int64()) else { throw GiveUp() }
        return value
    }

    /// An integer written as JSON writes integers: `-?(0|[1-9][0-9]*)`, in range. A
    /// fraction or exponent (which `JSONDecoder` may or may not accept) gives up.
    mutating func int64() throws(GiveUp) -> Int64 {
        _ = try peek()
        var negative = false
        if bytes[i] == minus {
            negative = true
            i += 1
        }
        let start = i
        var value: Int64 = 0
        while i < bytes.count, bytes[i] >= zero, bytes[i] <= nine {
            let digit = Int64(bytes[i] - zero)
            // Accumulate downwards so Int64.min fits.
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times.subtractingReportingOverflow(digit)
            guard !o1, !o2 else { throw GiveUp() }
            value = next
            i += 1
        }
        let count = i - start
        guard count > 0, !(count > 1 && bytes[start] == zero) else { throw GiveUp() }
        if i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): throw GiveUp()
            default: break
            }
        }
        if negative { return value }
        guard value != .min else { throw GiveUp() }
        return -value
    }

    /// A JSON string, its escapes undone; invalid UTF-8 or a lone surrogate gives up.
    mutating func string() throws(GiveUp) -> String {
        try consume(quote)
        let start = i
        var ascii = true
        while i < bytes.count {
            let byte = bytes[i]
            if byte == quote {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<i])
                i += 1
                if ascii { return String(decoding: raw, as: UTF8.self) }
                guard let text = String(validating: raw, as: UTF8.self) else { throw GiveUp() }
                return text
            }
            if byte == backslash { return try escapedString(from: start) }
            guard byte >= 0x20 else { throw GiveUp() }
            if byte >= 0x80 { ascii = false }
            i += 1
        }
        throw GiveUp()
    }

    /// The slow way, for a string holding escapes: bytes copied as they are undone.
    mutating func escapedString(from start: Int) throws(GiveUp) -> String {
        var out: [UInt8] = Array(bytes[start..<i])
        while i < bytes.count {
            let byte = bytes[i]
            if byte == quote {
                i += 1
                guard let text = String(validating: out, as: UTF8.self) else { throw GiveUp() }
                return text
            }
            guard byte >= 0x20 else { throw GiveUp() }
            guard byte == backslash else {
                out.append(byte)
                i += 1
                continue
            }
            i += 1
            guard i < bytes.count else { throw GiveUp() }
            let escape = bytes[i]
            i += 1
            switch escape {
            case quote, backslash, UInt8(ascii: "/"): out.append(escape)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one.
                    guard i + 1 < bytes.count, bytes[i] == backslash, bytes[i + 1] == UInt8(ascii: "u") else {
                        throw GiveUp()
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw GiveUp() }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw GiveUp()
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw GiveUp() }
                out.append(contentsOf: UTF8.encode(unicode)!)
            default:
                throw GiveUp()
            }
        }
        throw GiveUp()
    }

    mutating func hex4() throws(GiveUp) -> UInt32 {
        guard i + 4 <= bytes.count else { throw GiveUp() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[i]
            let digit: UInt8
            switch byte {
            case zero...nine: digit = byte - zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw GiveUp()
            }
            value = value << 4 | UInt32(digit)
            i += 1
        }
        return value
    }

    /// Passes over any JSON value, checking its syntax (as `JSONDecoder` checks every
    /// byte of the document, so an ill-formed value under an ignored key still fails).
    mutating func skipValue() throws(GiveUp) {
        switch try peek() {
        case quote: _ = try string()
        case openBrace: try object { (r: inout Reader, _: Key) throws(GiveUp) in try r.skipValue() }
        case openBracket: try array { (r: inout Reader) throws(GiveUp) in try r.skipValue() }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case minus, zero...nine: try skipNumber()
        default: throw GiveUp()
        }
    }

    /// Any JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    mutating func skipNumber() throws(GiveUp) {
        func digits(_ r: inout Reader) -> Int {
            let start = r.i
            while r.i < r.bytes.count, r.bytes[r.i] >= zero, r.bytes[r.i] <= nine { r.i += 1 }
            return r.i - start
        }
        if bytes[i] == minus { i += 1 }
        let start = i
        let whole = digits(&self)
        guard whole > 0, !(whole > 1 && bytes[start] == zero) else { throw GiveUp() }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits(&self) > 0 else { throw GiveUp() }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == minus { i += 1 }
            guard digits(&self) > 0 else { throw GiveUp() }
        }
    }
}
