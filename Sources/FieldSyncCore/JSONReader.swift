/// Reads JSON by hand for the types a push carries, strictly: whatever it does not
/// understand exactly (a number with a fraction or exponent, a repeated key, a `null`
/// where a value must be, invalid UTF-8) is a ``JSONReader/Failure``, and the caller
/// decodes the same bytes again with `JSONDecoder`, which then gives the value or the
/// precise error message. So the reader is a fast path that never accepts a body
/// `JSONDecoder` would refuse, nor reads one differently.
///
/// Why: `JSONDecoder` was about a tenth of a push's CPU (the request) and, for orders with
/// long histories, the biggest part (the stored fold); see BENCHMARKS.md.
public struct JSONReader {
    /// The bytes are not in the shape this reader takes.
    public struct Failure: Error, CustomStringConvertible {
        public var offset: Int
        public var reason: String
        public var description: String { "JSON not read at byte \(offset): \(reason)" }
    }

    private let bytes: [UInt8]
    private var index = 0

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public init(_ text: String) {
        self.bytes = Array(text.utf8)
    }

    /// Reads one value with `read` and checks nothing follows it.
    public static func read<T>(_ bytes: [UInt8], _ read: (inout JSONReader) throws -> T) throws -> T {
        var reader = JSONReader(bytes)
        let value = try read(&reader)
        reader.skipSpace()
        guard reader.index == reader.bytes.count else { throw reader.fail("text after the value") }
        return value
    }

    // MARK: structure

    /// Calls `member` with each key of an object, the reader standing at its value (which
    /// `member` must read or ``skip()``). A repeated key fails.
    public mutating func object(_ member: (inout JSONReader, String) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        var seen: [String] = []
        while true {
            skipSpace()
            let key = try string()
            guard !seen.contains(key) else { throw fail("key \(key) twice") }
            seen.append(key)
            try expect(UInt8(ascii: ":"))
            try member(&self, key)
            skipSpace()
            let next = try byte()
            if next == UInt8(ascii: "}") { return }
            guard next == UInt8(ascii: ",") else { throw fail("expected , or }") }
        }
    }

    /// Calls `element` for each element of an array.
    public mutating func array(_ element: (inout JSONReader) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        skipSpace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            try element(&self)
            skipSpace()
            let next = try byte()
            if next == UInt8(ascii: "]") { return }
            guard next == UInt8(ascii: ",") else { throw fail("expected , or ]") }
        }
    }

    /// The elements of an array, each read by `element`.
    public mutating func list<T>(_ element: (inout JSONReader) throws -> T) throws -> [T] {
        var out: [T] = []
        try array { out.append(try element(&$0)) }
        return out
    }

    /// Whether the value here is `null` (consumed if so): an optional that is absent.
    public mutating func null() -> Bool {
        skipSpace()
        let n: [UInt8] = [0x6E, 0x75, 0x6C, 0x6C]
        if index + 4 <= bytes.count, bytes[index..<index + 4].elementsEqual(n) {
            index += 4
            return true
        }
        return false
    }

    /// Skips one value of any kind.
    public mutating func skip() throws {
        skipSpace()
        switch peek() {
        case UInt8(ascii: "{"): try object { reader, _ in try reader.skip() }
        case UInt8(ascii: "["): try array { try $0.skip() }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"): if !null() { throw fail("expected null") }
        default: _ = try int64()
        }
    }

    // MARK: values

    public mutating func string() throws -> String {
        skipSpace()
        try expect(UInt8(ascii: "\""))
        let start = index
        // The usual string has no escape: one scan, one validated copy.
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                guard let text = String(validating: bytes[start..<index], as: UTF8.self) else {
                    throw fail("invalid UTF-8")
                }
                index += 1
                return text
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("control character in a string") }
            index += 1
        }
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let b = bytes[index]
            index += 1
            switch b {
            case UInt8(ascii: "\""):
                guard let text = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                let e = try byte()
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard try byte() == UInt8(ascii: "\\"), try byte() == UInt8(ascii: "u") else {
                            throw fail("lone surrogate")
                        }
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("lone surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("lone surrogate") }
                    out.append(contentsOf: UTF8.encode(u)!)
                default:
                    throw fail("unknown escape")
                }
            default:
                if b < 0x20 { throw fail("control character in a string") }
                out.append(b)
            }
        }
        throw fail("unterminated string")
    }

    /// A whole number without fraction or exponent (anything else fails over to `JSONDecoder`).
    public mutating func int64() throws -> Int64 {
        skipSpace()
        var negative = false
        if peek() == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        let start = index
        var value: Int64 = 0
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            let digit = Int64(bytes[index] - 0x30)
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
            if o1 || o2 { throw fail("number out of range") }
            value = next
            index += 1
        }
        let count = index - start
        guard count > 0 else { throw fail("expected a number") }
        if count > 1 && bytes[start] == 0x30 { throw fail("leading zero") }
        if let next = peek(), next == UInt8(ascii: ".") || next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
            throw fail("not a whole number")
        }
        return value
    }

    public mutating func int() throws -> Int {
        Int(try int64())
    }

    public mutating func int32() throws -> Int32 {
        guard let value = Int32(exactly: try int64()) else { throw fail("number out of range") }
        return value
    }

    public mutating func bool() throws -> Bool {
        skipSpace()
        if index + 4 <= bytes.count, bytes[index..<index + 4].elementsEqual([0x74, 0x72, 0x75, 0x65]) {
            index += 4
            return true
        }
        if index + 5 <= bytes.count, bytes[index..<index + 5].elementsEqual([0x66, 0x61, 0x6C, 0x73, 0x65]) {
            index += 5
            return false
        }
        throw fail("expected true or false")
    }

    /// A string that must be one of `T`'s raw values.
    public mutating func raw<T: RawRepresentable>(_ type: T.Type) throws -> T where T.RawValue == String {
        let text = try string()
        guard let value = T(rawValue: text) else { throw fail("unknown \(T.self) \(text)") }
        return value
    }

    public mutating func optionalString() throws -> String? { null() ? nil : try string() }
    public mutating func optionalInt64() throws -> Int64? { null() ? nil : try int64() }
    public mutating func optionalInt() throws -> Int? { null() ? nil : try int() }

    // MARK: private

    /// A required member that was absent.
    public func missing(_ key: String) -> Failure { fail("no \(key)") }

    public func fail(_ reason: String) -> Failure { Failure(offset: index, reason: reason) }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func byte() throws -> UInt8 {
        guard index < bytes.count else { throw fail("unexpected end") }
        defer { index += 1 }
        return bytes[index]
    }

    private mutating func expect(_ b: UInt8) throws {
        skipSpace()
        guard try byte() == b else { throw fail("expected \(Character(UnicodeScalar(b)))") }
    }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func hex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = try byte()
            let digit: UInt32
            switch b {
            case 0x30...0x39: digit = UInt32(b - 0x30)
            case 0x41...0x46: digit = UInt32(b - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(b - 0x61 + 10)
            default: throw fail("bad \\u escape")
            }
            value = value << 4 | digit
        }
        return value
    }
}
