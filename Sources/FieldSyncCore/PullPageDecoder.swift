/// Reads a pull page straight from its bytes into a ``PullResponse``, each event's text
/// cut out on the way, in one pass and without Foundation.
///
/// Why: the profile of a desk's first sync showed Foundation's `JSONDecoder` as about half
/// of the device's CPU (it builds a tree of every value, then decodes through the
/// `Decoder` protocol's existential containers). This reader knows the page's shape and
/// builds the wire types directly, with ``JSONReader`` (the events as the server reads
/// pushed and stored intents: `Intent.init(reading:)`).
///
/// It is not a second JSON dialect: it accepts only what it fully understands and gives
/// nil for anything else (a number with a fraction or exponent where an integer is read,
/// a repeated key, an unknown intent kind, a value of the wrong type, any syntax error),
/// so the caller decodes those pages with `JSONDecoder`, which then decides. Where it
/// succeeds it gives exactly what `JSONDecoder` gives (property-tested in
/// `PullPageDecoderTests`): keys in any order and with escapes, unknown keys ignored,
/// `null` or absence for optional fields, keys an action's kind does not read ignored
/// whatever they hold.
public enum PullPageDecoder {
    /// The page in `bytes`, with ``PullResponse/eventTexts`` set; nil when the bytes are
    /// not a pull page this reader is sure of (decode them with `JSONDecoder`).
    public static func decode(_ bytes: [UInt8]) -> PullResponse? {
        try? JSONReader.read(bytes) { try page(&$0) }
    }

    /// One intent's JSON text (an event as the device or the server stored it), read the
    /// same way; nil when the reader is not sure of it (decode it with `JSONDecoder`).
    public static func intent(_ text: String) -> Intent? {
        try? JSONReader.read(text) { try Intent(reading: &$0) }
    }

    private static func page(_ r: inout JSONReader) throws -> PullResponse {
        var orders: [OrderSnapshot]?
        var texts: [[String]] = []
        var revoked: [String]?
        var archived: [String]?
        var cursor: Int64?
        var hasMore: Bool?
        var checksum: String??
        var serverHLC: HLC?
        try r.object(checkingRepeats: false) { r, key in
            switch key {
            case "orders":
                try r.once(orders)
                orders = try r.list { r in
                    let (snapshot, eventTexts) = try snapshot(&r)
                    texts.append(eventTexts)
                    return snapshot
                }
            case "revoked": try r.once(revoked); revoked = try r.list { try $0.string() }
            case "archived": try r.once(archived); archived = r.null() ? [] : try r.list { try $0.string() }
            case "cursor": try r.once(cursor); cursor = try r.int64()
            case "hasMore": try r.once(hasMore); hasMore = try r.bool()
            case "checksum": try r.once(checksum); checksum = .some(try r.optionalString())
            case "serverHLC": try r.once(serverHLC); serverHLC = try HLC(reading: &r)
            default: try r.skip()
            }
        }
        guard let orders, let revoked, let cursor, let hasMore, let serverHLC else { throw r.missing("a member of a pull page") }
        var page = PullResponse(
            orders: orders, revoked: revoked, archived: archived ?? [], cursor: cursor, hasMore: hasMore,
            checksum: checksum ?? nil, serverHLC: serverHLC)
        page.eventTexts = texts
        return page
    }

    /// An order of the page, and the text of each of its events.
    private static func snapshot(_ r: inout JSONReader) throws -> (OrderSnapshot, [String]) {
        var id: String?
        var version: Int64?
        var events: [Intent]?
        var texts: [String] = []
        var after: Int64??
        try r.object(checkingRepeats: false) { r, key in
            switch key {
            case "id": try r.once(id); id = try r.string()
            case "version": try r.once(version); version = try r.int64()
            case "after": try r.once(after); after = .some(try r.optionalInt64())
            case "events":
                try r.once(events)
                texts = []
                events = try r.list { r in
                    let (event, text) = try r.withText { try Intent(reading: &$0) }
                    texts.append(text)
                    return event
                }
            default: try r.skip()
            }
        }
        guard let id, let version, let events else { throw r.missing("a member of an order") }
        return (OrderSnapshot(id: id, version: version, events: events, after: after ?? nil), texts)
    }
}
