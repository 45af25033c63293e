import Dispatch
import FieldSyncCore

/// One pull page being fetched and decoded on a thread of its own, so the engine can
/// store the page before it meanwhile.
///
/// The transport is used by one fetch at a time: the engine waits for a fetch before it
/// starts the next one or uses the transport for anything else, and the semaphore orders
/// the transport's state between the threads.
final class PageFetch: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var outcome: Result<PullResponse, any Error>?
    private var waited = false

    init(transport: any SyncTransport, cursor: Int64, limit: Int) {
        let box = TransportBox(transport: transport)
        DispatchQueue.global().async {
            let outcome = Result { try box.transport.pull(cursor: cursor, limit: limit) }
            self.outcome = outcome
            self.done.signal()
        }
    }

    /// Blocks until the fetch has ended (idempotent).
    func wait() {
        guard !waited else { return }
        done.wait()
        waited = true
    }

    /// The page, or the error that stopped it.
    func result() throws -> PullResponse {
        wait()
        guard let outcome else { throw SyncError.badResponse("a pull page was lost between threads") }
        return try outcome.get()
    }
}

/// Hands the transport to the fetch's thread; see ``PageFetch`` for why that is safe.
private struct TransportBox: @unchecked Sendable {
    let transport: any SyncTransport
}
