import FieldSyncCore

/// What one `sync` did, for the technician and for `--json`.
public struct SyncReport: Sendable, Equatable, Codable {
    /// Intents sent (first deliveries and retries).
    public var pushed = 0
    public var applied = 0
    public var merged = 0
    /// Answered from the server's stored outcomes: a retry of an earlier delivery.
    public var duplicates = 0
    /// Refused; still listed by `fieldsync pending` with the reason.
    public var rejected: [RejectedIntent] = []
    public var pulledOrders = 0
    public var revokedOrders = 0
    /// Of `pulledOrders`, those that came as their new events only (the device held them).
    public var deltaOrders = 0
    /// Orders finished longer ago than the server's retention, gone from this device
    /// (they stay on the server; pending work on them is still sent).
    public var archivedOrders = 0
    /// The scope checksum differed and the scope was fetched again.
    public var repaired = false
    /// Conflicts on this device's orders not reported before.
    public var conflicts: [Conflict] = []
    /// The store was restored from an older copy: intents the server already held were
    /// taken as answered and the rest renumbered (see ``SyncEngine``).
    public var recovered: Recovery?
    /// Why the push did not finish (the pull ran all the same); nil when it did.
    public var pushFailure: PushFailure?
    /// Photos and signatures the server confirmed in this sync, and the bytes sent for them.
    public var uploadedBlobs = 0
    public var uploadedBytes: Int64 = 0
    /// Intents still waiting in the outbox for a photo or signature to reach the server.
    public var waitingForBlobs = 0
    /// Uploads the server refused or that could not be read here; their intents wait.
    public var blobFailures: [BlobFailure] = []

    public init() {}
}

/// What the recovery of a restored store found.
public struct Recovery: Sendable, Equatable, Codable {
    /// Intents the server already held (answered from its stored outcomes).
    public var alreadyOnServer: Int
    /// Intents given new sequence numbers.
    public var renumbered: Int

    public init(alreadyOnServer: Int, renumbered: Int) {
        self.alreadyOnServer = alreadyOnServer
        self.renumbered = renumbered
    }
}

/// A push that failed while the pull went on.
public struct PushFailure: Sendable, Equatable, Codable {
    /// The connection failed (nothing is lost; the next sync sends it).
    public var offline: Bool
    public var message: String

    public init(offline: Bool, message: String) {
        self.offline = offline
        self.message = message
    }
}

/// An intent the server refused, with its reason.
public struct RejectedIntent: Sendable, Equatable, Codable {
    public var orderId: String
    public var action: String
    public var rejection: Rejection
}

/// An upload that did not go through; the intents naming the blob wait in the outbox.
public struct BlobFailure: Sendable, Equatable, Codable {
    public var digest: String
    public var message: String
}

/// Progress of a long sync, for the CLI's progress line.
public enum SyncProgress: Sendable, Equatable {
    case pushed(done: Int, total: Int)
    /// Bytes of the blob being uploaded that the server holds (`done` of `total`).
    case uploading(digest: String, done: Int64, total: Int64)
    case pulled(orders: Int, page: Int)
    case repairing
    case recovering
}
