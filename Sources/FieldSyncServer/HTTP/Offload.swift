/// Runs the service's blocking database work off the event loops and off Swift's
/// cooperative threads: a request handler awaits it while its thread serves other
/// requests. (GRDB's own async access does the same with its queues; the service stays
/// synchronous so tests and simulations drive it in process.)
///
/// The work runs on a ``BlockingPool`` of ``threads`` threads, the database pool whose
/// load `/metrics` shows (`fieldsync_database_pool_*`): a waiting count above zero for long
/// means more database calls arrive than the database answers.
enum Offload {
    /// Threads for database calls. More than the database's connections (GRDB: one writer,
    /// five readers), so a read never waits behind writes queued for the one writer.
    static let threads = 32

    private static let pool = BlockingPool(threads: threads, name: "fieldsync.database")

    /// Database calls waiting for a thread, and running, at one instant.
    typealias Load = BlockingPool.Load

    /// The pool's load now.
    static var load: Load { pool.load }

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            pool.submit { continuation.resume(with: Result { try body() }) }
        }
    }
}
