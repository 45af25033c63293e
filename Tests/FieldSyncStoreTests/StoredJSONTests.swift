import FieldSyncCore
import Foundation
import PropertyBased
import Testing
@testable import FieldSyncStore

/// The store reads its JSON with ``JSONReader`` and writes it with ``JSONWriter``; rows
/// written before (by `JSONEncoder`, slashes escaped) must read exactly as they did.
@Suite struct StoredJSONTests {
    /// Text JSON must escape or leave alone: quotes, backslashes, slashes (which the old
    /// encoder escaped), control characters, Chinese, an emoji.
    static let text = Gen.element(of: [
        "\"", "\\", "/", "\n", "\t", "\u{1}", "\u{1f}", "\u{7f}", "中", "暖气片", "😀", "a", "Z", "0", " ", ":", "http://",
    ]).array(of: 0...10).map { $0.map { $0 ?? "" }.joined() }

    @Test func accountsReadAsJSONDecoderReadsThem() async {
        await propertyCheck(count: 300, input: Self.text, Self.text, Self.text, Gen.int64(in: -1...1 << 40)) {
            server, user, token, number in
            let account = Account(
                server: server, user: user, role: number % 2 == 0 ? .technician : .dispatcher, token: token,
                deviceId: "dev-" + token, deviceNumber: number < 0 ? nil : number)
            // As an older release stored it, and as this one stores it
            let old = try ClientDatabase.encoder.encode(account)
            let read = try Account(json: Array(old))
            #expect(read == account)
            #expect(read == (try JSONDecoder().decode(Account.self, from: old)))
            #expect(try ClientDatabase.decode(Account.self, String(decoding: old, as: UTF8.self)) == account)
        }
    }

    @Test func clocksRoundTripAndReadOldRows() async {
        await propertyCheck(count: 300, input: Gen.int64(in: 0...Int64.max), Gen.int32(in: 0...Int32.max), Self.text) {
            physical, logical, device in
            let hlc = HLC(physical: physical, logical: logical, device: device)
            #expect(try ClientDatabase.decode(HLC.self, ClientDatabase.encode(hlc)) == hlc)
            let old = String(decoding: try ClientDatabase.encoder.encode(hlc), as: UTF8.self)
            #expect(try ClientDatabase.decode(HLC.self, old) == hlc)
        }
    }

    /// What the fast reader is not sure of still reads, through `JSONDecoder`, and what
    /// neither takes is an error.
    @Test func unusualRowsFallBackAndBadRowsFail() throws {
        // A number with an exponent: JSONReader gives up, JSONDecoder reads 1000.
        let hlc = try ClientDatabase.decode(HLC.self, #"{"physical":1e3,"logical":0,"device":"d"}"#)
        #expect(hlc == HLC(physical: 1_000, logical: 0, device: "d"))
        #expect(throws: (any Error).self) {
            try ClientDatabase.decode(Account.self, #"{"server":"http://x","user":"li"}"#)
        }
    }
}
