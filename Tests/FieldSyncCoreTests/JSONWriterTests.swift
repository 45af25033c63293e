@testable import FieldSyncCore
import Foundation
import PropertyBased
import Testing

/// What the server wrote before ``JSONWriter``: every stored digest of an intent is of
/// these bytes, so the writer must give exactly them.
private func encoderText<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Strings that JSON has to escape or must leave alone: quotes, backslashes, slashes,
/// every control character, DEL, Chinese, an emoji, the line separators JavaScript minds.
private struct AwkwardText {
    static let palette: [String] = {
        var p = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }
        p += ["\"", "\\", "/", "\u{7f}", "\u{80}", "\u{2028}", "\u{2029}", "\u{FEFF}", "é", "中", "暖气片", "😀",
              "a", "Z", "_", "0", " ", "{", "}", ":", ","]
        return p
    }()

    var rng: SplitMix64

    mutating func next(maxLength: Int = 12) -> String {
        let count = Int.random(in: 0...maxLength, using: &rng)
        return (0..<count).map { _ in Self.palette.randomElement(using: &rng)! }.joined()
    }

    mutating func maybe() -> String? { Bool.random(using: &rng) ? next() : nil }

    mutating func int() -> Int { [0, 1, -1, 42, Int.max, Int.min, Int.random(in: -1_000_000...1_000_000, using: &rng)].randomElement(using: &rng)! }

    mutating func hlc() -> HLC {
        HLC(physical: Int64(int()), logical: Int32.random(in: .min ... .max, using: &rng), device: next())
    }

    mutating func child() -> ChildEntry {
        ChildEntry(
            id: next(), kind: ChildEntry.Kind.allCases.randomElement(using: &rng)!, text: next(),
            code: maybe(), quantity: Bool.random(using: &rng) ? int() : nil,
            amountFen: Bool.random(using: &rng) ? int() : nil, digest: maybe(), value: maybe(), unit: maybe())
    }

    mutating func signOff() -> SignOff {
        SignOff(
            signerName: next(), signerRole: next(), signatureDigest: next(), rating: int(), comment: maybe(),
            signedAt: Int64(int()), contentHash: next())
    }

    mutating func action() -> Action {
        switch Int.random(in: 0..<9, using: &rng) {
        case 0:
            var fields: [OrderField: String] = [:]
            for field in OrderField.allCases where Bool.random(using: &rng) { fields[field] = next() }
            return .create(fields: fields)
        case 1: return .assign(technician: next())
        case 2: return .transition(to: OrderStatus.allCases.randomElement(using: &rng)!, note: maybe())
        case 3:
            return .setField(
                field: OrderField.allCases.randomElement(using: &rng)!, value: maybe(),
                base: Bool.random(using: &rng) ? hlc() : nil)
        case 4: return .append(child())
        case 5: return .void(childId: next(), reason: next())
        case 6: return .signOff(signOff())
        case 7: return .requestCompensation(id: next(), amountFen: int(), reason: next())
        default: return .reopen(reason: next())
        }
    }

    mutating func intent() -> Intent {
        Intent(
            opId: next(), deviceId: next(), deviceSeq: Int64(int()), actor: next(),
            role: Bool.random(using: &rng) ? .technician : .dispatcher, hlc: hlc(), occurredAt: Int64(int()),
            orderId: next(), createOp: maybe(), action: action(),
            clampedFrom: Bool.random(using: &rng) ? Int64(int()) : nil)
    }

    /// A fold with every part filled in, then its strings and keys made awkward.
    mutating func order() -> WorkOrder {
        let create = Intent(
            opId: next(), deviceId: next(), deviceSeq: 1, actor: next(), role: .dispatcher, hlc: hlc(),
            occurredAt: Int64(int()), orderId: next(), action: .create(fields: [.kind: "repair"]))
        var order = WorkOrder(creating: create)!
        for _ in 0..<Int.random(in: 0...4, using: &rng) {
            order.fields[next()] = FieldValue(value: maybe(), hlc: hlc(), actor: next(), opId: next())
        }
        order.assignee = maybe()
        order.formerAssignees = (0..<Int.random(in: 0...2, using: &rng)).map { _ in next() }
        order.status = OrderStatus.allCases.randomElement(using: &rng)!
        order.history = (0..<Int.random(in: 0...3, using: &rng)).map { _ in
            StatusEntry(
                opId: next(), from: .open, to: .assigned, actor: next(), device: next(), occurredAt: Int64(int()),
                hlc: hlc(), note: maybe(), assignee: maybe(),
                effect: [.applied, .ignored, .overridden].randomElement(using: &rng)!, reason: maybe(),
                clockClamped: Bool.random(using: &rng))
        }
        let void = VoidInfo(actor: next(), opId: next(), reason: next(), occurredAt: Int64(int()))
        order.children = (0..<Int.random(in: 0...3, using: &rng)).map { _ in
            ChildRecord(
                entry: child(), actor: next(), opId: next(), occurredAt: Int64(int()), hlc: hlc(),
                voided: Bool.random(using: &rng) ? void : nil, history: Bool.random(using: &rng))
        }
        let record = SignOffRecord(
            signOff: signOff(), actor: next(), opId: next(), occurredAt: Int64(int()), voidedBy: maybe(),
            voidReason: maybe())
        order.signOff = Bool.random(using: &rng) ? record : nil
        order.voidedSignOffs = Bool.random(using: &rng) ? [record] : []
        order.compensations = Bool.random(using: &rng)
            ? [Compensation(id: next(), amountFen: int(), reason: next(), actor: next(), occurredAt: Int64(int()), state: .awaitingApproval)]
            : []
        let side = Conflict.Side(value: maybe(), actor: next(), device: next(), opId: next(), occurredAt: Int64(int()))
        order.conflicts = Bool.random(using: &rng)
            ? [Conflict(id: next(), orderId: next(), field: next(), rule: .statusIgnored, winner: side, loser: side, at: Int64(int()), message: next())]
            : []
        order.onSiteAt = Bool.random(using: &rng) ? Int64(int()) : nil
        order.completedAt = Bool.random(using: &rng) ? Int64(int()) : nil
        order.createOpId = maybe()
        order.lastOpId = maybe()
        if Bool.random(using: &rng) {
            var voids: [String: VoidInfo] = [:]
            for _ in 0...Int.random(in: 0...4, using: &rng) { voids[next()] = void }
            order.pendingVoids = voids
        }
        return order
    }
}

