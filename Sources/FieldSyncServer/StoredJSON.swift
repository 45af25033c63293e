import Crypto
import FieldSyncCore
import Foundation

/// How the server writes values into JSON columns and hashes push bodies.
///
/// Keys are sorted so the same value always gives the same bytes: the exactly-once check
/// compares SHA-256 digests of re-encoded intents.
enum StoredJSON {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        // A new encoder per call: sharing one between request threads crashed under load.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        Hex.string(SHA256.hash(data: bytes))
    }
}
