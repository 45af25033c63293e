import FieldSyncClient
import FieldSyncCore
import FieldSyncServer
import GRDB
import Testing
@testable import FieldSyncStore

/// The server in process, reached without faults; `failPush` makes every push fail with a
/// server error, to show that the pull goes on.
private final class LoopTransport: SyncTransport {
    let service: SyncService
    let principal: Principal
    var failPush = false

    init(_ service: SyncService, _ principal: Principal) {
        self.service = service
        self.principal = principal
    }

    func push(_ request: PushRequest) throws -> PushResponse {
        if failPush {
            throw SyncError.server(status: 500, error: APIErrorBody(error: "internal", message: "disk full"))
        }
        return try call { try service.push(request, as: principal) }
    }

    func pull(cursor: Int64, limit: Int) throws -> PullResponse {
        try call { try service.pull(as: principal, cursor: cursor, limit: limit, delta: true) }
    }

    func recover(_ request: RecoverRequest) throws -> RecoverResponse {
        try call { try service.recover(request, as: principal) }
    }

    private func call<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ServiceError {
            throw SyncError.server(status: error.status, error: error.body)
        }
    }
}

/// A small depot: one server, a dispatcher's desk and technician t1's tablet.
private struct Depot {
    final class Clock: @unchecked Sendable { var now: Int64 = 1_795_000_000_000 }
    let clock = Clock()
    let service: SyncService
    let desk: ClientDatabase
    var tablet: ClientDatabase
    let deskLink: LoopTransport
    let tabletLink: LoopTransport

    init() throws {
        let clock = self.clock
        service = SyncService(database: try ServerDatabase.inMemory(), now: { clock.now })
        _ = try service.addUser(name: "wang", role: .dispatcher)
        _ = try service.addUser(name: "t1", role: .technician)
        desk = try ClientDatabase.inMemory()
        _ = try desk.saveAccount(server: "loop://", user: "wang", role: .dispatcher, token: "-")
        tablet = try ClientDatabase.inMemory()
        _ = try tablet.saveAccount(server: "loop://", user: "t1", role: .technician, token: "-")
        deskLink = LoopTransport(service, Principal(name: "wang", role: .dispatcher))
        tabletLink = LoopTransport(service, Principal(name: "t1", role: .technician))
    }

    func sync(_ store: ClientDatabase, _ link: LoopTransport) throws -> SyncReport {
        clock.now += 1_000
        let now = clock.now
        return try SyncEngine(store: store, transport: link, batchSize: 50, now: { now }).sync()
    }

    /// Opens `id` on the desk, assigned to t1, and syncs the desk.
    func open(_ id: String) throws {
        clock.now += 1_000
        try desk.record(orderId: id, now: clock.now) { _ in
            .create(fields: [.kind: "repair", .urgency: "1", .customerName: "医院", .address: "解放路 18 号"])
        }
        try desk.record(orderId: id, now: clock.now) { _ in .assign(technician: "t1") }
        _ = try sync(desk, deskLink)
    }

    func record(_ store: ClientDatabase, _ id: String, _ action: Action, clockOffset: Int64 = 0) throws -> Intent {
        clock.now += 1_000
        return try store.record(orderId: id, now: clock.now + clockOffset) { _ in action }.intent
    }

    /// Every event the server holds for `orderId`.
    func serverEvents(_ orderId: String) throws -> [Intent] {
        let all = try pullAllPages(service, as: Principal(name: "wang", role: .dispatcher))
        return all.flatMap(\.orders).filter { $0.id == orderId }.last?.events ?? []
    }
}

private func pullAllPages(_ service: SyncService, as principal: Principal) throws -> [PullResponse] {
    var pages: [PullResponse] = []
    var cursor: Int64 = 0
    repeat {
        let page = try service.pull(as: principal, cursor: cursor, limit: 500)
        pages.append(page)
        cursor = page.cursor
    } while pages.last?.hasMore == true
    return pages
}

/// A copy of `store` as a backup would hold it.
private func copy(of store: ClientDatabase) throws -> ClientDatabase {
    let queue = try DatabaseQueue(configuration: ClientDatabase.configuration())
    try store.writer.backup(to: queue)
    return try ClientDatabase(writer: queue, path: ":memory:")
}

