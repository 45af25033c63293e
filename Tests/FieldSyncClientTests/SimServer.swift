import FieldSyncCore
@testable import FieldSyncServer
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// How a simulation's devices reach the server.
enum SimWire: String, Sendable {
    /// `SyncService` called in process (fast: most schedules).
    case inProcess = "in-process"
    /// A live Hummingbird server on loopback, reached through `ServerAPI` (libcurl).
    case http
}

/// The server of one simulation, shared by every device's transport. A restart replaces
/// the service (and the live HTTP server) by a new one over the same file, so the
/// transports always ask here for the current one.
final class SimServer {
    private(set) var service: SyncService
    let wire: SimWire
    /// The database file, or nil for an in-memory database (no restarts then).
    let path: String?
    /// The push body limit of the live server.
    let maxPushBytes: Int
    /// Bearer tokens by user name (HTTP only needs them).
    var tokens: [String: String] = [:]
    private(set) var live: LiveServer?
    private let now: @Sendable () -> Int64
    private let retentionMs: Int64?

    init(
        wire: SimWire, path: String?, maxPushBytes: Int, retentionMs: Int64? = nil,
        now: @escaping @Sendable () -> Int64
    ) throws {
        self.wire = wire
        self.path = path
        self.maxPushBytes = maxPushBytes
        self.now = now
        self.retentionMs = retentionMs
        let database = try path.map { try ServerDatabase(path: $0) } ?? ServerDatabase.inMemory()
        service = Self.service(database, retentionMs: retentionMs, now: now)
    }

    private static func service(
        _ database: ServerDatabase, retentionMs: Int64?, now: @escaping @Sendable () -> Int64
    ) -> SyncService {
        retentionMs.map { SyncService(database: database, retentionMs: $0, now: now) }
            ?? SyncService(database: database, now: now)
    }

    /// Starts the live server (HTTP wire); call once the users exist.
    func start() throws {
        guard wire == .http, live == nil else { return }
        live = try LiveServer(service: service, maxPushBytes: maxPushBytes)
    }

    /// Stops the server and opens the database file again in a new service, as a
    /// `fieldsync-server` restarted by its supervisor would.
    func restart() throws {
        guard let path else { throw SimFailure("a restart needs a file-backed server") }
        live?.stop()
        live = nil
        service = Self.service(try ServerDatabase(path: path), retentionMs: retentionMs, now: now)
        try start()
    }

    /// The base URL of the live server (HTTP wire).
    var baseURL: String? { live.map { "http://127.0.0.1:\($0.port)" } }

    func stop() {
        live?.stop()
        live = nil
    }

    deinit { live?.stop() }
}

/// A real `fieldsync-server` application listening on a loopback port the system picks.
///
/// Started and stopped from a plain thread (the simulation blocks on libcurl): the
/// application runs in its own task on the cooperative pool, so a simulation must never
/// run on that pool itself (see ``onOwnThread(_:)``).
final class LiveServer: @unchecked Sendable {
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    init(service: SyncService, maxPushBytes: Int) throws {
        let ready = DispatchSemaphore(value: 0)
        let port = PortBox()
        var logger = Logger(label: "fieldsync-sim")
        logger.logLevel = .error
        let app = buildApplication(
            service: service, host: "127.0.0.1", port: 0, logger: logger, maxPushBytes: maxPushBytes,
            onListening: { _, bound in
                port.set(bound)
                ready.signal()
            })
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        self.group = group
        task = Task { try await group.run() }
        guard ready.wait(timeout: .now() + 30) == .success else {
            task.cancel()
            throw SimFailure("the live server did not listen within 30 s")
        }
        self.port = port.value
    }

    /// Shuts the server down gracefully and waits until it has ended.
    func stop() {
        let done = DispatchSemaphore(value: 0)
        let (group, task) = (self.group, self.task)
        Task.detached {
            await group.triggerGracefulShutdown()
            _ = await task.result
            done.signal()
        }
        _ = done.wait(timeout: .now() + 30)
    }

    private final class PortBox: @unchecked Sendable {
        private let lock = NSLock()
        private var port = 0
        func set(_ value: Int) { lock.withLock { port = value } }
        var value: Int { lock.withLock { port } }
    }
}

/// Runs `body` on a thread of its own and waits for it without holding a thread of the
/// cooperative pool: a simulation blocks (SQLite, libcurl), and the live HTTP server of a
/// simulation needs the pool to answer it. On this 2-core machine, two blocking
/// simulations on the pool would starve the server.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// A broken invariant or an unexpected error of a simulation, with where it happened.
struct SimFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
