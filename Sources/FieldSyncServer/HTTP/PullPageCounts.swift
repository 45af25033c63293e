/// How many orders, events and revocations one pull page carries, read from the page's
/// JSON as the service wrote it (`SyncService.pullJSON`), for `/metrics`.
///
/// One pass over the bytes with no allocation per value: the page is sent as written, and
/// decoding it again only to count would cost more than the counting is worth.
struct PullPageCounts: Sendable, Equatable {
    var orders = 0
    var events = 0
    var revocations = 0

    init(orders: Int = 0, events: Int = 0, revocations: Int = 0) {
        self.orders = orders
        self.events = events
        self.revocations = revocations
    }

    /// What a container being read is, so a value can be told apart by where it sits.
    private enum Place {
        /// The page object itself.
        case page
        /// The top-level `orders` array, an order in it, its `events` array.
        case orders, order, events
        /// The top-level `revoked` array.
        case revoked
        /// Anything else (an event's insides, `archived`, `serverHLC`, …).
        case other
    }

    /// Counts the values of `orders`, of each order's `events` and of `revoked` in `json`.
    ///
    /// Keys are compared by their raw bytes, which is right for the service's output
    /// (keys with no escapes). Malformed input counts what it can and never traps.
    init(json: [UInt8]) {
        self.init()
        /// The open containers: where each sits, and whether it is an object.
        var stack: [(place: Place, isObject: Bool)] = []
        /// The last key read in each open object, by depth (bytes between the quotes).
        var keys: [ArraySlice<UInt8>] = []
        var index = 0
        let end = json.count
        /// Whether the next string in an object is a key.
        var expectKey = false
        /// Where a value just started: counts it if it sits in a counted array.
        func valueStarts() {
            switch stack.last?.place {
            case .orders?: orders += 1
            case .events?: events += 1
            case .revoked?: revocations += 1
            default: break
            }
        }
        /// What a container opened as the value of the current key becomes.
        func place(opening object: Bool) -> Place {
            let key = keys.last.map { String(decoding: $0, as: UTF8.self) }
            switch (stack.last?.place, object, key) {
            case (nil, true, _): return .page
            case (.page?, false, "orders"?): return .orders
            case (.page?, false, "revoked"?): return .revoked
            case (.orders?, true, _): return .order
            case (.order?, false, "events"?): return .events
            default: return .other
            }
        }
        while index < end {
            let byte = json[index]
            switch byte {
            case UInt8(ascii: "\""):
                let start = index + 1
                index += 1
                while index < end, json[index] != UInt8(ascii: "\"") {
                    index += json[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                if expectKey, !keys.isEmpty {
                    keys[keys.count - 1] = json[start..<min(index, end)]
                    expectKey = false
                } else {
                    valueStarts()
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let object = byte == UInt8(ascii: "{")
                if !stack.isEmpty { valueStarts() }
                let place = place(opening: object)
                stack.append((place, object))
                keys.append(object ? [] : keys.last ?? [])
                expectKey = object
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty { stack.removeLast() }
                if !keys.isEmpty { keys.removeLast() }
                expectKey = false
            case UInt8(ascii: ","):
                // After a comma in an object comes a key; in an array, a value.
                expectKey = stack.last?.isObject ?? false
            case UInt8(ascii: ":"), UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                break
            default:
                // A number, true, false or null: one value, then skip to its end.
                valueStarts()
                while index + 1 < end, !",]} \n\t\r".utf8.contains(json[index + 1]) { index += 1 }
            }
            index += 1
        }
    }
}
