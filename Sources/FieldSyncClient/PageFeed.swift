import FieldSyncCore
import Foundation

/// Pull pages fetched, decoded and their whole orders folded ahead on a thread of their
/// own, so the engine stores the pages before them meanwhile, several in one transaction.
///
/// The thread follows each page's `cursor` until a page says there is no more, a fetch
/// fails (the error is queued after the pages before it) or the feed is stopped; it keeps
/// at most `depth` pages waiting, so memory stays bounded whatever the scope's size. The
/// transport is used by this thread only until ``stop()`` returns.
final class PageFeed: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [Result<PullResponse, any Error>] = []
    private var stopped = false
    private var running = true
    private let depth: Int

    init(transport: any SyncTransport, cursor start: Int64, limit: Int, depth: Int) {
        self.depth = max(depth, 1)
        let box = TransportBox(transport: transport)
        // A thread of its own: a fetch blocks (libcurl), and Dispatch's global queues are
        // as wide as the machine has cores and also run Swift's cooperative pool.
        let thread = Thread { self.run(box.transport, from: start, limit: limit) }
        thread.start()
    }

    private func run(_ transport: any SyncTransport, from start: Int64, limit: Int) {
        var cursor = start
        defer {
            condition.lock()
            running = false
            condition.broadcast()
            condition.unlock()
        }
        while true {
            condition.lock()
            while queue.count >= depth && !stopped { condition.wait() }
            let stop = stopped
            condition.unlock()
            if stop { return }
            let result = Result {
                var page = try transport.pull(cursor: cursor, limit: limit)
                // Folded here, on this thread, while the engine stores the pages before.
                page.foldWholeOrders()
                return page
            }
            condition.lock()
            queue.append(result)
            condition.broadcast()
            condition.unlock()
            guard case .success(let page) = result, page.hasMore else { return }
            cursor = page.cursor
        }
    }

    /// The pages waiting, at least one and at most `max`, in order; waits for the first.
    /// A failed fetch is thrown once the pages before it have been taken.
    func next(max: Int) throws -> [PullResponse] {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && running { condition.wait() }
        var pages: [PullResponse] = []
        taking: while pages.count < max, let first = queue.first {
            switch first {
            case .success(let page):
                pages.append(page)
                queue.removeFirst()
            case .failure(let error):
                // The pages before the failure go first; the failure with the next call.
                guard pages.isEmpty else { break taking }
                queue.removeFirst()
                condition.broadcast()
                throw error
            }
        }
        condition.broadcast()
        guard !pages.isEmpty else { throw SyncError.badResponse("the pull stopped before its last page") }
        return pages
    }

    /// Stops fetching and waits until the thread has let go of the transport.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }
}

/// Hands the transport to the feed's thread; see ``PageFeed`` for why that is safe.
private struct TransportBox: @unchecked Sendable {
    let transport: any SyncTransport
}
