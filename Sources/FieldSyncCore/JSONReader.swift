/// Reads JSON by hand for the types FieldSync sends and stores, strictly: whatever it does
/// not understand exactly (a number with a fraction or exponent where an integer is read,
/// a repeated key, a `null` where a value must be, invalid UTF-8, a lone surrogate) is a
/// ``JSONReader/Failure``, and the caller decodes the same bytes again with `JSONDecoder`,
/// which then gives the value or the precise error message. So the reader is a fast path
/// that never accepts a body `JSONDecoder` would refuse, nor reads one differently.
///
/// Why: `JSONDecoder` was about a tenth of a push's CPU (the request) and, for orders with
/// long histories, the biggest part (the stored fold); on a device's first sync it was half
/// of the CPU (the pull pages, see ``PullPageDecoder``). It builds a tree of every value,
/// then decodes through the `Decoder` protocol's existential containers; this reader
/// builds the values straight from the bytes.
///
/// A reader exists only inside `read`, over the bytes it was given:
/// ```swift
/// let hlc = try JSONReader.read(bytes) { try HLC(reading: &$0) }
/// ```
public struct JSONReader {
    /// The bytes are not in the shape this reader takes.
    public struct Failure: Error, CustomStringConvertible {
        public var offset: Int
        public var reason: String
        public var description: String { "JSON not read at byte \(offset): \(reason)" }
    }

    /// Valid only during `read`, which holds the array or string they are in.
    let bytes: UnsafeBufferPointer<UInt8>
    /// Where the next byte to read is. Core's readers may note it and come back to it: an
    /// action reads its kind's members after the whole object, and a pull page keeps each
    /// event's text.
    var index = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Reads one value with `read` and checks nothing follows it.
    public static func read<T>(_ bytes: [UInt8], _ read: (inout JSONReader) throws -> T) throws -> T {
        try bytes.withUnsafeBufferPointer { try whole($0, read) }
    }

    /// Reads one value from `text`'s UTF-8 with `read` and checks nothing follows it.
    public static func read<T>(_ text: String, _ read: (inout JSONReader) throws -> T) throws -> T {
        var text = text
        return try text.withUTF8 { try whole($0, read) }
    }

    private static func whole<T>(_ bytes: UnsafeBufferPointer<UInt8>, _ read: (inout JSONReader) throws -> T) throws -> T {
        var reader = JSONReader(bytes)
        let value = try read(&reader)
        reader.skipSpace()
        guard reader.index == bytes.count else { throw reader.fail("text after the value") }
        return value
    }

    // MARK: structure

    /// A key of an object, matched against the names a type reads: `case "id":`.
    ///
    /// Its bytes as the document holds them, so matching costs no allocation; a key
    /// written with escapes is matched with them undone, as `JSONDecoder` matches it.
    public struct Key {
        /// The key's UTF-8, checked; valid only while the member it names is read.
        fileprivate let bytes: UnsafeBufferPointer<UInt8>

        /// The key as text, for a dictionary's keys.
        public var string: String { String(decoding: bytes, as: UTF8.self) }

        public static func ~= (pattern: StaticString, key: Key) -> Bool {
            guard pattern.utf8CodeUnitCount == key.bytes.count else { return false }
            let p = pattern.utf8Start
            for n in 0..<key.bytes.count where p[n] != key.bytes[n] { return false }
            return true
        }

        public static func == (key: Key, pattern: StaticString) -> Bool { pattern ~= key }

        /// Where the key is in `names` (each a name's UTF-8), compared byte for byte.
        public func index(in names: [[UInt8]]) -> Int? {
            names.firstIndex { $0.elementsEqual(bytes) }
        }

        /// FNV-1a of the key's bytes. Equal keys hash equal; two different keys that hash
        /// equal make their object refused as if it repeated a key (`JSONDecoder` reads it
        /// then: slower, still right).
        fileprivate var hash: UInt64 {
            bytes.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
        }
    }

    /// Calls `member` with each key of an object, the reader standing at its value (which
    /// `member` must read or ``skip()``).
    ///
    /// A repeated key fails: `JSONDecoder` takes the first, and a reader that took the
    /// last would disagree with it. With `checkingRepeats` false, `member` checks them
    /// itself, with ``once(_:)`` on each member it reads (a repeat of a key no one reads
    /// is harmless): the intents of a first sync are read by the hundred thousand, and
    /// checking every key here cost a twentieth of their reading.
    public mutating func object(checkingRepeats: Bool = true, _ member: (inout JSONReader, Key) throws -> Void) throws {
        if checkingRepeats {
            try walkObject(SeenKeys(), member)
        } else {
            try walkObject(KeysUnchecked(), member)
        }
    }

