import FieldSyncClient
import FieldSyncCore
import FieldSyncServer
import Foundation
import GRDB
import Testing
@testable import FieldSyncStore

/// The engine fetches page n+1 while it stores page n; a page that does not arrive must
/// stop the pull with every page before it stored and the cursor at the last of them.
@Suite struct PipelinedPullTests {
    /// Pages straight from the service; the pull numbered `failAt` (1-based) fails, and
    /// every cursor asked for is kept in order.
    final class ScriptedTransport: SyncTransport, @unchecked Sendable {
        let service: SyncService
        let principal: Principal
        var failAt: Int?
        private let lock = NSLock()
        private var _asked: [Int64] = []
        var asked: [Int64] { lock.withLock { _asked } }

        init(service: SyncService, principal: Principal, failAt: Int?) {
            self.service = service
            self.principal = principal
            self.failAt = failAt
        }

        func push(_ request: PushRequest) throws -> PushResponse {
            try service.push(request, as: principal)
        }

        func pull(cursor: Int64, limit: Int) throws -> PullResponse {
            let n = lock.withLock {
                _asked.append(cursor)
                return _asked.count
            }
            if n == failAt { throw SyncError.offline("page \(n) lost on the way") }
            return try service.pull(as: principal, cursor: cursor, limit: limit, delta: true)
        }

        func recover(_ request: RecoverRequest) throws -> RecoverResponse {
            try service.recover(request, as: principal)
        }
    }

    /// What one scripted pull showed: the failed sync, then a healthy one.
    struct Observed: Sendable {
        var failedWith: SyncError?
        var asked: [Int64] = []
        var cursorAfterFailure: Int64 = -1
        var ordersAfterFailure: [String] = []
        var healthyAsked: [Int64] = []
        var repaired = true
        var orders: [String] = []
        var events = 0
        var checksum = ""
        var serverChecksum: String?
    }

    /// `count` orders for t1 on the server; t1's empty device pulls two a page, losing the
    /// pull numbered `failAt`, then syncs again with nothing lost.
    static func pull(orders count: Int, failAt: Int, seed: UInt64) throws -> Observed {
        let sim = try Simulation(seed: seed, deviceCount: 1, skewMs: 0, faults: .none)
        defer { sim.cleanUp() }
        let dispatcher = sim.devices[0].store, tech = sim.devices[1].store
        for n in 1...count {
            try dispatcher.record(orderId: "WO-\(n)", now: sim.time.now + Int64(n)) { _ in
                .create(fields: [.kind: "repair", .urgency: "2", .customerName: "客户\(n)", .address: "路 \(n) 号"])
            }
            try dispatcher.record(orderId: "WO-\(n)", now: sim.time.now + Int64(n)) { _ in .assign(technician: "t1") }
        }
        _ = try sim.engine(0).sync()
        let principal = Principal(name: "t1", role: .technician)
        let time = sim.time
        var seen = Observed()
        let failing = ScriptedTransport(service: sim.service, principal: principal, failAt: failAt)
        do {
            _ = try SyncEngine(store: tech, transport: failing, pageSize: 2, now: { time.now }).sync()
        } catch let error as SyncError {
            seen.failedWith = error
        }
        seen.asked = failing.asked
        seen.cursorAfterFailure = try tech.cursor()
        seen.ordersAfterFailure = try tech.orders().map(\.id)
        let healthy = ScriptedTransport(service: sim.service, principal: principal, failAt: nil)
        seen.repaired = try SyncEngine(store: tech, transport: healthy, pageSize: 2, now: { time.now }).sync().repaired
        seen.healthyAsked = healthy.asked
        seen.orders = try tech.orders().map(\.id)
        seen.events = try tech.confirmedEvents().count
        seen.checksum = String(try tech.confirmedChecksum())
        seen.serverChecksum = try sim.service.pull(as: principal, cursor: .max / 2, limit: 1).checksum
        return seen
    }