@Suite struct RecoveryTests {
    @Test func aStoreRestoredFromABackupRecoversWithNothingLostOrDoubled() throws {
        // Given t1's tablet holds WO-1 and has recorded "accepted", not sent yet
        var depot = try Depot()
        try depot.open("WO-1")
        _ = try depot.sync(depot.tablet, depot.tabletLink)
        let accepted = try depot.record(depot.tablet, "WO-1", .transition(to: .accepted, note: nil))
        // and a backup of the tablet is taken now
        let backup = try copy(of: depot.tablet)
        // When the tablet works on and syncs, and a new order is assigned meanwhile
        let line = try depot.record(depot.tablet, "WO-1", .append(ChildEntry(id: "L1", kind: .log, text: "出发")))
        _ = try depot.sync(depot.tablet, depot.tabletLink)
        try depot.open("WO-2")
        // and then the backup is put back, the crew works again and syncs
        depot.tablet = backup
        let travel = try depot.record(depot.tablet, "WO-1", .transition(to: .enRoute, note: nil))
        let log = try depot.record(depot.tablet, "WO-1", .append(ChildEntry(id: "L2", kind: .log, text: "到达")))
        let report = try depot.sync(depot.tablet, depot.tabletLink)

        // Then the store recovered by itself: "accepted" was known, the rest renumbered
        #expect(report.recovered == Recovery(alreadyOnServer: 1, renumbered: 2))
        #expect(report.pushFailure == nil)
        #expect(try depot.tablet.outbox().isEmpty)
        // every action is on the server exactly once, numbered gap-free
        let mine = try depot.serverEvents("WO-1").filter { $0.role == .technician }
        #expect(mine.map(\.opId).sorted() == [accepted.opId, line.opId, travel.opId, log.opId].sorted())
        #expect(mine.map(\.deviceSeq).sorted() == [1, 2, 3, 4])
        // the new assignment arrived in the same sync, and the copy equals the server's
        #expect(try depot.tablet.orders().map(\.id) == ["WO-1", "WO-2"])
        #expect(try depot.tablet.order(id: "WO-1")?.children.map(\.entry.id) == ["L1", "L2"])
        #expect(try depot.tablet.order(id: "WO-1")?.status == .enRoute)
        let server = try depot.service.pull(as: Principal(name: "t1", role: .technician), cursor: .max / 2, limit: 1)
        #expect(server.checksum == String(try depot.tablet.confirmedChecksum()))
        // and the next action goes on from the renumbered sequence
        _ = try depot.record(depot.tablet, "WO-1", .transition(to: .onSite, note: nil))
        let next = try depot.sync(depot.tablet, depot.tabletLink)
        #expect(next.applied == 1 && next.recovered == nil)
    }

    @Test func aPushTheServerRefusesNeverStopsThePull() throws {
        // Given t1 has work waiting and the server fails every push
        let depot = try Depot()
        try depot.open("WO-1")
        _ = try depot.sync(depot.tablet, depot.tabletLink)
        _ = try depot.record(depot.tablet, "WO-1", .transition(to: .accepted, note: nil))
        depot.tabletLink.failPush = true
        // When a new order is assigned and t1 syncs
        try depot.open("WO-2")
        let report = try depot.sync(depot.tablet, depot.tabletLink)

        // Then the new order arrived, the failure is reported, the work still waits
        #expect(try depot.tablet.orders().map(\.id) == ["WO-1", "WO-2"])
        #expect(report.pushFailure?.offline == false)
        #expect(report.pushFailure?.message.contains("disk full") == true)
        #expect(try depot.tablet.outbox().map(\.state) == [.pending])
    }

