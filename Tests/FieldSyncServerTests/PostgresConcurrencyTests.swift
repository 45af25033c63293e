import Dispatch
import FieldSyncCore
import Foundation
import Testing

@testable import FieldSyncServer

/// What several server instances on one PostgreSQL must never do: skip a change a
/// concurrent transaction commits late, lose a device's sequence, or deadlock. Each test
/// opens two stores on one database — two instances' connection pools.
@Suite(.enabled(if: TestPostgres.url != nil, "needs FIELDSYNC_POSTGRES_URL (tools/test starts PostgreSQL)"))
struct PostgresConcurrencyTests {
    /// Two stores on one new database, as two instances see it.
    private func twoInstances() throws -> (PostgresStore, PostgresStore) {
        let first = try TestPostgres.freshStore()
        return (first, try PostgresStore(url: first.testURL, migrate: true))
    }

    @Test func aCursorNeverSkipsAChangeWhoseTransactionCommitsLate() throws {
        let (a, b) = try twoInstances()
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        let seqs = Locked<[String: Int64]>([:])
        @Sendable func insert(_ opId: String, _ db: any SQLSession) throws -> Int64 {
            try db.value(Int64.self, """
                INSERT INTO events (op_id, order_id, device_id, device_seq, body) VALUES (?, 'WO-1', 'd', 1, '{}') RETURNING seq
                """, [opId]) ?? -1
        }
        // Given a transaction on instance A that numbered its change and has not committed
        DispatchQueue.global().async(group: done) {
            _ = try? a.write { db in
                seqs.update { $0["first"] = try? insert("first", db) }
                entered.signal()
                release.wait()
            }
        }
        entered.wait()
        // When a second transaction on instance B starts a change meanwhile
        DispatchQueue.global().async(group: done) {
            _ = try? b.write { db in seqs.update { $0["second"] = try? insert("second", db) } }
        }
        // Then B waits for A's write lock before it numbers anything
        try awaitCondition("B waits on the write lock") {
            try a.read { db in
                try db.value(Int64.self, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") == 1
            }
        }
        #expect(seqs.value["second"] == nil)
        // and a reader sees neither change yet (its cursor stays where it was)
        #expect(try b.read { db in try db.value(Int64.self, "SELECT count(*) FROM events") } == 0)
        release.signal()
        done.wait()
        // After both commit, the later commit has the later number: a cursor that read the
        // second change has read the first one
        let first = try #require(seqs.value["first"]), second = try #require(seqs.value["second"])
        #expect(first < second)
    }

    @Test func concurrentPushesOfOneDeviceThroughTwoInstancesApplyEachIntentOnce() throws {
        let (a, b) = try twoInstances()
        let serviceA = SyncService(database: a, now: { testNow })
        let serviceB = SyncService(database: b, now: { testNow })
        _ = try serviceA.addUser(name: "zhang", role: .dispatcher)
        _ = try serviceA.addUser(name: "alice", role: .technician)
        var desk = TestDevice("desk-1", dispatcher)
        let batches = (0..<4).map { round in
            (0..<10).map { n in desk.intent("WO-\(round)-\(n)", .create(fields: orderFields())) }
        }
        // When each batch goes to both instances at once (a retry after a lost answer),
        // and later batches race earlier ones
        let group = DispatchGroup()
        let errors = Locked<[String]>([])
        for batch in batches {
            for service in [serviceA, serviceB] {
                DispatchQueue.global().async(group: group) {
                    do {
                        _ = try service.push(PushRequest(deviceId: "desk-1", intents: batch), as: dispatcher)
                    } catch {
                        errors.update { $0.append("\(error)") }
                    }
                }
            }
        }
        group.wait()
        // Then nothing failed, and pushing everything once more answers it all as duplicates
        #expect(errors.value.isEmpty)
        let all = batches.flatMap { $0 }
        let again = try serviceB.push(PushRequest(deviceId: "desk-1", intents: all), as: dispatcher)
        #expect(again.outcomes.allSatisfy { $0.duplicate || $0.result == .deferred })
        #expect(again.outcomes.filter(\.duplicate).count == all.count)
        // with every intent stored once and the device's next number after the last
        #expect(again.nextSeq == Int64(all.count + 1))
        #expect(try a.read { db in try db.value(Int64.self, "SELECT count(*) FROM events") } == Int64(all.count))
    }

    @Test func batchesTouchingTechniciansInOppositeOrdersNeverDeadlockAndKeepTheChecksums() throws {
        let (a, b) = try twoInstances()
        let serviceA = SyncService(database: a, now: { testNow })
        let serviceB = SyncService(database: b, now: { testNow })
        _ = try serviceA.addUser(name: "zhang", role: .dispatcher)
        _ = try serviceA.addUser(name: "li", role: .dispatcher)
        for technician in ["alice", "bob", "chen"] { _ = try serviceA.addUser(name: technician, role: .technician) }
        var zhang = TestDevice("desk-z", dispatcher)
        var li = TestDevice("desk-l", Principal(name: "li", role: .dispatcher))
        let ids = (0..<12).map { "WO-\($0)" }
        _ = try zhang.push(ids.map { zhang.intent($0, .create(fields: orderFields())) }, to: serviceA)
        // When two desks, on two instances, reassign the same orders among the same
        // technicians, in opposite orders, at the same time, round after round
        let errors = Locked<[String]>([])
        for round in 0..<6 {
            let forward = ids.map { zhang.intent($0, .assign(technician: ["alice", "bob", "chen"][round % 3])) }
            let backward = ids.reversed().map { li.intent($0, .assign(technician: ["chen", "bob", "alice"][round % 3])) }
            let group = DispatchGroup()
            for (service, device, intents) in [(serviceA, zhang, forward), (serviceB, li, backward)] {
                DispatchQueue.global().async(group: group) {
                    do {
                        _ = try service.push(PushRequest(deviceId: device.id, intents: intents), as: device.principal)
                    } catch {
                        errors.update { $0.append("\(error)") }
                    }
                }
            }
            group.wait()
        }
        // Then every push went through (no deadlock, no serialisation failure)
        #expect(errors.value.isEmpty, "\(errors.value)")
        // and every scope checksum equals the sum recomputed from the orders
        try a.read { db in
            var expected: [String: UInt64] = [:]
            for row in try db.rows("SELECT id, assignee, version FROM orders WHERE archived = 0") {
                let term = ScopeChecksum.term(orderId: try row["id"], version: try row["version"])
                expected[ScopeSumRecord.allOrders, default: 0] &+= term
                if let assignee = try row["assignee"] as String? { expected[assignee, default: 0] &+= term }
            }
            for (scope, sum) in expected {
                #expect(try ScopeSumRecord.checksum(of: scope, db) == sum, "scope \(scope)")
            }
        }
    }

    @Test func whenPostgreSQLGoesAwayRequestsGet503AndTheServiceRecovers() throws {
        let store = try TestPostgres.freshStore()
        let service = SyncService(database: store, now: { testNow })
        _ = try service.addUser(name: "zhang", role: .dispatcher)
        let admin = try PostgresStore(url: try #require(TestPostgres.url), migrate: false)
        let name = String(store.testURL.split(separator: "/").last ?? "")
        // Given a database that stops accepting connections and drops the open ones
        try admin.script("ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
        try admin.script("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'")
        // When a request needs it, it gets 503 database_unavailable, and readiness says so
        let error = #expect(throws: ServiceError.self) { _ = try service.pull(as: dispatcher, cursor: 0, limit: 10) }
        #expect(error?.status == 503 && error?.body.error == "database_unavailable", "\(String(describing: error))")
        let ready = #expect(throws: ServiceError.self) { try service.checkDatabase() }
        #expect(ready?.status == 503)
        // Then once PostgreSQL serves again, the same service answers without a restart
        try admin.script("ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
        #expect(try service.pull(as: dispatcher, cursor: 0, limit: 10).hasMore == false)
        try service.checkDatabase()
    }

    @Test func theChecksumAdditionWrapsModulo2To64InSQL() throws {
        let store = try TestPostgres.freshStore()
        try store.write { db in
            try ScopeSumRecord.adjust("alice", term: UInt64.max - 1, subtract: false, db)
            try ScopeSumRecord.adjust("alice", term: 5, subtract: false, db)
            #expect(try ScopeSumRecord.checksum(of: "alice", db) == 3)
            try ScopeSumRecord.adjust("alice", term: 7, subtract: true, db)
            #expect(try ScopeSumRecord.checksum(of: "alice", db) == UInt64.max - 3)
        }
    }
}

/// Waits until `condition` holds, checking it again as the database changes; fails after
/// 20 s (a lock that is never waited on, a state never reached).
func awaitCondition(_ what: String, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(20)
    while try !condition() {
        guard Date() < deadline else {
            Issue.record("gave up waiting: \(what)")
            return
        }
        Thread.sleep(forTimeInterval: 0.01)
    }
}

/// A value shared by test threads.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func update(_ body: (inout Value) throws -> Void) rethrows { try lock.withLock { try body(&stored) } }
}
