import Foundation
import GRDB

/// Copies the store's WAL into its database file on a thread and connection of its own
/// while a long pull keeps committing pages on the storing thread.
///
/// Why: the storing thread bounds a first sync, and every 10,000 WAL pages its commit
/// stopped to copy them into the file and wait for two disk flushes; at the end, closing
/// the store copied the rest. In the profile of a desk's first sync of 50,000 orders that
/// was a tenth of the storing thread, while the other core idled a fifth of the time.
/// SQLite lets another connection checkpoint while the writer goes on (`PASSIVE`: it copies
/// the frames already committed and never blocks the writer); once the copy has caught up,
/// the writer's next transaction starts the WAL again from its beginning, so it stays short.
///
/// Crash safety is SQLite's: a checkpoint copies only committed frames and the file is
/// whole at every instant; nothing here changes what a commit promises.
public final class WALCheckpointer: @unchecked Sendable {
    private let condition = NSCondition()
    private var due = false
    private var stopped = false
    private var running = true
    /// Checkpoints run to the end (tests await them).
    private(set) var completed = 0

    /// A checkpointer on its own connection to the store at `path`; nil when it cannot open
    /// one (the storing thread then checkpoints as before).
    init?(path: String) {
        let queue: DatabaseQueue
        do {
            var config = ClientDatabase.configuration()
            // Never waits on the writer: a checkpoint that finds the file busy tries again
            // at the next commit.
            config.busyMode = .immediateError
            queue = try DatabaseQueue(path: path, configuration: config)
        } catch {
            return nil
        }
        Thread { self.run(queue) }.start()
    }

    private func run(_ queue: DatabaseQueue) {
        defer {
            condition.lock()
            running = false
            condition.broadcast()
            condition.unlock()
        }
        while true {
            condition.lock()
            while !due && !stopped { condition.wait() }
            let stop = stopped
            due = false
            condition.unlock()
            if stop { return }
            do {
                try queue.writeWithoutTransaction { db in
                    _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
                }
                condition.lock()
                completed += 1
                condition.broadcast()
                condition.unlock()
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
                continue  // another checkpoint runs: the next commit asks again
            } catch {
                return  // the storing thread's own checkpoints carry on as before
            }
        }
    }

    /// A transaction committed: copy what the WAL holds now (once more, if a copy runs).
    public func committed() {
        condition.lock()
        due = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until `count` checkpoints have run to the end (tests).
    func awaitCompleted(_ count: Int) {
        condition.lock()
        while completed < count && running { condition.wait() }
        condition.unlock()
    }

    /// Lets the copy running finish, then closes the connection; what is left in the WAL
    /// is copied when the store closes, as always.
    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }
}

extension ClientDatabase {
    /// A checkpointer for a long pull into this store (nil for a store in memory).
    public func checkpointer() -> WALCheckpointer? {
        let path = writer.path
        guard !path.isEmpty, path != ":memory:" else { return nil }
        return WALCheckpointer(path: path)
    }
}
