import FieldSyncCore

/// How the sync engine reaches the server: HTTP through libcurl in the product, an
/// in-process server with injected faults in the convergence proofs.
public protocol SyncTransport {
    func push(_ request: PushRequest) throws -> PushResponse
    func pull(cursor: Int64, limit: Int) throws -> PullResponse
    /// Which of this device's intents the server already answered (restored stores).
    func recover(_ request: RecoverRequest) throws -> RecoverResponse
}

/// Why a sync (or another server call) did not go through.
public enum SyncError: Error, CustomStringConvertible, Equatable {
    /// No connection to the server; nothing is lost, the work waits in the outbox.
    case offline(String)
    /// The server answered with an error.
    case server(status: Int, error: APIErrorBody)
    /// The server's answer could not be read.
    case badResponse(String)
    /// The saved server address is not a usable URL.
    case invalidServer(String)
    /// The server expects an earlier sequence number than this device still holds.
    case sequenceGap(expected: Int64, first: Int64)
    /// The scope checksum still differs after a repair.
    case checksumMismatch(local: UInt64, server: String)

    public var description: String {
        switch self {
        case .offline(let why):
            return "\(why). Your work is saved on this device; run `fieldsync sync` again when you have signal"
        case .server(let status, let error):
            return "server refused (\(status) \(error.error)): \(error.message)"
        case .badResponse(let why):
            return "the server's answer could not be read (\(why)); check that --server points at a fieldsync-server"
        case .invalidServer(let why):
            return "\(why); log in again with `fieldsync login --server http://host:port --token TOKEN`"
        case .sequenceGap(let expected, let first):
            return "the server expects intent \(expected) from this device but the oldest unsent one is \(first); the server may have been restored from a backup — call your dispatcher before syncing again"
        case .checksumMismatch(let local, let server):
            return "the orders on this device (checksum \(local)) still differ from the server's (\(server)) after a repair; run `fieldsync sync` again, and report it if it persists"
        }
    }
}
