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

    /// `text` read by `fast` (a ``JSONReader`` of Core), or by `JSONDecoder` when `fast`
    /// does not take it: the same value either way, at a fraction of the cost.
    static func read<T: Decodable>(_ type: T.Type, from text: String, _ fast: ([UInt8]) throws -> T) throws -> T {
        let bytes = Array(text.utf8)
        if let value = try? fast(bytes) { return value }
        return try JSONDecoder().decode(type, from: Data(bytes))
    }

    /// A stored event (the push's hot path: refolds and copies read them).
    static func intent(_ text: String) throws -> Intent {
        try read(Intent.self, from: text, Intent.init(json:))
    }

    /// A stored fold (`orders.state`), read for every order a push touches.
    static func workOrder(_ text: String) throws -> WorkOrder {
        try read(WorkOrder.self, from: text, WorkOrder.init(json:))
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        Hex.string(SHA256.hash(data: bytes))
    }
}
