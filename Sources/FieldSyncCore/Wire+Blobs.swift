/// What a finished upload, or a `PUT` of a blob the server holds already, answers
/// (`201` stored now, `200` held before).
public struct BlobReceipt: Codable, Sendable, Equatable {
    /// The blob's address: the SHA-256 of its bytes, hex.
    public var sha256: String
    /// Its size in bytes.
    public var size: Int64
    /// Its type, by content: `jpeg`, `png`, `heic`, `pdf` or `svg`.
    public var type: String
    /// True when this request stored it; false when the server held it already.
    public var stored: Bool

    public init(sha256: String, size: Int64, type: String, stored: Bool) {
        self.sha256 = sha256
        self.size = size
        self.type = type
        self.stored = stored
    }
}

/// What a `PUT` that carried only part of a blob answers (`202`): how far the server got.
public struct BlobProgress: Codable, Sendable, Equatable {
    /// The blob's address.
    public var sha256: String
    /// Bytes held; the next `PUT` sends this as `Upload-Offset`.
    public var received: Int64
    /// The blob's whole size.
    public var size: Int64

    public init(sha256: String, received: Int64, size: Int64) {
        self.sha256 = sha256
        self.received = received
        self.size = size
    }
}

extension Action {
    /// The photos and signature images this action names, which must reach the server
    /// before it does (sync-protocol.md §11).
    public var blobDigests: [String] {
        switch self {
        case .append(let entry) where entry.kind == .photo: entry.digest.map { [$0] } ?? []
        case .signOff(let signOff): [signOff.signatureDigest]
        default: []
        }
    }
}
