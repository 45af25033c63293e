import Dispatch
import Foundation

/// Runs the service's blocking database work off the event loops and off Swift's
/// cooperative threads: a request handler awaits it while its thread serves other
/// requests. (GRDB's own async access does the same with its queues; the service stays
/// synchronous so tests and simulations drive it in process.)
///
/// It counts its jobs — waiting for a thread and running — for `/metrics`
/// (`fieldsync_database_pool_*`): a waiting count above zero means the database calls
/// outnumber the threads the queue gets.
enum Offload {
    private static let queue = DispatchQueue(label: "fieldsync.database", qos: .userInitiated, attributes: .concurrent)

    /// Jobs submitted and not yet started, and jobs running, at one instant.
    struct Load: Sendable, Equatable {
        var waiting = 0
        var running = 0
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var current = Load()

    /// The queue's load now.
    static var load: Load {
        lock.lock()
        defer { lock.unlock() }
        return current
    }

    private static func update(_ change: (inout Load) -> Void) {
        lock.lock()
        change(&current)
        lock.unlock()
    }

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        update { $0.waiting += 1 }
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                update { $0.waiting -= 1; $0.running += 1 }
                let result = Result { try body() }
                update { $0.running -= 1 }
                continuation.resume(with: result)
            }
        }
    }
}
