/// Writes JSON by hand, byte for byte as Foundation's `JSONEncoder` does with
/// `[.sortedKeys, .withoutEscapingSlashes]` and no pretty printing.
///
/// Why: the server encodes every pushed intent (its exactly-once digest and its stored
/// row), every outcome, the order's fold and the push's answer; through `JSONEncoder`
/// that was about 40% of a push's CPU (BENCHMARKS.md). The bytes must be the same as
/// `JSONEncoder`'s, because the digest of an intent stored by an older release is compared
/// with the digest of its retry: `JSONWriterTests` checks them on random values.
///
/// The rules it copies: keys sorted by their UTF-8 bytes; an optional that is nil is left
/// out (what synthesized `Codable` does with `encodeIfPresent`); `"` and `\` escaped,
/// `\b \t \n \f \r`, other control characters as `\u00xx`, everything else (`/`, non-ASCII)
/// written as is.
///
/// ```swift
/// var out = JSONWriter()
/// intent.write(to: &out)
/// let text = out.text
/// ```
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// Whether the next member or element needs a comma before it.
    private var needsComma = false

    public init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    /// The JSON as text.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    // MARK: containers

    public mutating func beginObject() {
        comma()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        comma()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A member's key; the value written next belongs to it. Callers write keys in
    /// sorted order (``sortedKeys(_:)`` for a dictionary's).
    public mutating func key(_ name: StaticString) {
        comma()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// A member's key that is not a literal (a dictionary's), escaped as any string.
    public mutating func key(_ name: String) {
        comma()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    // MARK: values

    public mutating func string(_ value: String) {
        comma()
        appendQuoted(value)
        needsComma = true
    }

    public mutating func int<T: BinaryInteger>(_ value: T) {
        comma()
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
        } else {
            // Digits backwards, then turned round in place; magnitude avoids overflow at .min.
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            let start = bytes.count
            var magnitude = value.magnitude
            while magnitude > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10))
                magnitude /= 10
            }
            bytes[start...].reverse()
        }
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        comma()
        if value {
            bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])  // true
        } else {
            bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])  // false
        }
        needsComma = true
    }

    /// JSON text written elsewhere (a stored event), spliced in as one value.
    public mutating func raw(_ json: String) {
        comma()
        bytes.append(contentsOf: json.utf8)
        needsComma = true
    }

    // MARK: members, for the usual shapes

    public mutating func member(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    public mutating func member<T: BinaryInteger>(_ name: StaticString, _ value: T) {
        key(name)
        int(value)
    }

    public mutating func member(_ name: StaticString, _ value: Bool) {
        key(name)
        bool(value)
    }

    /// The member only when `value` is not nil, as `encodeIfPresent` writes it.
    public mutating func member(_ name: StaticString, ifPresent value: String?) {
        if let value { member(name, value) }
    }

    public mutating func member<T: BinaryInteger>(_ name: StaticString, ifPresent value: T?) {
        if let value { member(name, value) }
    }

    /// The keys of a dictionary in the order `JSONEncoder` writes them: by UTF-8 bytes.
    public static func sortedKeys<Value>(_ dictionary: [String: Value]) -> [String] {
        dictionary.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    // MARK: private

    private mutating func comma() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func appendQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for (i, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                if start < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i])) }
                start = i + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case 0x22: bytes.append(0x22)
                case 0x5C: bytes.append(0x5C)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    bytes.append(Self.hex[Int(byte >> 4)])
                    bytes.append(Self.hex[Int(byte & 0x0F)])
                }
            }
            if start < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