    private mutating func walkObject<Seen: KeyCheck>(_ seen: Seen, _ member: (inout JSONReader, Key) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        var seen = seen
        while true {
            skipSpace()
            switch try stringBytes() {
            case .plain(let raw, let ascii):
                if !ascii { try validate(raw) }
                try readMember(Key(bytes: raw), of: &seen, member)
            case .escaped(var text):
                try text.withUTF8 { try readMember(Key(bytes: $0), of: &seen, member) }
            }
            skipSpace()
            let next = try byte()
            if next == UInt8(ascii: "}") { return }
            guard next == UInt8(ascii: ",") else { throw fail("expected , or }") }
        }
    }

    /// Fails if `value`, a member's, was read already: see ``object(checkingRepeats:_:)``.
    public func once<T>(_ value: T?) throws {
        if value != nil { throw fail("a key twice") }
    }

    /// How an object's walk meets its keys.
    private protocol KeyCheck {
        /// Whether `key` may follow the keys before it (it is then noted).
        mutating func insert(_ key: Key) -> Bool
    }

    /// For a walk whose members check their own repeats.
    private struct KeysUnchecked: KeyCheck {
        func insert(_ key: Key) -> Bool { true }
    }

    /// The keys of one object read so far, on the stack: as many as a FieldSync object
    /// has (an object with more is left to `JSONDecoder`).
    private struct SeenKeys: KeyCheck {
        var hashes = InlineArray<32, UInt64>(repeating: 0)
        var count = 0

        mutating func insert(_ key: Key) -> Bool {
            let hash = key.hash
            for n in 0..<count where hashes[n] == hash { return false }
            guard count < hashes.count else { return false }
            hashes[count] = hash
            count += 1
            return true
        }
    }

    /// One member of an object, its key read.
    private mutating func readMember<Seen: KeyCheck>(
        _ key: Key, of seen: inout Seen, _ member: (inout JSONReader, Key) throws -> Void
    ) throws {
        guard seen.insert(key) else { throw fail("a key twice, or more keys than this reader holds") }
        try expect(UInt8(ascii: ":"))
        try member(&self, key)
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
        return literal("null")
    }

    /// Skips one value of any kind, checking its syntax as `JSONDecoder` checks every byte
    /// of the document (an ill-formed value under an ignored key fails there too). Keys
    /// may repeat in it: a value no one reads is not read differently.
    public mutating func skip() throws {
        skipSpace()
        guard let next = peek() else { throw fail("unexpected end") }
        switch next {
        case UInt8(ascii: "{"): try object(checkingRepeats: false) { reader, _ in try reader.skip() }
        case UInt8(ascii: "["): try array { try $0.skip() }
        case UInt8(ascii: "\""): if case .plain(let raw, ascii: false) = try stringBytes() { try validate(raw) }
        case UInt8(ascii: "t"): if !literal("true") { throw fail("expected true") }
        case UInt8(ascii: "f"): if !literal("false") { throw fail("expected false") }
        case UInt8(ascii: "n"): if !literal("null") { throw fail("expected null") }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
        default: throw fail("expected a value")
        }
    }

