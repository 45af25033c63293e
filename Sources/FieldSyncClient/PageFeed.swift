import FieldSyncCore
import Foundation

/// Pull pages fetched, decoded and their whole orders folded ahead on a thread of their
/// own, so the engine stores the pages before them meanwhile, several in one transaction.
///
/// The thread follows each page's `cursor` until a page says there is no more, a fetch
/// fails (the error is queued after the pages before it) or the feed is stopped; it keeps
/// at most `depth` pages waiting, so memory stays bounded whatever the scope's size. The
/// transport is used by this thread only until ``stop()`` returns.
///
/// The pages the engine has stored come back through ``recycle(_:)`` and are freed on the
/// feed's thread too, until ``stop()``: releasing a page's thousands of strings and arrays
/// was 8% of the storing thread in the profile of a desk's first sync.
final class PageFeed: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [Result<PullResponse, any Error>] = []
    private var stored: [PullResponse] = []
    private var stopped = false
    private var running = true
    /// The thread fetches no more: the last page came, or a fetch failed.
    private var fetched = false
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
            while (queue.count >= depth || fetched) && stored.isEmpty && !stopped { condition.wait() }
            let stop = stopped
            let fetch = !fetched && queue.count < depth
            let freed = stored
            stored = []
            condition.unlock()
            // The stored pages are released here, on this thread.
            withExtendedLifetime(freed) {}
            if stop { return }
            guard fetch else { continue }
            let result = Result {
                var page = try transport.pull(cursor: cursor, limit: limit)
                // Folded here, on this thread, while the engine stores the pages before.
                page.foldWholeOrders()
                return page
            }
            condition.lock()
            queue.append(result)
            // After the last page or a failure the thread fetches no more; it frees the
            // pages stored until it is stopped.
            if case .success(let page) = result, page.hasMore {
                cursor = page.cursor
            } else {
                fetched = true
            }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Hands pages the engine has stored to the feed's thread, which releases them; `pages`
    /// is left empty, so the caller holds none of them any more.
    func recycle(_ pages: inout [PullResponse]) {
        condition.lock()
        stored += pages
        pages = []
        condition.broadcast()
        condition.unlock()
    }

    /// The pages waiting, at least one and at most `max`, in order; waits for the first.
    /// A failed fetch is thrown once the pages before it have been taken.
    func next(max: Int) throws -> [PullResponse] {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !fetched && running { condition.wait() }
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
