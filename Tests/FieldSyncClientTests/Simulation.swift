import FieldSyncClient
import FieldSyncCore
import FieldSyncServer
import Foundation
import GRDB
@testable import FieldSyncStore

/// A small deterministic random generator (SplitMix64), so a failing seed replays exactly.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func chance(_ p: Double) -> Bool { Double(next() % 10_000) < p * 10_000 }
    mutating func pick(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// What one schedule may do besides recording intents and syncing.
struct Scenario: CustomStringConvertible {
    /// Technician devices (t1, t2, t3, t1, … in turn).
    var technicianDevices = 3
    /// The second dispatcher desk: nil for one desk, else its user (`wang` again on a
    /// second device, or a second dispatcher `li`).
    var secondDesk: String?
    var skewMs: Int64 = 0
    var faults = Faults.harsh
    var wire = SimWire.inProcess
    /// The server database is a file (needed for restarts).
    var fileServer = false
    /// The server is stopped and its file opened again at random steps.
    var restarts = false
    /// Devices' stores are copied at random steps and later replaced by the copy.
    var restores = false
    /// A device's confirmed copy of an order is deleted behind the engine's back.
    var corruption = false
    /// Desks open orders under ids from a pool this small (0: generated ids only), so
    /// two desks sometimes open the same id before either has synced.
    var idPool = 0
    var batchSize = 3
    var pageSize = 2
    var maxPushBytes = PushRequest.maxBytes
    /// Finished orders leave devices after this long (simulated minutes instead of
    /// days, so archiving happens within the run); nil: the default 30 days.
    var retentionMs: Int64?
    /// The server instances share a new database on this PostgreSQL (nil: SQLite).
    var postgresURL: String?
    /// Server instances; devices reach one at random for each request (HTTP only).
    var instances = 1

    /// A schedule drawn from `rng`: 2 desks, colliding ids, and a mix of file-backed
    /// servers with restarts, restores, corruption and real HTTP.
    static func random(_ rng: inout SplitMix, skewMs: Int64, http: Bool?) -> Scenario {
        var s = Scenario()
        s.technicianDevices = 3 + rng.pick(3)
        s.secondDesk = rng.chance(0.5) ? "wang" : "li"
        s.skewMs = skewMs
        s.idPool = 4 + rng.pick(5)
        s.wire = (http ?? rng.chance(0.1)) ? .http : .inProcess
        s.fileServer = s.wire == .http || rng.chance(0.3)
        s.restarts = s.fileServer && rng.chance(0.7)
        s.restores = rng.chance(0.5)
        s.corruption = rng.chance(0.15)
        s.retentionMs = rng.chance(0.4) ? Int64(10 + rng.pick(30)) * 60_000 : nil
        if s.wire == .http {
            // Small enough that a batch of a few intents is refused with a real 413.
            s.maxPushBytes = 1_500
            s.batchSize = 8
        }
        return s
    }

    var description: String {
        var parts = ["\(technicianDevices) technician devices", secondDesk.map { "2 desks (wang + \($0))" } ?? "1 desk"]
        parts.append(wire == .http ? "HTTP (push limit \(maxPushBytes) B)" : "in process")
        if fileServer { parts.append(restarts ? "file server with restarts" : "file server") }
        if restores { parts.append("store restores") }
        if corruption { parts.append("corruption") }
        if idPool > 0 { parts.append("id pool \(idPool)") }
        if skewMs > 0 { parts.append("clocks ±\(skewMs / 3_600_000) h") }
        if let retentionMs { parts.append("archived after \(retentionMs / 60_000) min") }
        if postgresURL != nil { parts.append("PostgreSQL, \(instances) instance(s)") }
        return parts.joined(separator: ", ")
    }
}

/// What a schedule did, for the failure text and the coverage checks.
struct SimStats: Sendable, CustomStringConvertible {
    var schedules = 0
    var httpSchedules = 0
    var syncs = 0
    var injectedFailures = 0
    var repairs = 0
    var corruptions = 0
    var backups = 0
    var restores = 0
    var recoveries = 0
    var restarts = 0
    var refusedCreates = 0
    var takenFollowers = 0
    var recreated = 0
    var tooLarge = 0
    /// Orders that arrived as new events only (delta pulls), and orders archived away.
    var deltas = 0
    var archived = 0
    /// Creates under a generated id refused `order_exists` (only a restored store can
    /// hand out an id again).
    var generatedIdCollisions = 0
    var slowestRestartMs = 0
    var slowestScheduleMs = 0

    mutating func add(_ other: SimStats) {
        schedules += other.schedules; httpSchedules += other.httpSchedules; syncs += other.syncs
        injectedFailures += other.injectedFailures; repairs += other.repairs
        corruptions += other.corruptions; backups += other.backups; restores += other.restores
        recoveries += other.recoveries; restarts += other.restarts
        refusedCreates += other.refusedCreates; takenFollowers += other.takenFollowers
        recreated += other.recreated; tooLarge += other.tooLarge
        deltas += other.deltas; archived += other.archived
        generatedIdCollisions += other.generatedIdCollisions
        slowestRestartMs = max(slowestRestartMs, other.slowestRestartMs)
        slowestScheduleMs = max(slowestScheduleMs, other.slowestScheduleMs)
    }

    var description: String {
        "syncs \(syncs) (\(injectedFailures) failed by injected faults), repairs \(repairs) after \(corruptions) corruptions, "
            + "\(backups) backups, \(restores) restores, \(recoveries) recoveries, "
            + "\(restarts) server restarts (slowest \(slowestRestartMs) ms), "
            + "\(refusedCreates) creates refused order_exists (\(generatedIdCollisions) under generated ids), "
            + "\(takenFollowers) followers refused order_id_taken, "
            + "\(recreated) recreated, \(tooLarge) real 413s, \(deltas) orders pulled as new events only, "
            + "\(archived) archived away; slowest schedule \(slowestScheduleMs) ms"
    }
}

/// One device in a simulation: its store, its account and its clock's offset.
struct SimDevice {
    var store: ClientDatabase
    var transport: FaultyTransport
    var user: String
    var role: Role
    /// How far the device's wall clock is off the server's (milliseconds).
    var offset: Int64
    /// Every intent this device recorded.
    var recorded: [Intent] = []
    /// The last copy of the store: its file and how many intents were recorded then.
    var backup: (path: String, recorded: Int)?
    /// Intents recorded after the copy a restore went back to: the restore lost them
    /// unless they had reached the server.
    var mayBeLost: Set<String> = []
    /// Refused intents `recreate` took out of the outbox (op id → refusal code).
    var replaced: [String: String] = [:]
    var repairs = 0
    var corruptions = 0
    /// Index in the simulation, for messages.
    var index: Int
    var name: String { "\(user)@\(index)" }
}

/// A random schedule of intents and syncs over several devices and one server.
struct Simulation {
    var rng: SplitMix
    let scenario: Scenario
    let server: SimServer
    var devices: [SimDevice] = []
    var stats = SimStats()
    /// Server time (ms).
    let time: SimTime
    /// Files of this schedule (server database, store copies); removed by ``cleanUp()``.
    let directory: String
    private var step = -1
    private var files = 0

    final class SimTime: @unchecked Sendable {
        static let start: Int64 = 1_795_000_000_000
        var now: Int64 = start
    }

    var service: SyncService { server.service }

    init(seed: UInt64, deviceCount: Int, skewMs: Int64, faults: Faults) throws {
        var scenario = Scenario()
        scenario.technicianDevices = deviceCount
        scenario.skewMs = skewMs
        scenario.faults = faults
        try self.init(seed: seed, scenario: scenario)
    }

    init(seed: UInt64, scenario: Scenario) throws {
        rng = SplitMix(seed: seed)
        self.scenario = scenario
        let time = SimTime()
        self.time = time
        // Memory-backed when the machine has it: a schedule's files are thrown away, and
        // waiting for the disk at every commit would only slow the proof down.
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        directory = "\(base)/fieldsync-sim-\(seed)-\(UUID().uuidString.prefix(8))"
        if scenario.fileServer || scenario.restores {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let postgres = try scenario.postgresURL.map { _ in
            try SimPostgres.freshDatabase("fs_sim_\(String(seed, radix: 36))_\(UUID().uuidString.prefix(8).lowercased())")
        }
        server = try SimServer(
            wire: scenario.wire, path: scenario.fileServer && postgres == nil ? directory + "/server.sqlite" : nil,
            maxPushBytes: scenario.maxPushBytes, retentionMs: scenario.retentionMs, postgresURL: postgres,
            instances: scenario.instances, now: { time.now })
        let technicians = ["t1", "t2", "t3"]
        for name in technicians { server.tokens[name] = try server.service.addUser(name: name, role: .technician) }
        for name in ["wang", "li"] { server.tokens[name] = try server.service.addUser(name: name, role: .dispatcher) }
        try server.start()
        stats.schedules = 1
        stats.httpSchedules = scenario.wire == .http ? 1 : 0

        var roster: [(String, Role)] = [("wang", .dispatcher)]
        for i in 0..<scenario.technicianDevices { roster.append((technicians[i % technicians.count], .technician)) }
        if let desk = scenario.secondDesk { roster.append((desk, .dispatcher)) }
        for (i, (user, role)) in roster.enumerated() {
            let store = try ClientDatabase.inMemory()
            let account = try store.saveAccount(server: "sim://", user: user, role: role, token: "-")
            let offset = scenario.skewMs == 0 ? 0 : Int64.random(in: -scenario.skewMs...scenario.skewMs, using: &rng)
            let transport = FaultyTransport(
                server: server, principal: Principal(name: user, role: role),
                seed: seed &+ UInt64(i) &* 7919, faults: scenario.faults)
            try store.setDeviceNumber(try transport.register(account.deviceId))
            devices.append(SimDevice(
                store: store, transport: transport, user: user, role: role, offset: offset, index: i))
        }
    }

    func engine(_ i: Int) -> SyncEngine {
        let device = devices[i]
        let time = self.time
        return SyncEngine(
            store: device.store, transport: device.transport, batchSize: scenario.batchSize,
            pageSize: scenario.pageSize, now: { time.now + device.offset })
    }

    /// Stops the live server and removes the schedule's files.
    func cleanUp() {
        for device in devices { device.transport.disconnect() }
        server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `steps` random steps: actions on random devices, syncs that may fail, and the
    /// scenario's restores, restarts and corruption. Every error but an injected network
    /// failure or a local refusal is thrown as a ``SimFailure`` naming the step.
    mutating func run(steps: Int) throws {
        for step in 0..<steps {
            self.step = step
            time.now += Int64.random(in: 1...90_000, using: &rng)
            if try disrupt() { continue }
            let i = rng.pick(devices.count)
            let held = try devices[i].store.orders()
            let idle = devices[i].role == .technician
                && held.allSatisfy { $0.status.isFinished || $0.status == .cancelled }
            if idle || rng.chance(0.3) {
                try sync(i)
            } else if devices[i].role == .dispatcher {
                try dispatcherAct(i)
            } else {
                try technicianAct(i)
            }
        }
    }

    /// Turns faults off and syncs every device until a whole round pushed nothing and
    /// pulled nothing (then every device has pulled after the last change: an archiving
    /// that one device's pull set off late in a round reaches the devices that synced
    /// before it in that round).
    mutating func quiesce() throws {
        step = -1
        for device in devices { device.transport.faults = .none; device.transport.stashed = [] }
        for _ in 0..<8 {
            var pushed = 0, pulled = 0
            for i in devices.indices {
                time.now += 1_000
                let report: SyncReport
                do {
                    report = try engine(i).sync()
                } catch {
                    throw SimFailure("after the network healed, \(devices[i].name)'s sync failed: \(error)")
                }
                try take(report, from: i)
                pushed += report.pushed
                pulled += report.pulledOrders + report.revokedOrders + report.archivedOrders
            }
            if pushed == 0 && pulled == 0 { return }
        }
        throw SimFailure("8 rounds of syncs without faults still pushed or pulled changes")
    }

    /// One sync. An injected network failure is expected; any other error, and a push
    /// failure that is not an injected one, fails the schedule.
    private mutating func sync(_ i: Int) throws {
        stats.syncs += 1
        let report: SyncReport
        do {
            report = try engine(i).sync()
        } catch let error as SyncError where error.isInjected {
            stats.injectedFailures += 1
            return
        } catch {
            throw SimFailure("step \(step): \(devices[i].name)'s sync failed: \(error)")
        }
        try take(report, from: i)
    }

    private mutating func take(_ report: SyncReport, from i: Int) throws {
        if report.repaired { devices[i].repairs += 1; stats.repairs += 1 }
        if report.recovered != nil { stats.recoveries += 1 }
        stats.deltas += report.deltaOrders
        stats.archived += report.archivedOrders
        for refused in report.rejected {
            if refused.rejection.code == .orderExists {
                stats.refusedCreates += 1
                if !refused.orderId.hasPrefix(Self.poolPrefix) { stats.generatedIdCollisions += 1 }
            }
            if refused.rejection.code == .orderIdTaken { stats.takenFollowers += 1 }
        }
        if let failure = report.pushFailure {
            guard failure.offline && failure.message.hasPrefix(SyncError.injectedMarker) else {
                throw SimFailure(
                    "\(step < 0 ? "after the network healed" : "step \(step)"): \(devices[i].name)'s push failed (offline: \(failure.offline)) and only the pull went on: \(failure.message)")
            }
            stats.injectedFailures += 1
        }
    }

    // MARK: - Restores, restarts, corruption

    /// Maybe one of the scenario's disruptions; true when one happened this step.
    private mutating func disrupt() throws -> Bool {
        if scenario.restores && rng.chance(0.04) {
            let i = rng.pick(devices.count)
            if devices[i].backup == nil || rng.chance(0.4) { try takeBackup(i) } else { try restore(i) }
            return true
        }
        if scenario.restarts && rng.chance(0.02) {
            for device in devices { device.transport.disconnect() }
            let start = DispatchTime.now().uptimeNanoseconds
            // With several instances one restarts while the others keep serving.
            try server.restart(instance: scenario.instances > 1 ? rng.pick(scenario.instances) : 0)
            stats.restarts += 1
            stats.slowestRestartMs = max(stats.slowestRestartMs, Int((DispatchTime.now().uptimeNanoseconds - start) / 1_000_000))
            return true
        }
        if scenario.corruption && rng.chance(0.02) {
            try corrupt(rng.pick(devices.count))
            return true
        }
        return false
    }

    private mutating func newFile(_ name: String) -> String {
        files += 1
        return "\(directory)/\(name)-\(files).sqlite"
    }

    /// Copies the device's store, as a tablet backup would.
    private mutating func takeBackup(_ i: Int) throws {
        let path = newFile("backup-\(i)")
        try devices[i].store.backup(to: path)
        devices[i].backup = (path, devices[i].recorded.count)
        stats.backups += 1
    }

    /// Replaces the device's store by a fresh copy of its last backup. The intents
    /// recorded since that backup are gone from the device (they survive only if they
    /// reached the server); requests still in flight from the old store die with it.
    private mutating func restore(_ i: Int) throws {
        guard let backup = devices[i].backup else { return }
        let path = newFile("restored-\(i)")
        try FileManager.default.copyItem(atPath: backup.path, toPath: path)
        devices[i].store = try ClientDatabase(path: path)
        devices[i].mayBeLost.formUnion(devices[i].recorded[backup.recorded...].map(\.opId))
        devices[i].transport.stashed = []
        devices[i].transport.restored = true
        stats.restores += 1
    }

    /// Deletes one confirmed order from the device behind the engine's back: only the
    /// scope checksum can notice, and the repair must bring it back.
    private mutating func corrupt(_ i: Int) throws {
        let store = devices[i].store
        let ids = try store.writer.read { db in try String.fetchAll(db, sql: "SELECT id FROM confirmed_order ORDER BY id") }
        guard !ids.isEmpty else { return }
        let id = ids[rng.pick(ids.count)]
        try store.writer.write { db in
            try db.execute(sql: "DELETE FROM confirmed_event WHERE order_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM confirmed_order WHERE id = ?", arguments: [id])
            try ClientDatabase.refreshView(db, id)
        }
        devices[i].corruptions += 1
        stats.corruptions += 1
    }

    // MARK: - People's actions

    /// Records one action; a refusal by the local checks is what a person at the CLI is
    /// told, and writes nothing. Any other error fails the schedule.
    private mutating func record(_ i: Int, order: String, _ build: (WorkOrder?) throws -> Action) throws {
        let now = time.now + devices[i].offset
        do {
            let (intent, _) = try devices[i].store.record(orderId: order, now: now, build)
            devices[i].recorded.append(intent)
        } catch is StoreError {
            // refused by the local checks: nothing written, as for a person at the CLI
        } catch {
            throw SimFailure("step \(step): \(devices[i].name) could not record on \(order): \(error)")
        }
    }

    /// Ids desks pick by hand from the scenario's small pool (generated ones never
    /// start so).
    static let poolPrefix = "WO-P"

    /// `yymmdd` of a device time (UTC is enough here).
    static func day(_ ms: Int64) -> Int {
        var seconds = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return Int(parts.tm_year % 100) * 10_000 + Int(parts.tm_mon + 1) * 100 + Int(parts.tm_mday)
    }

    private mutating func dispatcherAct(_ i: Int) throws {
        let store = devices[i].store
        let now = time.now + devices[i].offset
        // A desk whose order was refused because another desk took its id opens it again.
        let outbox = try store.outbox()
        if rng.chance(0.5), let refused = outbox.first(where: {
            if case .create = $0.intent.action { $0.rejection?.code == .orderExists } else { false }
        }) {
            let orderId = refused.intent.orderId
            let before = outbox.filter { $0.state == .rejected && $0.intent.orderId == orderId }
            do {
                let made = try store.recreate(refused: orderId, as: try store.newOrderId(day: Self.day(now)), now: now)
                devices[i].recorded += made
                let after = Set(try store.outbox().map(\.intent.opId))
                for entry in before where !after.contains(entry.intent.opId) {
                    devices[i].replaced[entry.intent.opId] = entry.rejection?.code.rawValue ?? "?"
                }
                stats.recreated += 1
            } catch is StoreError {
                // told no: the refused order stays listed
            }
            return
        }
        let orders = try store.orders()
        let technicians = ["t1", "t2", "t3"]
        let pick = rng.next() % 20
        if orders.isEmpty || (orders.count < 4 && pick < 6) || pick == 0 {
            let id = scenario.idPool > 0 && rng.chance(0.5)
                ? "\(Self.poolPrefix)\(rng.pick(scenario.idPool))"
                : try store.newOrderId(day: Self.day(now))
            try record(i, order: id) { _ in
                .create(fields: [.kind: "repair", .urgency: "\(1 + id.count % 3)", .customerName: "客户\(id.suffix(3))", .address: "解放路 \(id.suffix(2)) 号"])
            }
            let tech = technicians[rng.pick(3)]
            try record(i, order: id) { _ in .assign(technician: tech) }
            return
        }
        let order = orders[rng.pick(orders.count)]
        switch pick {
        case 1...5:
            let tech = technicians[rng.pick(3)]
            try record(i, order: order.id) { _ in .assign(technician: tech) }
        case 6: try record(i, order: order.id) { _ in .transition(to: .cancelled, note: "customer called off") }
        case 7...9: try record(i, order: order.id) { _ in .reopen(reason: "customer says still cold") }
        case 10...11: try record(i, order: order.id) { _ in .transition(to: .followedUp, note: "ok") }
        case 12: try record(i, order: order.id) { _ in .transition(to: .closed, note: nil) }
        case 13...15:
            let value = "\(1 + rng.next() % 3)"
            try record(i, order: order.id) { o in .setField(field: .urgency, value: value, base: o?.fields["urgency"]?.hlc) }
        default:
            let id = "d\(rng.next() % 100_000)"
            try record(i, order: order.id) { _ in .append(ChildEntry(id: id, kind: .log, text: "called customer")) }
        }
    }

    private mutating func technicianAct(_ i: Int) throws {
        let orders = try devices[i].store.orders()
        guard !orders.isEmpty else { return }
        let order = orders[rng.pick(orders.count)]
        let pick = rng.next() % 12
        switch pick {
        case 0...4:
            var steps = order.status.next.filter { $0.owner == .technician && $0 != .signedOff }
            if steps.count > 1 && !rng.chance(0.1) { steps.removeAll { $0 == .couldNotComplete } }
            guard !steps.isEmpty else { return }
            let target = steps[rng.pick(steps.count)]
            try record(i, order: order.id) { _ in .transition(to: target, note: nil) }
        case 5:
            let id = "p\(rng.next() % 1_000_000)"
            try record(i, order: order.id) { _ in .append(ChildEntry(id: id, kind: .part, text: "DN20 阀门", quantity: 1, amountFen: 3550)) }
        case 6:
            let id = "l\(rng.next() % 1_000_000)"
            try record(i, order: order.id) { _ in .append(ChildEntry(id: id, kind: .log, text: "到达现场")) }
        case 7:
            guard let line = order.children.first(where: { $0.voided == nil && $0.entry.kind != .log }) else { return }
            try record(i, order: order.id) { _ in .void(childId: line.entry.id, reason: "wrong part") }
        case 8, 9:
            let signedAt = time.now + devices[i].offset
            try record(i, order: order.id) { o in
                guard let o else { throw StoreError.unknownOrder(order.id) }
                return .signOff(SignOff(
                    signerName: "张女士", signerRole: "customer", signatureDigest: String(repeating: "ab", count: 32),
                    rating: 5, comment: nil, signedAt: signedAt, contentHash: SignOffContent.hash(of: o)))
            }
        case 10:
            let text = ["阀门漏水", "pump seized", "air in radiator"][rng.pick(3)]
            try record(i, order: order.id) { o in .setField(field: .diagnosis, value: text, base: o?.fields["diagnosis"]?.hlc) }
        default:
            try record(i, order: order.id) { o in .setField(field: .workDone, value: "replaced valve", base: o?.fields["work_done"]?.hlc) }
        }
    }
}
