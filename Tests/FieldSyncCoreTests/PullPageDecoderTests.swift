import FieldSyncCore
import Foundation
import PropertyBased
import Testing

/// `PullPageDecoder` must give exactly what `JSONDecoder` gives, or nothing (the device
/// then decodes the page with `JSONDecoder`): a page read differently would store other
/// events than the server sent.
///
/// Serialized, and each case yields first: the cases are CPU work on the cooperative pool,
/// which the live servers of other suites need to start.
@Suite("Pull page decoder agrees with JSONDecoder", .serialized)
struct PullPageDecoderTests {
    /// A page from a random history (every action kind the simulation makes, plus one of
    /// each kind from `WireTests`), cut into orders, some of them deltas.
    static func page(seed: UInt64) -> PullResponse {
        var rng = SplitMix64(state: seed)
        var events = Scenario.make(seed: seed, deviceCount: Int.random(in: 2...3, using: &rng), steps: Int.random(in: 0...30, using: &rng)).events
        var timeline = Timeline.assignedToWang()
        for action in WireTests.actions where Bool.random(using: &rng) {
            var intent = timeline.add(action, by: action.kind == "set_field" ? .wang : .zhang, at: 7)
            if Bool.random(using: &rng) { intent.clampedFrom = Int64.random(in: -5...Int64.max, using: &rng) }
            events.append(intent)
        }
        var orders: [OrderSnapshot] = []
        var rest = events[...]
        var version: Int64 = 0
        while !rest.isEmpty || orders.count < 2 {
            let n = Int.random(in: 0...min(rest.count, 5), using: &rng)
            version += Int64(n + 1)
            orders.append(OrderSnapshot(
                id: "WO-\(orders.count)", version: version, events: Array(rest.prefix(n)),
                after: Bool.random(using: &rng) ? version - Int64(n) : nil))
            rest = rest.dropFirst(n)
        }
        return PullResponse(
            orders: orders, revoked: Bool.random(using: &rng) ? ["WO-r\\\"1", "单"] : [],
            archived: Bool.random(using: &rng) ? ["WO-a"] : [], cursor: version, hasMore: Bool.random(using: &rng),
            checksum: Bool.random(using: &rng) ? String(UInt64.random(in: 0...UInt64.max, using: &rng)) : nil,
            serverHLC: HLC(physical: Int64.random(in: 0...Int64.max, using: &rng), logical: Int32.random(in: 0...Int32.max, using: &rng), device: "server"))
    }

    /// Strings a JSON writer escapes in every way it can.
    static let tricky = [
        "", "a", "门 \"3\" {东侧} [b] \\ 后门 \"}]", "tab\tnew\nline\r", "\u{01}\u{1f}\u{7f}", "/slash/",
        "emoji 🚿🔧", "\u{2028}\u{2029}", "null", "true", "-0", "1e5", "\\u0041",
    ]

    /// The page's JSON as another writer might send it: keys in another order, unknown
    /// keys added, optional keys left out or sent as null, strings replaced by tricky ones.
    static func variant(of page: PullResponse, seed: UInt64) throws -> [UInt8] {
        var rng = SplitMix64(state: seed ^ 0x5eed)
        let tree = try JSONSerialization.jsonObject(with: JSONEncoder().encode(page))
        func walk(_ value: Any, key: String?) -> Any {
            if var object = value as? [String: Any] {
                for (k, v) in object { object[k] = walk(v, key: k) }
                // (not in a create's fields: an unknown field is an error there)
                if key != "fields", Int.random(in: 0..<6, using: &rng) == 0 {
                    object["extra\(Int.random(in: 0...9, using: &rng))"] =
                        [["nested": [1, 2.5, -3e2, "x", NSNull(), true]], "s", 7][Int.random(in: 0...2, using: &rng)]
                }
                for optional in ["createOp", "clampedFrom", "note", "base", "comment", "code", "digest", "unit", "checksum", "after", "archived"]
                where object[optional] != nil && Int.random(in: 0..<4, using: &rng) == 0 {
                    object[optional] = Bool.random(using: &rng) ? nil : NSNull()
                }
                return object
            }
            if let list = value as? [Any] { return list.map { walk($0, key: nil) } }
            if value is String, let key, ["text", "note", "reason", "actor", "value", "signerName", "comment"].contains(key),
               Bool.random(using: &rng)
            {
                return tricky.randomElement(using: &rng)!
            }
            return value
        }
        let options: JSONSerialization.WritingOptions = Bool.random(using: &rng) ? [.prettyPrinted] : [.sortedKeys]
        return Array(try JSONSerialization.data(withJSONObject: walk(tree, key: nil), options: options))
    }

    static let seeds = Gen.uint64()

