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
func makeService(now: Int64 = testNow) throws -> SyncService {
    let service = SyncService(database: try ServerDatabase.inMemory(), now: { now })
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
        service = SyncService(database: try ServerDatabase.inMemory(), blobs: blobs, now: now)
        dispatcherToken = try service.addUser(name: "zhang", role: .dispatcher)
        technicianToken = try service.addUser(name: "alice", role: .technician)
        _ = try service.addUser(name: "bob", role: .technician)
    }

    var app: some ApplicationProtocol {
        buildApplication(service: service, host: "127.0.0.1", port: 0, logger: Logger(label: "test"))
    }
}