@Suite("JSONWriter writes the bytes JSONEncoder wrote; JSONReader reads what JSONDecoder reads")
struct JSONWriterTests {
    static let seeds = Gen.uint64()

    @Test("property: an intent with awkward strings, numbers and every action kind")
    func intentsMatchTheEncoder() async {
        await propertyCheck(count: 500, input: Self.seeds) { seed in
            // Given a random intent
            var text = AwkwardText(rng: SplitMix64(state: seed))
            let intent = text.intent()

            // When both write it, Then the bytes are equal and decode to the intent
            let written = intent.jsonText
            #expect(written == (try? encoderText(intent)), "seed \(seed)")
            #expect((try? JSONDecoder().decode(Intent.self, from: Data(written.utf8))) == intent, "seed \(seed)")
        }
    }

    @Test("property: an order's fold with every part filled in")
    func ordersMatchTheEncoder() async {
        await propertyCheck(count: 300, input: Self.seeds) { seed in
            // Given a random order state, dictionary keys included
            var text = AwkwardText(rng: SplitMix64(state: seed))
            let order = text.order()

            // When both write it, Then the bytes are equal and decode to the order
            let written = order.jsonText
            #expect(written == (try? encoderText(order)), "seed \(seed)")
            #expect((try? JSONDecoder().decode(WorkOrder.self, from: Data(written.utf8))) == order, "seed \(seed)")
        }
    }

    @Test("property: folds of random histories (the reference model's) and their events")
    func foldsMatchTheEncoder() async {
        let cases = zip(Gen.uint64(), Gen.int(in: 2...3), Gen.int(in: 0...40))
            .map { seed, devices, steps in ReferenceCase.make(seed: seed, deviceCount: devices, steps: steps) }
        await propertyCheck(count: 200, input: cases) { c in
            // Given a random history and its fold
            let order = WorkOrder.fold(c.delivery)

            // Then every event and the fold are written as the encoder writes them
            for event in c.delivery {
                #expect(event.jsonText == (try? encoderText(event)), "\(c.replay)")
            }
            if let order {
                #expect(order.jsonText == (try? encoderText(order)), "\(c.replay)")
                for conflict in order.conflicts {
                    #expect(conflict.jsonText == (try? encoderText(conflict)), "\(c.replay)")
                }
            }
        }
    }

