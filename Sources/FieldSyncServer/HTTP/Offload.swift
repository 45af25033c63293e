import Dispatch

/// Runs the service's blocking database work off the event loops and off Swift's
/// cooperative threads: a request handler awaits it while its thread serves other
/// requests. (GRDB's own async access does the same with its queues; the service stays
/// synchronous so tests and simulations drive it in process.)
enum Offload {
    private static let queue = DispatchQueue(label: "fieldsync.database", qos: .userInitiated, attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
