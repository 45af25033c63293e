import FieldSyncCore

/// How much of a blob the server holds.
public enum BlobHeld: Sendable, Equatable {
    /// The whole blob, verified.
    case complete(size: Int64)
    /// The first `received` bytes of an upload (0: nothing).
    case partial(received: Int64)
}

/// How the sync engine uploads photos and signatures: `HEAD` and resumable `PUT` of
/// `/v1/blobs/{sha256}` in the product, an in-process fake in tests.
public protocol BlobTransport {
    /// What the server holds of `digest`.
    func blobStatus(_ digest: String) throws -> BlobHeld
    /// Sends the bytes of `file` from `offset` to its end (`size`); answers what the
    /// server holds afterwards.
    func uploadBlob(_ digest: String, file: String, size: Int64, from offset: Int64) throws -> BlobHeld
}
