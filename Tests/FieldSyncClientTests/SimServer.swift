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
    /// The service of each instance (one, except on PostgreSQL with several instances).
    private(set) var services: [SyncService]
    /// The first instance: setup and the final checks go through it.
    var service: SyncService { services[0] }
    let wire: SimWire
    /// The database file, or nil for an in-memory database (no restarts then).
    let path: String?
    /// The PostgreSQL database every instance shares, or nil.
    let postgresURL: String?
    /// The push body limit of the live server.
    let maxPushBytes: Int
    /// Bearer tokens by user name (HTTP only needs them).
    var tokens: [String: String] = [:]
    private(set) var lives: [LiveServer] = []
    private let now: @Sendable () -> Int64
    private let retentionMs: Int64?

    init(
        wire: SimWire, path: String?, maxPushBytes: Int, retentionMs: Int64? = nil,
        postgresURL: String? = nil, instances: Int = 1, now: @escaping @Sendable () -> Int64
    ) throws {
        self.wire = wire
        self.path = path
        self.postgresURL = postgresURL
        self.maxPushBytes = maxPushBytes
        self.now = now
        self.retentionMs = retentionMs
        var services: [SyncService] = []
        for _ in 0..<max(instances, 1) {
            services.append(Self.service(try Self.open(path: path, postgresURL: postgresURL), retentionMs: retentionMs, now: now))
        }
        self.services = services
    }

    private static func open(path: String?, postgresURL: String?) throws -> any ServerStore {
        if let postgresURL { return try PostgresStore(url: postgresURL) }
        return try path.map { try ServerDatabase(path: $0) } ?? ServerDatabase.inMemory()
    }

    private static func service(
        _ database: any ServerStore, retentionMs: Int64?, now: @escaping @Sendable () -> Int64
    ) -> SyncService {
        retentionMs.map { SyncService(database: database, retentionMs: $0, now: now) }
            ?? SyncService(database: database, now: now)
    }

    /// Starts the live servers (HTTP wire); call once the users exist.
    func start() throws {
        guard wire == .http, lives.isEmpty else { return }
        lives = try services.map { try LiveServer(service: $0, maxPushBytes: maxPushBytes) }
    }

    /// Stops instance `index` (the others keep serving) and opens the database again in a
    /// new service, as a `fieldsync-server` restarted by its supervisor would.
    func restart(instance index: Int = 0) throws {
        guard path != nil || postgresURL != nil else { throw SimFailure("a restart needs a file-backed or PostgreSQL server") }
        let index = index % services.count
        if index < lives.count { lives[index].stop() }
        services[index] = Self.service(try Self.open(path: path, postgresURL: postgresURL), retentionMs: retentionMs, now: now)
        if index < lives.count { lives[index] = try LiveServer(service: services[index], maxPushBytes: maxPushBytes) }
    }

    /// The base URL of each live instance (HTTP wire).
    var baseURLs: [String] { lives.map { "http://127.0.0.1:\($0.port)" } }

    func stop() {
        for live in lives { live.stop() }
        lives = []
    }

    deinit { for live in lives { live.stop() } }
}

/// Creates PostgreSQL databases for simulations on the server `FIELDSYNC_POSTGRES_URL`
/// names (tools/test starts one).
enum SimPostgres {
    static var url: String? {
        ProcessInfo.processInfo.environment["FIELDSYNC_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The URL of a new, empty database.
    static func freshDatabase(_ name: String) throws -> String {
        guard let url, let slash = url.range(of: "/", options: .backwards) else {
            throw SimFailure("FIELDSYNC_POSTGRES_URL is not set: run through tools/test, which starts PostgreSQL")
        }
        let admin = try PostgresStore(url: url, migrate: false)
        try admin.script("CREATE DATABASE \(name)")
        return url[..<slash.lowerBound] + "/" + name
    }
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
        // The bound is generous: the application starts on the cooperative pool, which
        // other suites' blocking tests can hold for a while on a busy 2-core machine.
        guard ready.wait(timeout: .now() + 120) == .success else {
            task.cancel()
            throw SimFailure("the live server did not listen within 120 s: is the cooperative pool blocked?")
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
