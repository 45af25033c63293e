import Foundation

/// A fixed set of threads that run blocking jobs in the order they come: ``Offload``'s
/// database calls.
///
/// Not a concurrent `DispatchQueue`: on Linux, libdispatch gives such a queue about as many
/// threads as cores and adds more only slowly when they block, so under load (500 devices
/// syncing at once) no more than 5 database calls ran at a time, the rest waited, and pulls
/// queued behind pushes that were waiting for SQLite's one writer while the reader
/// connections sat idle. A pool of its own runs up to `threads` calls at once; the database
/// layer then decides who waits (GRDB's writer queue, its readers).
final class BlockingPool: @unchecked Sendable {
    /// Jobs submitted and not yet started, and jobs running, at one instant.
    struct Load: Sendable, Equatable {
        var waiting = 0
        var running = 0
    }

    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var next = 0
    private var running = 0

    /// Starts `threads` threads named `name.N`; they live as long as the process.
    init(threads: Int, name: String) {
        for index in 0..<max(1, threads) {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "\(name).\(index)"
            thread.start()
        }
    }

    /// Runs `job` on a pool thread as soon as one is free, after the jobs submitted before it.
    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// The pool's load now.
    var load: Load {
        condition.lock()
        defer { condition.unlock() }
        return Load(waiting: jobs.count - next, running: running)
    }

    private func work() {
        while true {
            condition.lock()
            while next == jobs.count { condition.wait() }
            let job = jobs[next]
            next += 1
            if next == jobs.count || next >= 1024 {
                // Drop the started jobs now and then, not one by one (no shifting per job).
                jobs.removeFirst(next)
                next = 0
            }
            running += 1
            condition.unlock()
            job()
            condition.lock()
            running -= 1
            condition.unlock()
        }
    }
}
