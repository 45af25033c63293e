import FieldSyncCore
import Foundation
import Hummingbird
import Logging
import Testing

@testable import FieldSyncServer

/// The fixed wall clock of the tests: 2024-05-01 08:00 UTC.
let testNow: Int64 = 1_714_550_400_000
let minute: Int64 = 60_000
let hour: Int64 = 60 * minute

let dispatcher = Principal(name: "zhang", role: .dispatcher)
let alice = Principal(name: "alice", role: .technician)
let bob = Principal(name: "bob", role: .technician)

/// A service over a fresh in-memory database whose clock reads `testNow`, with the
/// technicians alice and bob (orders are assigned only to existing technicians).
/// A fresh, empty store on the engine under test: SQLite in memory, or with
/// `FIELDSYNC_TEST_ENGINE=postgres` a new database on the PostgreSQL that
/// `FIELDSYNC_POSTGRES_URL` names (tools/test starts one). The server suites run once on
/// each engine: they are the storage contract.
func makeStore() throws -> any ServerStore {
    guard ProcessInfo.processInfo.environment["FIELDSYNC_TEST_ENGINE"] == "postgres" else {
        return try ServerDatabase.inMemory()
    }
    return try TestPostgres.freshStore()
}

/// Whether the suites run on PostgreSQL (tests of SQLite's own files skip then).
let testEngineIsPostgres = ProcessInfo.processInfo.environment["FIELDSYNC_TEST_ENGINE"] == "postgres"

/// Creates databases on the test PostgreSQL, one per store.
enum TestPostgres {
    /// The server's URL, or nil when no PostgreSQL is configured.
    static var url: String? {
        ProcessInfo.processInfo.environment["FIELDSYNC_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    private static let counter = Counter()

    /// A new, migrated database. Throws when no PostgreSQL is configured.
    static func freshStore(migrate: Bool = true) throws -> PostgresStore {
        guard let url else {
            throw ServiceError.badRequest("no_postgres", "FIELDSYNC_POSTGRES_URL is not set: run the suite through tools/test, which starts PostgreSQL")
        }
        let name = "fs_\(getpid())_\(counter.next())"
        let admin = try PostgresStore(url: url, migrate: false)
        try admin.script("CREATE DATABASE \(name)")
        guard let slash = url.range(of: "/", options: .backwards) else { throw ServiceError.internalError(StorageError(code: .statement, message: url)) }
        return try PostgresStore(url: url[..<slash.lowerBound] + "/" + name, migrate: migrate)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int { lock.withLock { value += 1; return value } }
    }
}

func makeService(now: Int64 = testNow) throws -> SyncService {
    let service = SyncService(database: try makeStore(), now: { now })
    for technician in [alice, bob] { _ = try service.addUser(name: technician.name, role: .technician) }
    return service
}

/// One device of one user: numbers its intents gap-free and stamps them with its HLC.
struct TestDevice {
    let id: String
    let principal: Principal
    var seq: Int64 = 1
    var clock: HybridClock

    init(_ id: String, _ principal: Principal) {
        self.id = id
        self.principal = principal
        self.clock = HybridClock(device: id)
    }

    /// The next intent of this device, happening at `time` (default: the test clock).
    mutating func intent(_ orderId: String, _ action: Action, at time: Int64 = testNow) -> Intent {
        let hlc = clock.tick(now: time)
        defer { seq += 1 }
        return Intent(
            opId: "\(id)-op\(seq)", deviceId: id, deviceSeq: seq, actor: principal.name,
            role: principal.role, hlc: hlc, occurredAt: time, orderId: orderId, action: action)
    }

    /// Takes in the server's clock, as a device does after each sync, so its next intents
    /// order after everything the server had.
    mutating func sync(_ response: PushResponse) {
        clock.receive(response.serverHLC, now: testNow)
    }

    /// Pushes `intents` as this device's user.
    func push(_ intents: [Intent], to service: SyncService) throws(ServiceError) -> PushResponse {
        try service.push(PushRequest(deviceId: id, intents: intents), as: principal)
    }
}

/// The fields of a valid `create`.
func orderFields(
    customer: String = "王女士", urgency: Int = 2, kind: OrderKind = .repair,
    deadline: Int64? = testNow + 4 * hour
) -> [OrderField: String] {
    var fields: [OrderField: String] = [
        .kind: kind.rawValue, .urgency: String(urgency), .customerName: customer,
        .address: "和平路 12 号 3 单元",
    ]
    if let deadline { fields[.responseDeadline] = String(deadline) }
    return fields
}

/// Opens `ids` (and assigns them to `technician` if given) from the dispatcher's device.
@discardableResult
func openOrders(
    _ ids: [String], assignedTo technician: String? = nil, device: inout TestDevice,
    service: SyncService
) throws -> PushResponse {
    var intents: [Intent] = []
    for id in ids {
        intents.append(device.intent(id, .create(fields: orderFields())))
        if let technician { intents.append(device.intent(id, .assign(technician: technician))) }
    }
    return try device.push(intents, to: service)
}

/// Every page of a pull from `cursor` until `hasMore` is false.
func pullAll(
    _ service: SyncService, as principal: Principal, from cursor: Int64 = 0, limit: Int = 500
) throws -> [PullResponse] {
    var pages: [PullResponse] = []
    var cursor = cursor
    repeat {
        let page = try service.pull(as: principal, cursor: cursor, limit: limit)
        pages.append(page)
        cursor = page.cursor
    } while pages.last?.hasMore == true && pages.count < 1000
    return pages
}

/// A service with a dispatcher and a technician, their tokens (and the technician bob),
/// and the HTTP application over it, for route tests.
struct Setup {
    let service: SyncService
    let dispatcherToken: String
    let technicianToken: String

    /// - Parameter now: the service's clock; tests that move time pass their own.
    init(now: @escaping @Sendable () -> Int64 = { testNow }, blobs: BlobStore? = nil) throws {
        service = SyncService(database: try makeStore(), blobs: blobs, now: now)
        dispatcherToken = try service.addUser(name: "zhang", role: .dispatcher)
        technicianToken = try service.addUser(name: "alice", role: .technician)
        _ = try service.addUser(name: "bob", role: .technician)
    }

    var app: some ApplicationProtocol {
        buildApplication(service: service, host: "127.0.0.1", port: 0, logger: quietLogger)
    }
}

/// A logger for tests that do not look at the log: every request writes a line at `info`,
/// which would bury the test output; failures (`error`) still show.
let quietLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .error
    return logger
}()

/// A seedable generator (SplitMix64), so a failing case names its seed and replays exactly.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