    @Test func anOrderFinished31DaysAgoLeavesTheDevicesAndWorkRecordedOnItStillArrives() throws {
        // Given t1 completed WO-1 (WO-2 still open), and both devices hold both orders
        let depot = try Depot()
        try depot.open("WO-1")
        try depot.open("WO-2")
        _ = try depot.sync(depot.tablet, depot.tabletLink)
        for status in [OrderStatus.accepted, .onSite, .working, .completed] {
            _ = try depot.record(depot.tablet, "WO-1", .transition(to: status, note: nil))
        }
        _ = try depot.sync(depot.tablet, depot.tabletLink)
        _ = try depot.sync(depot.desk, depot.deskLink)
        // and 31 days later he writes a visit log on it, but the push fails
        depot.clock.now += 31 * 86_400_000
        let log = try depot.record(
            depot.tablet, "WO-1", .append(ChildEntry(id: "log-1", kind: .log, text: "回访：供暖正常")))
        depot.tabletLink.failPush = true
        let archiving = try depot.sync(depot.tablet, depot.tabletLink)

        // Then WO-1 left the tablet as archived, not as an error, and the log still waits
        #expect(archiving.archivedOrders == 1 && archiving.revokedOrders == 0)
        #expect(try depot.tablet.orders().map(\.id) == ["WO-2"])
        #expect(try depot.tablet.outbox().map(\.intent.opId) == [log.opId])
        // When the link is back, the log reaches the server, and nothing of WO-1 comes back
        depot.tabletLink.failPush = false
        let report = try depot.sync(depot.tablet, depot.tabletLink)
        #expect(report.applied == 1 && report.pushFailure == nil && !report.repaired)
        #expect(try depot.service.order(id: "WO-1", as: Principal(name: "wang", role: .dispatcher))
            .children.map(\.entry.id) == ["log-1"])
        #expect(try depot.tablet.outbox().isEmpty)
        #expect(try depot.tablet.orders().map(\.id) == ["WO-2"])
        #expect(try depot.tablet.confirmedEvents().allSatisfy { $0.orderId == "WO-2" })
        // and the desk lets it go too
        let desk = try depot.sync(depot.desk, depot.deskLink)
        #expect(desk.archivedOrders == 1 && !desk.repaired)
        #expect(try depot.desk.orders().map(\.id) == ["WO-2"])
    }

    @Test func aClockOnceADayAheadDoesNotPoisonTheDevicesLaterTimes() throws {
        // Given t1's tablet whose date was set a day ahead records "accepted" and syncs
        let depot = try Depot()
        try depot.open("WO-1")
        _ = try depot.sync(depot.tablet, depot.tabletLink)
        let day: Int64 = 86_400_000
        _ = try depot.record(depot.tablet, "WO-1", .transition(to: .accepted, note: nil), clockOffset: day)
        _ = try depot.sync(depot.tablet, depot.tabletLink)
        // When the date is put right and the crew arrives, then syncs
        let arrival = try depot.record(depot.tablet, "WO-1", .transition(to: .enRoute, note: nil))
        _ = try depot.sync(depot.tablet, depot.tabletLink)

        // Then the first time was clamped, the later, correct one is kept as it was
        let events = try depot.serverEvents("WO-1").filter { $0.role == .technician }
        #expect(events.map { $0.clampedFrom != nil } == [true, false])
        #expect(events.last?.occurredAt == arrival.occurredAt)
        // and the device's clock is back near the server's time, after its own events
        let hlc = try #require(try depot.tablet.lastHLC())
        #expect(hlc.physical < depot.clock.now + ClockBounds.standard.toleranceMs)
        #expect(events.allSatisfy { $0.hlc <= hlc })
    }

    @Test func aDeskWhoseIdWasTakenOpensItsOrderAgainUnderANewId() throws {
        // Given two desks open WO-7 offline for two customers; the first syncs first
        let depot = try Depot()
        let second = try ClientDatabase.inMemory()
        _ = try second.saveAccount(server: "loop://", user: "wang", role: .dispatcher, token: "-")
        try depot.open("WO-7")
        _ = try depot.record(second, "WO-7", .create(fields: [.kind: "repair", .urgency: "2", .customerName: "李先生", .address: "和平路 3 号"]))
        _ = try depot.record(second, "WO-7", .assign(technician: "t1"))
        // When the second desk syncs
        let refused = try depot.sync(second, depot.deskLink)

        // Then both its actions are refused and listed with the way out
        #expect(refused.rejected.map(\.rejection.code) == [.orderExists, .orderIdTaken])
        #expect(try second.outbox().map(\.state) == [.rejected, .rejected])
        #expect(try second.outbox().first?.rejection?.message.contains("fieldsync dispatch recreate WO-7") == true)
        // When it opens the order again under a new id and syncs
        let made = try second.recreate(refused: "WO-7", as: "WO-8", now: depot.clock.now)
        let sent = try depot.sync(second, depot.deskLink)

        // Then the customer's order exists as WO-8, assigned, and WO-7 is untouched
        #expect(made.map(\.action.kind) == ["create", "assign"])
        #expect(sent.applied == 2 && sent.rejected.isEmpty)
        #expect(try second.outbox().isEmpty)
        let server = depot.service
        #expect(try server.order(id: "WO-8", as: Principal(name: "wang", role: .dispatcher))[.customerName] == "李先生")
        #expect(try server.order(id: "WO-8", as: Principal(name: "wang", role: .dispatcher)).assignee == "t1")
        #expect(try server.order(id: "WO-7", as: Principal(name: "wang", role: .dispatcher))[.customerName] == "医院")
    }

    @Test func generatedOrderIdsNeverRepeatOnADeviceEvenWhenItsDateGoesBack() throws {
        // Given a desk with device number 7
        let store = try ClientDatabase.inMemory()
        _ = try store.saveAccount(server: "loop://", user: "wang", role: .dispatcher, token: "-")
        #expect(throws: StoreError.noDeviceNumber) { try store.newOrderId(day: 261123) }
        try store.setDeviceNumber(7)

        // When ids are made over days, with the date going back once
        var ids: [String] = []
        for day in [261123, 261123, 261124, 261123, 261125, 261125] {
            ids.append(try store.newOrderId(day: day))
        }

        // Then they read aloud as digits and never repeat
        #expect(ids == [
            "WO-261123-7-001", "WO-261123-7-002", "WO-261124-7-001", "WO-261124-7-002",
            "WO-261125-7-001", "WO-261125-7-002",
        ])
        #expect(Set(ids).count == ids.count)
    }
}