    @Test("property: a push's answer, with rejections, conflicts and stored intents")
    func pushResponsesMatchTheEncoder() async {
        await propertyCheck(count: 200, input: Self.seeds) { seed in
            // Given a random answer
            var text = AwkwardText(rng: SplitMix64(state: seed))
            let results: [PushOutcome.Result] = [.applied, .merged, .rejected, .deferred]
            let outcomes = (0..<Int.random(in: 0...4, using: &text.rng)).map { _ in
                PushOutcome(
                    deviceSeq: Int64(text.int()), opId: text.next(), result: results.randomElement(using: &text.rng)!,
                    duplicate: Bool.random(using: &text.rng),
                    rejection: Bool.random(using: &text.rng) ? Rejection(.signed, text.next()) : nil,
                    conflicts: (0..<Int.random(in: 0...2, using: &text.rng)).map { _ in text.next() },
                    stored: Bool.random(using: &text.rng) ? text.intent() : nil)
            }
            let response = PushResponse(outcomes: outcomes, nextSeq: Int64(text.int()), serverHLC: text.hlc())

            // When both write it, Then the bytes are equal; without `stored` too
            var out = JSONWriter()
            response.write(to: &out)
            #expect(out.text == (try? encoderText(response)), "seed \(seed)")
            for outcome in outcomes {
                var kept = outcome
                kept.stored = nil
                var one = JSONWriter()
                outcome.write(to: &one, includeStored: false)
                #expect(one.text == (try? encoderText(kept)), "seed \(seed)")
            }
        }
    }

    @Test("property: the reader gives what JSONDecoder gives, escapes and all")
    func readerMatchesTheDecoder() async {
        await propertyCheck(count: 300, input: Self.seeds) { seed in
            // Given a random request and order, written by the encoder, and again with
            // every non-ASCII and escaped character as a \u escape (what other clients send)
            var text = AwkwardText(rng: SplitMix64(state: seed))
            let request = PushRequest(deviceId: text.next(), intents: (0..<3).map { _ in text.intent() })
            let order = text.order()
            let requestText = (try? encoderText(request)) ?? ""
            let orderText = (try? encoderText(order)) ?? ""

            // When the reader reads them, Then it gets the values back
            for json in [requestText, Self.escapingEverything(requestText)] {
                #expect((try? PushRequest(json: Array(json.utf8))) == request, "seed \(seed): \(json)")
            }
            for json in [orderText, Self.escapingEverything(orderText)] {
                #expect((try? WorkOrder(json: Array(json.utf8))) == order, "seed \(seed): \(json)")
            }
        }
    }

