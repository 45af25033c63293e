/// The id of a new intent: UUID-shaped, version 7 (RFC 9562), whose first 48 bits are the
/// device clock's milliseconds and the other 74 random.
///
/// Why not a random (version 4) UUID: the server keeps every op id in unique indexes
/// (`events.op_id`, `outcomes(device_id, op_id)`), and random keys land on a different
/// leaf page each, so a 500-intent push dirtied most of those indexes' leaves and wrote them
/// to the WAL (the push's profile: the kernel writing pages was its largest item). Ids that
/// grow with time are appended to the same few pages. Uniqueness rests on the 74 random bits
/// as before; nothing reads the time back (a wrong tablet clock only costs locality).
public enum OperationID {
    /// A new id for an intent recorded at `millis` (ms since 1970).
    public static func make(millis: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(millis: millis, using: &generator)
    }

    /// The same with a given source of randomness (tests).
    public static func make(millis: Int64, using generator: inout some RandomNumberGenerator) -> String {
        let time = UInt64(bitPattern: max(millis, 0)) & 0xFFFF_FFFF_FFFF
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: time >> (40 - 8 * i)) }
        bytes[6] = 0x70 | UInt8(truncatingIfNeeded: high & 0x0F)
        bytes[7] = UInt8(truncatingIfNeeded: high >> 8)
        bytes[8] = 0x80 | UInt8(truncatingIfNeeded: low & 0x3F)
        for i in 9..<16 { bytes[i] = UInt8(truncatingIfNeeded: low >> (8 * (i - 8))) }
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