    /// The value `read` reads, and its JSON text as the bytes hold it (a pull page's
    /// events are stored as the server sent them).
    mutating func withText<T>(_ read: (inout JSONReader) throws -> T) throws -> (T, String) {
        skipSpace()
        let start = index
        let value = try read(&self)
        return (value, String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
    }

    // MARK: values

    public mutating func string() throws -> String {
        switch try stringBytes() {
        case .plain(let raw, ascii: true): return String(decoding: raw, as: UTF8.self)
        case .plain(let raw, ascii: false):
            guard let text = String(validating: raw, as: UTF8.self) else { throw fail("invalid UTF-8") }
            return text
        case .escaped(let text): return text
        }
    }

    /// A whole number `-?(0|[1-9][0-9]*)`, in range. A fraction or exponent fails:
    /// whether `JSONDecoder` takes `1.0` for an integer is not this reader's to guess.
    public mutating func int64() throws -> Int64 {
        skipSpace()
        var negative = false
        if peek() == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        let start = index
        var value: Int64 = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            let digit = Int64(bytes[index] - UInt8(ascii: "0"))
            // Accumulated downwards, so Int64.min fits.
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times.subtractingReportingOverflow(digit)
            if o1 || o2 { throw fail("number out of range") }
            value = next
            index += 1
        }
        let count = index - start
        guard count > 0 else { throw fail("expected a number") }
        if count > 1 && bytes[start] == UInt8(ascii: "0") { throw fail("leading zero") }
        if let next = peek(), next == UInt8(ascii: ".") || next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
            throw fail("not a whole number")
        }
        if negative { return value }
        guard value != .min else { throw fail("number out of range") }
        return -value
    }

    public mutating func int() throws -> Int {
        guard let value = Int(exactly: try int64()) else { throw fail("number out of range") }
        return value
    }

    public mutating func int32() throws -> Int32 {
        guard let value = Int32(exactly: try int64()) else { throw fail("number out of range") }
        return value
    }

    public mutating func bool() throws -> Bool {
        skipSpace()
        if literal("true") { return true }
        if literal("false") { return false }
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

    /// A required member that was absent.
    public func missing(_ key: String) -> Failure { fail("no \(key)") }

    public func fail(_ reason: String) -> Failure { Failure(offset: index, reason: reason) }

    // MARK: scanning

    /// Passes white space; the reader then stands at the next value or punctuation.
    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func byte() throws -> UInt8 {
        guard index < bytes.count else { throw fail("unexpected end") }
        defer { index += 1 }
        return bytes[index]
    }

    @inline(__always)
    private mutating func expect(_ b: UInt8) throws {
        skipSpace()
        guard index < bytes.count, bytes[index] == b else { throw fail("expected \(Character(UnicodeScalar(b)))") }
        index += 1
    }

    /// Consumes `word` if the bytes here spell it.
    private mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard index + n <= bytes.count else { return false }
        for k in 0..<n where bytes[index + k] != word.utf8Start[k] { return false }
        index += n
        return true
    }

    /// A string read up to its closing quote.
    private enum StringBytes {
        /// No escape: the bytes between the quotes, and whether they are all ASCII (else
        /// they are still to be checked as UTF-8).
        case plain(UnsafeBufferPointer<UInt8>, ascii: Bool)
        /// The string with its escapes undone, checked.
        case escaped(String)
    }

    /// The usual string has no escape: one scan, and no copy until the caller wants one.
    @inline(__always)
    private mutating func stringBytes() throws -> StringBytes {
        try expect(UInt8(ascii: "\""))
        let start = index
        var ascii = true
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                return .plain(raw, ascii: ascii)
            }
            if b == UInt8(ascii: "\\") { return .escaped(try escapedString(from: start)) }
            if b < 0x20 { throw fail("control character in a string") }
            if b >= 0x80 { ascii = false }
            index += 1
        }
        throw fail("unterminated string")
    }

    /// Checks UTF-8 without making a string of it (a key, a value skipped).
    private func validate(_ raw: UnsafeBufferPointer<UInt8>) throws {
        do {
            _ = try UTF8Span(validating: raw.span)
        } catch {
            throw fail("invalid UTF-8")
        }
    }

    /// The slow way, for a string holding escapes: bytes copied as they are undone.
    private mutating func escapedString(from start: Int) throws -> String {
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            // The bytes up to the next escape or quote, in one copy.
            let run = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\\"), bytes[index] != UInt8(ascii: "\""),
                  bytes[index] >= 0x20
            {
                index += 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index]))
            guard index < bytes.count else { break }
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
                        // A high surrogate must be followed by an escaped low one.
                        guard try byte() == UInt8(ascii: "\\"), try byte() == UInt8(ascii: "u") else {
                            throw fail("lone surrogate")
                        }
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("lone surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    // A lone low surrogate is no scalar.
                    guard let u = Unicode.Scalar(scalar) else { throw fail("lone surrogate") }
                    UTF8.encode(u) { out.append($0) }
                default:
                    throw fail("unknown escape")
                }
            default:
                throw fail("control character in a string")
            }
        }
        throw fail("unterminated string")
    }

    private mutating func hex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = try byte()
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            default: throw fail("bad \\u escape")
            }
            value = value << 4 | digit
        }
        return value
    }

    /// Any JSON number, `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, under a key no
    /// type reads (`JSONDecoder` takes them all there).
    private mutating func skipNumber() throws {
        func digits(_ r: inout JSONReader) -> Int {
            let start = r.index
            while let b = r.peek(), b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { r.index += 1 }
            return r.index - start
        }
        if peek() == UInt8(ascii: "-") { index += 1 }
        let start = index
        let whole = digits(&self)
        guard whole > 0, !(whole > 1 && bytes[start] == UInt8(ascii: "0")) else { throw fail("bad number") }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw fail("bad number") }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            index += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw fail("bad number") }
        }
    }
}
