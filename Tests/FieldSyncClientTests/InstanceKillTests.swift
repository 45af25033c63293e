import FieldSyncClient
import FieldSyncCore
@testable import FieldSyncServer
import FieldSyncStore
import Foundation
import Testing

/// Two real `fieldsync-server` processes on one PostgreSQL, as behind a load balancer:
/// one is SIGKILLed while it applies a desk's push, the crews keep syncing through the
/// other, and nothing is lost or doubled.
@Suite(.enabled(if: SimPostgres.url != nil, "needs FIELDSYNC_POSTGRES_URL (tools/test starts PostgreSQL)"))
struct InstanceKillTests {
    @Test func anInstanceKilledMidPushLosesNothingWhileCrewsSyncThroughTheOther() throws {
        // Given two instances on one database, a desk with 400 intents (200 orders opened
        // and assigned) and two crews
        let db = try SimPostgres.freshDatabase("fs_kill_\(UUID().uuidString.prefix(8).lowercased())")
        let store = try PostgresStore(url: db)
        let admin = SyncService(database: store, now: wallClock)
        var tokens: [String: String] = [:]
        tokens["zhang"] = try admin.addUser(name: "zhang", role: .dispatcher)
        for crew in ["t1", "t2"] { tokens[crew] = try admin.addUser(name: crew, role: .technician) }
        // One blob folder both instances share, as the README says.
        let blobs = FileManager.default.temporaryDirectory.appendingPathComponent("fs-kill-blobs-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: blobs) }
        let a = try ServerProcess(db: db, blobs: blobs), b = try ServerProcess(db: db, blobs: blobs)
        defer { a.stop(); b.stop() }
        let (aURL, bURL) = (a.url, b.url)
        let desk = try Device(user: "zhang", role: .dispatcher, token: tokens["zhang"] ?? "", via: b.url)
        let crews = try ["t1", "t2"].map { try Device(user: $0, role: .technician, token: tokens[$0] ?? "", via: b.url) }
        var recorded: [String] = []
        for n in 0..<200 {
            let id = try desk.store.newOrderId(day: 261124)
            recorded.append(try desk.store.record(orderId: id, now: wallClock()) { _ in
                .create(fields: [.kind: OrderKind.repair.rawValue, .urgency: "2", .customerName: "客户\(n)", .address: "和平路 \(n) 号"])
            }.intent.opId)
            recorded.append(try desk.store.record(orderId: id, now: wallClock()) { _ in
                .assign(technician: n % 2 == 0 ? "t1" : "t2")
            }.intent.opId)
        }

        // When the desk pushes through instance A, and A is killed (SIGKILL) while its
        // push transaction is open, as the crews sync through B all along
        let crewsSyncing = Flag()
        let crewErrors = Locked<[String]>([])
        let crewLoop = Thread {
            while !crewsSyncing.isSet {
                for crew in crews {
                    do { _ = try crew.engine(urls: [bURL]).sync() } catch { crewErrors.update { $0.append("\(error)") } }
                }
            }
        }
        crewLoop.start()
        let pushDone = DispatchSemaphore(value: 0)
        let firstPush = Locked<String>("")
        Thread {
            do {
                let report = try desk.engine(urls: [aURL], batchSize: 200).sync()
                firstPush.update { $0 = "pushed \(report.pushed), failure \(String(describing: report.pushFailure))" }
            } catch {
                firstPush.update { $0 = "failed: \(error)" }
            }
            pushDone.signal()
        }.start()
        let holdsLock = """
            SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND s.application_name = 'fieldsync-server/\(a.pid)'
            """
        let caught = try waitFor(seconds: 60) { try store.read { try $0.value(Int64.self, holdsLock) } == 1 }
        kill(a.pid, SIGKILL)
        pushDone.wait()
        #expect(caught, "instance A never held the write lock while the desk pushed")
        #expect(!firstPush.value.hasPrefix("pushed 400"), "the push through A finished before the kill: \(firstPush.value)")

        // Then the desk, syncing through either instance (A refuses connections now),
        // gets everything applied exactly once through B
        var attempts = 0
        while try !desk.store.outbox().isEmpty && attempts < 30 {
            attempts += 1
            _ = try? desk.engine(urls: [a.url, b.url], batchSize: 200).sync()
        }
        crewsSyncing.set()
        while crewLoop.isExecuting { _ = try waitFor(seconds: 60) { crewLoop.isFinished } }
        #expect(try desk.store.outbox().isEmpty, "the desk's outbox still holds intents after \(attempts) syncs")
        let stored = try store.read { db in
            try db.values(String.self, "SELECT op_id FROM events WHERE device_id = ?", [try desk.store.account()?.deviceId ?? ""])
        }
        #expect(stored.count == recorded.count && Set(stored) == Set(recorded), "\(stored.count) of \(recorded.count) intents stored")
        // and each crew, after one more sync, holds exactly its orders, checksums agreeing
        for crew in crews {
            let report = try crew.engine(urls: [b.url]).sync()
            #expect(!report.repaired, "\(crew.user) needed a repair")
            let held = Set(try crew.store.orders().map(\.id))
            let assigned = Set(try store.read { db in
                try db.values(String.self, "SELECT id FROM orders WHERE assignee = ?", [crew.user])
            })
            #expect(held == assigned && held.count == 100, "\(crew.user) holds \(held.count), the server assigned \(assigned.count)")
        }
        // (connection errors while A died are expected; nothing else)
        #expect(crewErrors.value.allSatisfy { $0.contains("offline") || $0.contains("connect") }, "\(crewErrors.value.prefix(3))")
    }

    private let wallClock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// A device of the kill test: an in-memory store registered with the server.
private struct Device {
    let store: ClientDatabase
    let user: String
    let token: String

    init(user: String, role: Role, token: String, via url: String) throws {
        store = try ClientDatabase.inMemory()
        self.user = user
        self.token = token
        let account = try store.saveAccount(server: url, user: user, role: role, token: token)
        try store.setDeviceNumber(try ServerAPI(server: url, token: token).registerDevice(account.deviceId).number)
    }

    func engine(urls: [String], batchSize: Int = 200) throws -> SyncEngine {
        SyncEngine(
            store: store, transport: try InstancesTransport(urls: urls, token: token), batchSize: batchSize,
            now: { Int64(Date().timeIntervalSince1970 * 1000) })
    }
}

/// Each request to one of several instances, at random (a load balancer).
private final class InstancesTransport: SyncTransport {
    private let apis: [ServerAPI]

    init(urls: [String], token: String) throws {
        apis = try urls.map { try ServerAPI(server: $0, token: token) }
    }

    private var api: ServerAPI { apis[Int.random(in: 0..<apis.count)] }

    func push(_ request: PushRequest) throws -> PushResponse { try api.push(request) }
    func pull(cursor: Int64, limit: Int) throws -> PullResponse { try api.pull(cursor: cursor, limit: limit) }
    func recover(_ request: RecoverRequest) throws -> RecoverResponse { try api.recover(request) }
}

/// A `fieldsync-server serve` process on a free loopback port.
private final class ServerProcess {
    let process = Process()
    let url: String
    var pid: Int32 { process.processIdentifier }

    init(db: String, blobs: String) throws {
        let bin = ProcessInfo.processInfo.environment["FIELDSYNC_BIN_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        process.executableURL = URL(fileURLWithPath: bin + "/fieldsync-server")
        process.arguments = ["serve", "--db", db, "--blob-dir", blobs, "--host", "127.0.0.1", "--port", "0"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var seen = ""
        while !seen.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = seen.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else {
            process.terminate()
            throw SimFailure("fieldsync-server did not start: \(seen)")
        }
        url = String(seen[range])
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// Checks `condition` until it holds (true) or `seconds` pass (false).
private func waitFor(seconds: Double, _ condition: () throws -> Bool) throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.001)
    }
    return false
}

private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

private final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func update(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}
