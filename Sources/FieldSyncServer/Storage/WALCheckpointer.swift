import Foundation
import GRDB

/// Copies the server file's WAL back into the database on a thread of its own, so a push
/// never does it while holding the write lock.
///
/// SQLite's default checkpoints after the commit that takes the WAL past 1,000 pages, on
/// the committing connection: with 500-intent batches (about 15 MB of pages each, most of
/// them the random-keyed op-id indexes) that was the push itself, after nearly every batch,
/// writing every dirty page a second time before it could answer. The profile of the push
/// put the kernel's page writes at a fifth of the server's samples.
///
/// Here the writer's own checkpoints start only at ``backstopPages`` (a WAL that outgrows
/// this thread), and this thread runs a `PASSIVE` checkpoint on a connection of its own
/// after commits, at most every ``interval``. A passive checkpoint never blocks the writer
/// or a reader: it copies the frames no reader still needs, and the next write transaction
/// starts the WAL from its beginning once all of them are copied. A page changed by
/// several batches between two checkpoints is copied once.
final class WALCheckpointer: @unchecked Sendable {
    /// WAL pages after which the committing connection checkpoints itself anyway (SQLite's
    /// `wal_autocheckpoint`; about 80 MB of 4 KB pages).
    static let backstopPages = 20_000
    /// The shortest time between two checkpoints of this thread.
    static let interval: TimeInterval = 0.25

    private let box = Box()
    private let thread: Thread

    /// Starts the thread on a connection of its own to `path`.
    init(path: String) throws {
        var config = Configuration()
        config.label = "fieldsync-server checkpoint"
        config.busyMode = .timeout(1)
        // The thread holds the connection and the box, not `self`, so `deinit` can stop it.
        let connection = try DatabaseQueue(path: path, configuration: config)
        let box = self.box
        thread = Thread {
            while box.waitForCommits() {
                // A failed checkpoint (a busy file, a full disk) is retried after the next
                // commits; SQLite's own backstop still bounds the WAL.
                let done = (try? connection.writeWithoutTransaction { db in
                    try db.checkpoint(.passive)
                }) != nil
                box.finished(checkpoint: done)
                Thread.sleep(forTimeInterval: Self.interval)
            }
        }
        thread.name = "fieldsync-wal-checkpoint"
        thread.start()
    }

    /// Says a write transaction committed.
    func committed() {
        box.committed()
    }

    /// Waits up to `timeout` seconds until this thread has run `count` checkpoints; false
    /// if it has not by then (tests).
    func waitForCheckpoints(_ count: Int, timeout: TimeInterval) -> Bool {
        box.waitForCheckpoints(count, until: Date(timeIntervalSinceNow: timeout))
    }

    /// Ends the thread after the checkpoint it may be running.
    deinit { box.stop() }

    /// What the thread and the writers share.
    private final class Box: @unchecked Sendable {
        let condition = NSCondition()
        var commits = 0
        var stopped = false
        var checkpoints = 0

        func committed() {
            condition.lock()
            commits += 1
            condition.broadcast()
            condition.unlock()
        }

        func stop() {
            condition.lock()
            stopped = true
            condition.broadcast()
            condition.unlock()
        }

        func finished(checkpoint done: Bool) {
            condition.lock()
            if done { checkpoints += 1 }
            condition.broadcast()
            condition.unlock()
        }

        func waitForCheckpoints(_ count: Int, until deadline: Date) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while checkpoints < count {
                if !condition.wait(until: deadline) { return checkpoints >= count }
            }
            return true
        }

        /// Waits for a commit since the last checkpoint; false once stopped.
        func waitForCommits() -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while commits == 0 && !stopped { condition.wait() }
            commits = 0
            return !stopped
        }
    }
}