    @Test("property: on random pages in any writer's form, the decoder gives JSONDecoder's page and the events' own texts")
    func agreesWithJSONDecoder() async {
        await propertyCheck(count: 200, input: Self.seeds) { seed in
            await Task.yield()
            // Given a random page, as the server writes it and in another writer's form
            let page = Self.page(seed: seed)
            for bytes in [Array(try JSONEncoder().encode(page)), try Self.variant(of: page, seed: seed)] {
                // When both decoders read it
                let reference = try JSONDecoder().decode(PullResponse.self, from: Data(bytes))
                let fast = try #require(PullPageDecoder.decode(bytes), "the decoder gave up on a well-formed page")

                // Then they agree, and every event's text is its own JSON
                var values = fast
                values.eventTexts = nil
                #expect(values == reference)
                #expect(fast.eventTexts == PullPageText.eventTexts(in: bytes))
                for (snapshot, texts) in zip(fast.orders, fast.eventTexts ?? []) {
                    let decoded = try texts.map { try JSONDecoder().decode(Intent.self, from: Data($0.utf8)) }
                    #expect(decoded == snapshot.events)
                    // and each text alone reads as its event (the store reads them back so)
                    #expect(texts.map { PullPageDecoder.intent($0) } == snapshot.events)
                }
            }
        }
    }

    @Test("property: a damaged page is either refused or read exactly as JSONDecoder reads it")
    func damagedPagesNeverDisagree() async {
        await propertyCheck(count: 300, input: Self.seeds) { seed in
            await Task.yield()
            // Given a page with one to three bytes changed, removed or added
            var rng = SplitMix64(state: seed)
            var bytes = Array(try JSONEncoder().encode(Self.page(seed: seed)))
            let alphabet = Array("{}[]\",:0123456789.e-tfnul \\aé".utf8)
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: bytes[at] = alphabet.randomElement(using: &rng)!
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet.randomElement(using: &rng)!, at: at)
                }
            }
            // When the decoder reads it, Then it refuses or agrees with JSONDecoder
            guard var fast = PullPageDecoder.decode(bytes) else { return }
            fast.eventTexts = nil
            let text = String(decoding: bytes, as: UTF8.self)
            let reference = try #require(
                try? JSONDecoder().decode(PullResponse.self, from: Data(bytes)), "JSONDecoder refuses what the decoder read: \(text)")
            #expect(fast == reference, "\(text)")
        }
    }

    @Test("what the decoder is not sure of it leaves to JSONDecoder", arguments: [
        #"{"orders":[],"revoked":[],"cursor":1.0,"hasMore":false,"serverHLC":{"physical":1,"logical":0,"device":"s"}}"#,
        #"{"orders":[],"revoked":[],"cursor":1,"cursor":2,"hasMore":false,"serverHLC":{"physical":1,"logical":0,"device":"s"}}"#,
        #"{"orders":[],"revoked":[],"cur\u0073or":1,"cursor":2,"hasMore":false,"serverHLC":{"physical":1,"logical":0,"device":"s"}}"#,
        #"{"orders":[],"revoked":[],"cursor":1,"hasMore":false,"serverHLC":{"physical":1,"logical":2147483648,"device":"s"}}"#,
        #"{"orders":[],"revoked":[],"cursor":1,"hasMore":false,"serverHLC":{"physical":1,"logical":0,"device":"s"}} x"#,
        #"{"orders":[],"revoked":[],"cursor":1,"hasMore":false}"#,
        #"{"orders":[],"revoked":["\ud800"],"cursor":1,"hasMore":false,"serverHLC":{"physical":1,"logical":0,"device":"s"}}"#,
    ])
    func givesUp(json: String) {
        // Given a page with a number in another form, a repeated key (once written with
        // an escape), an overflowing counter, trailing bytes, a missing key or a lone
        // surrogate
        // When the decoder reads it, Then it gives up
        #expect(PullPageDecoder.decode(Array(json.utf8)) == nil)
    }

    @Test("a key written with escapes is read as JSONDecoder reads it")
    func escapedKeys() throws {
        // Given a page whose keys another writer escaped
        let json = #"{"orders":[],"revoked":[],"cur\u0073or":1,"h\u0061sMore":false,"serverHLC":{"physical":1,"logical":0,"device":"\u0073"}}"#

        // When both decoders read it, Then they agree
        let fast = try #require(PullPageDecoder.decode(Array(json.utf8)))
        #expect(fast.cursor == 1)
        var values = fast
        values.eventTexts = nil
        #expect(values == (try JSONDecoder().decode(PullResponse.self, from: Data(json.utf8))))
    }

    @Test("an unknown intent kind is left to JSONDecoder, which names it")
    func unknownKindGoesToJSONDecoder() throws {
        // Given a page with an event of a kind this build does not know
        var timeline = Timeline.assignedToWang()
        let intent = timeline.add(.reopen(reason: "x"), by: .zhang, at: 7)
        let page = PullResponse(
            orders: [OrderSnapshot(id: intent.orderId, version: 1, events: [intent])], revoked: [], cursor: 1,
            hasMore: false, checksum: nil, serverHLC: HLC(physical: 1, device: "s"))
        let json = String(decoding: try JSONEncoder().encode(page), as: UTF8.self)
            .replacingOccurrences(of: "\"reopen\"", with: "\"teleport\"")

        // When the decoder reads it, Then it gives up, and JSONDecoder throws the kind
        #expect(PullPageDecoder.decode(Array(json.utf8)) == nil)
        #expect(throws: UnknownIntentKind.self) { try JSONDecoder().decode(PullResponse.self, from: Data(json.utf8)) }
    }
}
