import Foundation
import GRDB

/// Copies a database file's WAL back into the file on a thread and connection of its own,
/// so the connection that writes never stops to do it.
///
/// A passive checkpoint never blocks the writer or a reader: it copies the frames no
/// reader still needs, and the writer's next transaction starts the WAL from its beginning
/// once all of them are copied. A page changed by several transactions between two
/// checkpoints is copied once. Crash safety is SQLite's: only committed frames are copied.
///
/// - The server (`interval` 0.25 s): SQLite's default checkpoints after the commit that
///   takes the WAL past 1,000 pages, on the committing connection: with 500-intent batches
///   (about 15 MB of pages each, most of them the random-keyed op-id indexes) that was the
///   push itself, after nearly every batch. The profile of the push put the kernel's page
///   writes at a fifth of the server's samples. Its writer checkpoints itself only past a
///   backstop (`ServerDatabase.walBackstopPages`).
/// - A device's long pull (no interval): every 10,000 WAL pages the storing thread's commit
///   stopped to copy them and wait for two disk flushes, and closing the store copied the
///   rest: a tenth of the storing thread in the profile of a desk's first sync of 50,000
///   orders, while the other core idled a fifth of the time.
public final class WALCheckpointer: @unchecked Sendable {
    private let box = Box()

    /// Starts the thread on a connection of its own to `path`; after a checkpoint it waits
    /// `interval` seconds before the next.
    public init(path: String, label: String, interval: TimeInterval) throws {
        var config = Configuration()
        config.label = label
        // A checkpoint that finds the file busy is tried again after the next commits.
        config.busyMode = .timeout(1)
        let holder = ConnectionHolder(try DatabaseQueue(path: path, configuration: config))
        // The thread holds the connection and the box, not `self`, so `deinit` can stop it.
        let box = self.box
        let thread = Thread {
            while box.waitForCommits() {
                // A failed checkpoint (a busy file, a full disk) is retried after the next
                // commits; the writer's own backstop still bounds the WAL.
                let done = (try? holder.queue?.writeWithoutTransaction { db in
                    try db.checkpoint(.passive)
                }) != nil
                box.finished(checkpoint: done)
                if interval > 0 { Thread.sleep(forTimeInterval: interval) }
            }
            holder.queue = nil  // closes the connection before saying the thread ended
            box.ended()
        }
        thread.name = "fieldsync-wal-checkpoint"
        thread.start()
    }

    /// Says a write transaction committed.
    public func committed() {
        box.committed()
    }

    /// Waits up to `timeout` seconds until this thread has run `count` checkpoints; false
    /// if it has not by then (tests).
    public func waitForCheckpoints(_ count: Int, timeout: TimeInterval) -> Bool {
        box.waitForCheckpoints(count, until: Date(timeIntervalSinceNow: timeout))
    }

    /// Ends the thread after the checkpoint it may be running and waits until its
    /// connection is closed, so the writer's connection is the last one again (the one
    /// that copies what is left and removes the WAL when it closes).
    public func stop() {
        box.stop()
        box.waitUntilEnded()
    }

    /// Ends the thread after the checkpoint it may be running.
    deinit { box.stop() }

    private final class ConnectionHolder: @unchecked Sendable {
        var queue: DatabaseQueue?
        init(_ queue: DatabaseQueue) { self.queue = queue }
    }

    /// What the thread and the writers share.
    private final class Box: @unchecked Sendable {
        let condition = NSCondition()
        var commits = 0
        var stopped = false
        var running = true
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

        func ended() {
            condition.lock()
            running = false
            condition.broadcast()
            condition.unlock()
        }

        func waitUntilEnded() {
            condition.lock()
            while running { condition.wait() }
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
