import FieldSyncCore
import Foundation
import Testing

@Suite("Wire encoding and sign-off content")
struct WireTests {
    /// One action of every kind, with optional parts filled in and left out.
    static let actions: [Action] = [
        .opening(deadline: minute(120)),
        .assign(technician: "wang"),
        .transition(to: .onSite, note: "gate code 4711"),
        .transition(to: .enRoute, note: nil),
        .setField(field: .diagnosis, value: "air lock", base: HLC(physical: minute(3), logical: 2, device: "tab-wang")),
        .setField(field: .specialNeeds, value: nil, base: nil),
        .append(.part("P1")),
        .append(.reading("R1")),
        .void(childId: "P1", reason: "wrong part"),
        .signOff(SignOff(
            signerName: "陈静", signerRole: "customer", signatureDigest: String(repeating: "0f", count: 32),
            rating: 4, comment: nil, signedAt: minute(50), contentHash: String(repeating: "a1", count: 32))),
        .requestCompensation(id: "K1", amountFen: 60_000, reason: "flooded carpet"),
        .reopen(reason: "customer disputes the bill"),
    ]

    private struct Probe: Decodable {
        struct ActionKind: Decodable { var kind: String }
        var action: ActionKind
    }

    @Test("a pull page's events are cut out of its text whole, whatever their strings hold")
    func pullPageTextGivesEachEventsOwnJSON() throws {
        // Given a page whose events hold quotes, braces, brackets and backslashes in their text
        func event(_ n: Int, _ order: String, _ action: Action) -> Intent {
            Intent(opId: "op-\(order)-\(n)", deviceId: "d", deviceSeq: Int64(n), actor: "wang", role: .dispatcher,
                   hlc: HLC(physical: minute(n), device: "d"), occurredAt: minute(n), orderId: order, action: action)
        }
        let tricky = #"门 "3" {东侧} [b] \ 后门 "}]"#
        let orders = [
            OrderSnapshot(id: "WO-1", version: 3, events: [
                event(1, "WO-1", .opening(deadline: minute(60))),
                event(2, "WO-1", .transition(to: .onSite, note: tricky)),
            ]),
            OrderSnapshot(id: "WO-2", version: 4, events: [event(3, "WO-2", .reopen(reason: tricky))], after: 2),
            OrderSnapshot(id: "WO-3", version: 5, events: []),
        ]
        let page = PullResponse(
            orders: orders, revoked: ["WO-9"], archived: ["WO-8"], cursor: 5, hasMore: false, checksum: "7",
            serverHLC: HLC(physical: minute(9), device: "server"))
        for formatting in [JSONEncoder.OutputFormatting.sortedKeys, [.prettyPrinted]] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = formatting
            let bytes = Array(try encoder.encode(page))
            // When its event texts are cut out
            let texts = try #require(PullPageText.eventTexts(in: bytes))
            // Then each decodes to its event, order by order
            #expect(texts.map(\.count) == [2, 1, 0])
            for (snapshot, eventTexts) in zip(orders, texts) {
                let decoded = try eventTexts.map { try JSONDecoder().decode(Intent.self, from: Data($0.utf8)) }
                #expect(decoded == snapshot.events)
            }
        }
        // and a cut-off page is refused rather than sliced wrongly
        let whole = Array(try JSONEncoder().encode(page))
        #expect(PullPageText.eventTexts(in: Array(whole.prefix(whole.count / 2))) == nil)
    }

    @Test("the sample covers every action kind")
    func everyKindCovered() {
        // Given the sample actions, Then their kinds are exactly the wire kinds
        #expect(Set(Self.actions.map(\.kind)) == Set(Action.kinds))
    }

    @Test("an intent survives a JSON round trip, with `kind` on the wire", arguments: actions)
    func intentRoundTrip(action: Action) throws {
        // Given an intent carrying the action (and a clamped time, to cover that field)
        var timeline = Timeline.assignedToWang()
        var intent = timeline.add(action, by: action.kind == "set_field" ? .wang : .zhang, at: 7)
        intent.clampedFrom = minute(9)

        // When it is encoded and decoded
        let data = try JSONEncoder().encode(intent)
        let decoded = try JSONDecoder().decode(Intent.self, from: data)

        // Then it is the same intent, and the action names its kind
        #expect(decoded == intent)
        #expect(try JSONDecoder().decode(Probe.self, from: data).action.kind == action.kind)
    }

    @Test("an unknown intent kind fails decoding with UnknownIntentKind")
    func unknownKind() throws {
        // Given a pushed intent from a newer (or hostile) build
        var intent = Timeline.assignedToWang().draft(.assign(technician: "wang"), by: .zhang)
        intent.action = .reopen(reason: "x")
        var json = String(decoding: try JSONEncoder().encode(intent), as: UTF8.self)
        json = json.replacingOccurrences(of: "\"reopen\"", with: "\"teleport\"")
        #expect(json.contains("\"teleport\""))

        // When it is decoded
        let error = #expect(throws: UnknownIntentKind.self) {
            try JSONDecoder().decode(Intent.self, from: Data(json.utf8))
        }

        // Then the error names the kind and the ones this build knows
        #expect(error?.kind == "teleport")
        #expect(error?.description.contains("set_field") == true)
    }

    @Test("each order field hashes as its position, and its wire name is its raw value's bytes")
    func orderFieldPositions() {
        for (position, field) in OrderField.allCases.enumerated() {
            #expect(field.ordinal == position, "\(field)")
            #expect(OrderField.wireNames[position] == Array(field.rawValue.utf8))
            var hasher = Hasher(), expected = Hasher()
            field.hash(into: &hasher)
            expected.combine(position)
            #expect(hasher.finalize() == expected.finalize())
        }
        #expect(Set(OrderField.allCases).count == OrderField.allCases.count)
    }

    @Test("hex is two lower-case digits a byte")
    func hexDigits() {
        #expect(Hex.string([0x00, 0x09, 0x0a, 0x0f, 0x10, 0xa0, 0xff] as [UInt8]) == "00090a0f10a0ff")
        #expect(Hex.string([UInt8]()) == "")
        let all = Hex.string((0...255).map(UInt8.init))
        #expect(all.count == 512)
        #expect(stride(from: 0, to: 512, by: 2).allSatisfy { n in
            let start = all.index(all.startIndex, offsetBy: n)
            return UInt8(all[start..<all.index(start, offsetBy: 2)], radix: 16) == UInt8(n / 2)
        })
    }

    @Test("a create with an unknown field name fails decoding")
    func unknownCreateField() {
        // Given a create naming a field this build does not have
        let json = #"{"kind":"create","fields":{"kind":"repair","colour":"blue"}}"#

        // When decoded, Then it fails rather than dropping the field
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Action.self, from: Data(json.utf8))
        }
    }

    @Test("a push request round-trips")
    func pushRequestRoundTrip() throws {
        // Given a device's batch
        let intents = Self.completedEvents()
        let request = PushRequest(deviceId: "tab-wang", intents: intents)

        // When encoded and decoded, Then nothing changes
        let decoded = try JSONDecoder().decode(PushRequest.self, from: JSONEncoder().encode(request))
        #expect(decoded == request)
        #expect(decoded.intents.count == intents.count)
    }

    // MARK: Sign-off content

    private static func completedEvents() -> [Intent] {
        var timeline = Timeline.assignedToWang()
        timeline.add(.move(.accepted), by: .wang, at: 2)
        timeline.add(.move(.onSite), by: .wang, at: 20)
        timeline.add(.set(.workDone, "replaced valve", base: nil), by: .wang, at: 30)
        timeline.add(.move(.completed), by: .wang, at: 40)
        return timeline.events
    }

    @Test("the sign-off hash changes when a part line is added")
    func hashCoversParts() throws {
        // Given a completed order and its hash
        var timeline = Timeline.assignedToWang()
        timeline.add(.set(.workDone, "replaced valve", base: nil), by: .wang, at: 30)
        let before = SignOffContent.hash(of: timeline.order)

        // When a part is added
        timeline.add(.append(.part("P1")), by: .wang, at: 31)
        let after = SignOffContent.hash(of: timeline.order)

        // Then the hash changes; a log line does not change it
        #expect(before != after)
        #expect(after.count == 64 && after.allSatisfy(\.isHexDigit))
        timeline.add(.append(.log("L1", "tea with the customer")), by: .wang, at: 32)
        #expect(SignOffContent.hash(of: timeline.order) == after)
    }

    @Test("the sign-off hash does not depend on the order lines were written in")
    func hashStableUnderInsertionOrder() {
        // Given two replicas that recorded the same lines in a different order
        var first = Timeline.assignedToWang()
        first.add(.append(.part("P1", "valve")), by: .wang, at: 30)
        first.add(.append(.charge("C1")), by: .wang, at: 31)
        first.add(.append(.part("P2", "gasket", quantity: 3, fen: 120)), by: .wang, at: 32)
        var second = Timeline.assignedToWang()
        second.add(.append(.part("P2", "gasket", quantity: 3, fen: 120)), by: .wang, at: 30)
        second.add(.append(.part("P1", "valve")), by: .wang, at: 31)
        second.add(.append(.charge("C1")), by: .wang, at: 32)
        #expect(first.order.children.map(\.entry.id) != second.order.children.map(\.entry.id))

        // When each hashes its content, Then the hashes agree
        #expect(SignOffContent.hash(of: first.order) == SignOffContent.hash(of: second.order))
    }

    @Test("the canonical encoding is versioned, length-prefixed and sorted by line id")
    func canonicalEncoding() {
        // Given an order with a work description and two parts written out of id order
        var timeline = Timeline.assignedToWang()
        timeline.add(.set(.workDone, "a:b", base: nil), by: .wang, at: 30)
        timeline.add(.append(.part("P2", "gasket", quantity: 3, fen: 120)), by: .wang, at: 31)
        timeline.add(.append(.part("P1", "valve")), by: .wang, at: 32)

        // When encoded
        let text = String(decoding: SignOffContent.canonicalEncoding(of: timeline.order), as: UTF8.self)

        // Then the bytes are exactly the documented format
        #expect(text == """
            fieldsync-signoff-v1
            order:4:WO-1
            work_done:3:a:b
            diagnosis:0:
            boundary:0:
            labour_minutes:0:
            part:20:P1|V-P1|valve|1|2500
            part:20:P2|V-P2|gasket|3|120

            """)
    }
}
