/// The JSON text of each event of a pull page, cut out of the page's bytes without
/// decoding them, so the device stores each event as the server sent it instead of
/// encoding it again (the initial pull's profile showed that re-encoding as an eighth of
/// its time).
public enum PullPageText {
    /// The text of every element of `orders[i].events`, per order, in page order; nil
    /// when the bytes are not shaped as a pull page (the caller then encodes as before).
    public static func eventTexts(in bytes: [UInt8]) -> [[String]]? {
        bytes.withUnsafeBufferPointer { eventTexts(in: $0) }
    }

    private struct Frame {
        var isArray: Bool
        /// Where the key this container sits under is in the bytes (empty in an array).
        var key: Range<Int>
    }

    private static let ordersKey = Array("orders".utf8)
    private static let eventsKey = Array("events".utf8)

    static func eventTexts(in bytes: UnsafeBufferPointer<UInt8>) -> [[String]]? {
        var result: [[String]] = []
        var stack: [Frame] = []
        var lastKey = 0..<0
        var eventStart = -1
        var i = 0
        let n = bytes.count
        func isKey(_ range: Range<Int>, _ key: [UInt8]) -> Bool {
            range.count == key.count && zip(bytes[range], key).allSatisfy { $0 == $1 }
        }
        while i < n {
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: "\""):
                let start = i + 1
                i += 1
                while i < n && bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\") { i += 1 }
                    i += 1
                }
                guard i < n else { return nil }
                // A string directly inside an object and followed by ':' is a key.
                if let top = stack.last, !top.isArray {
                    var j = i + 1
                    while j < n, bytes[j] == 0x20 || bytes[j] == 0x0A || bytes[j] == 0x0D || bytes[j] == 0x09 { j += 1 }
                    if j < n, bytes[j] == UInt8(ascii: ":") { lastKey = start..<i }
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let inObject = stack.last.map { !$0.isArray } ?? false
                stack.append(Frame(isArray: byte == UInt8(ascii: "["), key: inObject ? lastKey : 0..<0))
                let depth = stack.count
                if depth == 3, byte == UInt8(ascii: "{"), isKey(stack[1].key, ordersKey) {
                    result.append([])
                }
                if depth == 5, byte == UInt8(ascii: "{"), isKey(stack[1].key, ordersKey), isKey(stack[3].key, eventsKey) {
                    eventStart = i
                }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard !stack.isEmpty else { return nil }
                if stack.count == 5, byte == UInt8(ascii: "}"), eventStart >= 0, !result.isEmpty {
                    result[result.count - 1].append(String(decoding: bytes[eventStart...i], as: UTF8.self))
                    eventStart = -1
                }
                stack.removeLast()
            default:
                break
            }
            i += 1
        }
        return stack.isEmpty ? result : nil
    }
}