    @Test("property: an intent reads the same on the push's and the pull's paths, as JSONDecoder reads it")
    func everyEntryPointMatchesTheDecoder() async {
        await propertyCheck(count: 300, input: Self.seeds) { seed in
            // Given a random intent written by the encoder; with a member of another kind
            // holding a number; with a member repeated (JSONDecoder takes the first); and
            // each of those with its strings and keys escaped. Whether the reader must read
            // it (else refuse it): a kind's own members may not repeat, nor be numbers.
            var text = AwkwardText(rng: SplitMix64(state: seed))
            let intent = text.intent()
            let plain = (try? encoderText(intent)) ?? ""
            let kind = intent.action.kind
            let written: [(json: String, read: Bool)] = [
                (plain, true),
                (plain.replacingOccurrences(of: #""action":{"#, with: #""action":{"note":5,"#), kind != "transition"),
                (plain.replacingOccurrences(of: #""action":{"#, with: #""action":{"reason":"dup","#),
                 !["void", "request_compensation", "reopen"].contains(kind)),
                (#"{"actor":"dup","# + plain.dropFirst(), false),
            ]

            for (json, read) in written.flatMap({ [$0, (Self.escapingEverything($0.json), $0.read)] }) {
                // When the reader reads it as a stored event (server and device), as a
                // push's intent and as an event of a pull page
                let stored = try? Intent(json: Array(json.utf8))
                let pushed = try? PushRequest(json: Array(#"{"deviceId":"d","intents":[\#(json)]}"#.utf8))
                let page = PullPageDecoder.decode(Array((
                    #"{"cursor":1,"hasMore":false,"orders":[{"events":[\#(json)],"id":"WO","version":1}],"#
                        + #""revoked":[],"serverHLC":{"device":"s","logical":0,"physical":1}}"#).utf8))

                // Then every path gives the same: JSONDecoder's intent, or nothing
                #expect(PullPageDecoder.intent(json) == stored, "seed \(seed): \(json)")
                #expect(pushed?.intents == stored.map { [$0] }, "seed \(seed): \(json)")
                #expect(page?.orders.first?.events == stored.map { [$0] }, "seed \(seed): \(json)")
                #expect(page?.eventTexts == stored.map { _ in [[json]] }, "seed \(seed): \(json)")
                if read {
                    #expect(stored == intent, "seed \(seed): \(json)")
                    #expect((try? JSONDecoder().decode(Intent.self, from: Data(json.utf8))) == intent, "seed \(seed)")
                } else {
                    #expect(stored == nil, "seed \(seed): \(json)")
                }
            }
        }
    }

    @Test func theReaderRefusesWhatItDoesNotReadExactly() throws {
        // Given bodies JSONDecoder reads or refuses in its own way
        let intent = Intent(
            opId: "op", deviceId: "d", deviceSeq: 1, actor: "li", role: .technician,
            hlc: HLC(physical: 5, device: "d"), occurredAt: 5, orderId: "WO-1", action: .assign(technician: "li"))
        let good = intent.jsonText
        let odd = [
            good.replacingOccurrences(of: "\"deviceSeq\":1", with: "\"deviceSeq\":1.0"),  // a fraction
            good.replacingOccurrences(of: "\"deviceSeq\":1", with: "\"deviceSeq\":1e0"),  // an exponent
            good.replacingOccurrences(of: "\"opId\":\"op\"", with: "\"opId\":\"op\",\"opId\":\"x\""),  // twice
            good.replacingOccurrences(of: "\"actor\":\"li\"", with: "\"actor\":null"),  // null where required
            good.replacingOccurrences(of: "\"assign\"", with: "\"unheard_of\""),  // unknown kind
            good.replacingOccurrences(of: "\"deviceSeq\":1", with: "\"deviceSeq\":01"),  // leading zero
            good + " x",  // text after the value
        ]

        // Then the reader reads the plain body, and fails every odd one (JSONDecoder then decides)
        #expect(try Intent(json: Array(good.utf8)) == intent)
        for body in odd {
            #expect(throws: JSONReader.Failure.self, "\(body)") { try Intent(json: Array(body.utf8)) }
        }
        // A create's fields are matched by their bytes: a name this build lacks, a prefix or
        // a longer spelling of one it has, or a field twice, is refused too
        let create = Intent(
            opId: "op", deviceId: "d", deviceSeq: 1, actor: "desk", role: .dispatcher,
            hlc: HLC(physical: 5, device: "d"), occurredAt: 5, orderId: "WO-1",
            action: .create(fields: [.kind: "repair", .customerName: "王国庆", .urgency: "2"]))
        let fields = create.jsonText
        #expect(try Intent(json: Array(fields.utf8)) == create)
        for body in [
            fields.replacingOccurrences(of: "\"urgency\":", with: "\"colour\":\"blue\",\"urgency\":"),
            fields.replacingOccurrences(of: "\"urgency\":", with: "\"urgenc\":"),
            fields.replacingOccurrences(of: "\"urgency\":", with: "\"urgencyy\":"),
            fields.replacingOccurrences(of: "\"urgency\":", with: "\"kind\":\"repair\",\"urgency\":"),
        ] {
            #expect(body != fields)
            #expect(throws: JSONReader.Failure.self, "\(body)") { try Intent(json: Array(body.utf8)) }
        }
        // An invalid UTF-8 byte inside a string is refused too, not repaired
        var bytes = Array(good.utf8)
        bytes[bytes.firstIndex(of: UInt8(ascii: "l"))!] = 0xFF
        #expect(throws: JSONReader.Failure.self) { try Intent(json: bytes) }
    }

    /// The same JSON with every string character outside printable ASCII, and a few inside
    /// it, written as `\uXXXX` (surrogate pairs beyond the BMP), and slashes as `\/`.
    static func escapingEverything(_ json: String) -> String {
        var out = ""
        var inString = false
        var escaped = false
        var verbatim = 0  // the four hex digits of a \u escape already there
        for scalar in json.unicodeScalars {
            if verbatim > 0 {
                out.unicodeScalars.append(scalar)
                verbatim -= 1
                continue
            }
            if escaped {
                out.unicodeScalars.append(scalar)
                escaped = false
                if scalar == "u" { verbatim = 4 }
                continue
            }
            if scalar == "\\" && inString {
                out += "\\"
                escaped = true
                continue
            }
            if scalar == "\"" {
                inString.toggle()
                out += "\""
                continue
            }
            if inString && (scalar.value > 0x7E || scalar == "a") {
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
            } else if inString && scalar == "/" {
                out += "\\/"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
