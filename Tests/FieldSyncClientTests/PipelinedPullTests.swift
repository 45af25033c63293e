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

    @Test func aPageThatNeverArrivesStopsThePullAfterThePagesBeforeItAreStored() throws {
        // Given twelve orders for t1 on the server, and t1's empty device pulling two a page
        let sim = try Simulation(seed: 11, deviceCount: 1, skewMs: 0, faults: .none)
        defer { sim.cleanUp() }
        let dispatcher = sim.devices[0].store, tech = sim.devices[1].store
        for n in 1...12 {
            try dispatcher.record(orderId: "WO-\(n)", now: sim.time.now + Int64(n)) { _ in
                .create(fields: [.kind: "repair", .urgency: "2", .customerName: "客户\(n)", .address: "路 \(n) 号"])
            }
            try dispatcher.record(orderId: "WO-\(n)", now: sim.time.now + Int64(n)) { _ in .assign(technician: "t1") }
        }
        _ = try sim.engine(0).sync()
        let principal = Principal(name: "t1", role: .technician)
        let failing = ScriptedTransport(service: sim.service, principal: principal, failAt: 4)
        let time = sim.time
        let engine = SyncEngine(store: tech, transport: failing, pageSize: 2, now: { time.now })

        // When the fourth page is lost while the third is being stored
        #expect(throws: SyncError.self) { _ = try engine.sync() }

        // Then the three pages before it are stored, the cursor is the third's, and the
        // engine asked for nothing after the lost page
        let third = try sim.service.pull(as: principal, cursor: failing.asked[2], limit: 2, delta: true)
        #expect(failing.asked.count == 4)
        #expect(try tech.cursor() == third.cursor)
        #expect(try tech.orders().map(\.id).sorted() == (1...6).map { "WO-\($0)" }.sorted())

        // When the next sync gets every page
        let healthy = ScriptedTransport(service: sim.service, principal: principal, failAt: nil)
        let report = try SyncEngine(store: tech, transport: healthy, pageSize: 2, now: { time.now }).sync()

        // Then it carries on from that cursor, nothing is missing or stored twice, and the
        // checksum agrees without a repair
        #expect(healthy.asked.first == third.cursor)
        #expect(!report.repaired)
        #expect(try tech.orders().map(\.id).sorted() == (1...12).map { "WO-\($0)" }.sorted())
        #expect(try tech.confirmedEvents().count == 24)
        let server = try sim.service.pull(as: principal, cursor: .max / 2, limit: 1)
        #expect(server.checksum == String(try tech.confirmedChecksum()))
    }

    @Test func everyPageFailingInTurnLeavesTheCursorOnAStoredPage() throws {
        // Given orders for t1 and a pull of two a page, failing at each page in turn
        for failAt in 1...6 {
            let sim = try Simulation(seed: 12, deviceCount: 1, skewMs: 0, faults: .none)
            defer { sim.cleanUp() }
            let dispatcher = sim.devices[0].store, tech = sim.devices[1].store
            for n in 1...11 {
                try dispatcher.record(orderId: "WO-\(n)", now: sim.time.now + Int64(n)) { _ in
                    .create(fields: [.kind: "repair", .urgency: "2", .customerName: "客户\(n)", .address: "路 \(n) 号"])
                }
                try dispatcher.record(orderId: "WO-\(n)", now: sim.time.now + Int64(n)) { _ in .assign(technician: "t1") }
            }
            _ = try sim.engine(0).sync()
            let principal = Principal(name: "t1", role: .technician)
            let time = sim.time
            let failing = ScriptedTransport(service: sim.service, principal: principal, failAt: failAt)

            // When the pull fails at that page
            #expect(throws: SyncError.self) {
                _ = try SyncEngine(store: tech, transport: failing, pageSize: 2, now: { time.now }).sync()
            }

            // Then the cursor is the one the failed request asked from (every page before
            // it stored, none after), and a sync afterwards converges without a repair
            #expect(try tech.cursor() == failing.asked[failAt - 1], "failing at page \(failAt)")
            let healthy = ScriptedTransport(service: sim.service, principal: principal, failAt: nil)
            let report = try SyncEngine(store: tech, transport: healthy, pageSize: 2, now: { time.now }).sync()
            #expect(!report.repaired)
            #expect(try tech.orders().count == 11)
            #expect(try tech.confirmedEvents().count == 22)
        }
    }
}