    // The engine blocks (libcurl in the product): it runs on a thread of its own, never on
    // the cooperative pool the live servers of other suites need.
    @Test func aPageThatNeverArrivesStopsThePullAfterThePagesBeforeItAreStored() async throws {
        // Given twelve orders for t1, two a page, When the fourth page is lost while the
        // third is being stored
        let seen = try await onOwnThread { Result { try Self.pull(orders: 12, failAt: 4, seed: 11) } }.get()

        // Then the sync failed, the three pages before it are stored and the cursor is
        // the one the lost request asked from, and nothing was asked after it
        #expect(seen.failedWith != nil)
        #expect(seen.asked.count == 4)
        #expect(seen.cursorAfterFailure == seen.asked[3])
        #expect(seen.ordersAfterFailure.sorted() == (1...6).map { "WO-\($0)" }.sorted())

        // and the next sync carries on from that cursor: nothing is missing or stored
        // twice, and the checksum agrees without a repair
        #expect(seen.healthyAsked.first == seen.asked[3])
        #expect(!seen.repaired)
        #expect(seen.orders.sorted() == (1...12).map { "WO-\($0)" }.sorted())
        #expect(seen.events == 24)
        #expect(seen.serverChecksum == seen.checksum)
    }

    @Test("a lost page at any place leaves the cursor on the last stored page", arguments: 1...6)
    func everyPageFailingInTurnLeavesTheCursorOnAStoredPage(failAt: Int) async throws {
        // Given eleven orders for t1, two a page (six pages), When page `failAt` is lost
        let seen = try await onOwnThread { Result { try Self.pull(orders: 11, failAt: failAt, seed: 12) } }.get()

        // Then the cursor is the one the lost request asked from (every page before it
        // stored, none after), and a sync afterwards converges without a repair
        #expect(seen.failedWith != nil)
        #expect(seen.asked.count == failAt)
        #expect(seen.cursorAfterFailure == seen.asked[failAt - 1])
        #expect(seen.ordersAfterFailure.count == 2 * (failAt - 1))
        #expect(!seen.repaired)
        #expect(seen.orders.count == 11)
        #expect(seen.events == 22)
        #expect(seen.serverChecksum == seen.checksum)
    }

    /// The engine's path with a `WALCheckpointer` running beside the storing connection
    /// (what the checkpointer itself does is `WALCheckpointerTests`'): nothing lost or torn.
    @Test func aLongPullIntoAStoreOnDiskIsWhole() async throws {
        // Given forty orders for t1 and a technician's store on disk, two orders a page
        // (twenty pages, several transactions, so a checkpointer copies the WAL meanwhile)
        let seen = try await onOwnThread {
            Result { () throws -> (orders: Int, events: Int, checksum: String, server: String?, repaired: Bool, integrity: String) in
                let sim = try Simulation(seed: 21, deviceCount: 1, skewMs: 0, faults: .none)
                defer { sim.cleanUp() }
                let dispatcher = sim.devices[0].store
                for n in 1...40 {
                    try dispatcher.record(orderId: "WO-\(n)", now: sim.time.now + Int64(n)) { _ in
                        .create(fields: [.kind: "repair", .urgency: "2", .customerName: "客户\(n)", .address: "路 \(n) 号"])
                    }
                    try dispatcher.record(orderId: "WO-\(n)", now: sim.time.now + Int64(n)) { _ in .assign(technician: "t1") }
                }
                _ = try sim.engine(0).sync()
                let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fs-pull-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: dir) }
                let tech = try ClientDatabase(path: dir.appendingPathComponent("fieldsync.sqlite").path)
                _ = try tech.saveAccount(server: "http://127.0.0.1:9", user: "t1", role: .technician, token: "t")
                let principal = Principal(name: "t1", role: .technician)
                let time = sim.time
                let transport = ScriptedTransport(service: sim.service, principal: principal, failAt: nil)
                // When it syncs
                let report = try SyncEngine(store: tech, transport: transport, pageSize: 2, now: { time.now }).sync()
                return (try tech.orders().count, try tech.confirmedEvents().count, String(try tech.confirmedChecksum()),
                        try sim.service.pull(as: principal, cursor: .max / 2, limit: 1).checksum, report.repaired,
                        try tech.integrityCheck())
            }
        }.get()

        // Then every order and event is there once, the checksum agrees without a repair,
        // and the file is sound
        #expect(seen.orders == 40)
        #expect(seen.events == 80)
        #expect(!seen.repaired)
        #expect(seen.server == seen.checksum)
        #expect(seen.integrity == "ok")
    }
}
