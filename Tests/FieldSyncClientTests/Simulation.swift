import FieldSyncClient
import FieldSyncCore
import FieldSyncServer
import FieldSyncStore
import Foundation

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
}

/// The faults a transport injects, as probabilities per request.
struct Faults {
    var dropBeforeServer = 0.0
    var dropAfterServer = 0.0
    var duplicate = 0.0
    /// Chance to keep a copy of a push and deliver it again later, out of order.
    var stash = 0.0
    var replayStashed = 0.0

    static let none = Faults()
    static let harsh = Faults(dropBeforeServer: 0.15, dropAfterServer: 0.15, duplicate: 0.15, stash: 0.2, replayStashed: 0.3)
}

/// The server, in process, behind a network that drops, duplicates and reorders requests.
final class FaultyTransport: SyncTransport {
    let service: SyncService
    let principal: Principal
    var rng: SplitMix
    var faults: Faults
    var stashed: [PushRequest] = []

    init(service: SyncService, principal: Principal, seed: UInt64, faults: Faults) {
        self.service = service
        self.principal = principal
        rng = SplitMix(seed: seed)
        self.faults = faults
    }

    func push(_ request: PushRequest) throws -> PushResponse {
        try replayOldRequest()
        if rng.chance(faults.stash) { stashed.append(request) }
        if rng.chance(faults.dropBeforeServer) { throw SyncError.offline("dropped before the server") }
        var response = try call { try service.push(request, as: principal) }
        if rng.chance(faults.duplicate) { response = try call { try service.push(request, as: principal) } }
        if rng.chance(faults.dropAfterServer) { throw SyncError.offline("dropped after the server applied it") }
        return response
    }

    func pull(cursor: Int64, limit: Int) throws -> PullResponse {
        try replayOldRequest()
        if rng.chance(faults.dropBeforeServer) { throw SyncError.offline("dropped before the server") }
        let response = try call { try service.pull(as: principal, cursor: cursor, limit: limit) }
        if rng.chance(faults.dropAfterServer) { throw SyncError.offline("dropped after the server answered") }
        return response
    }

    /// Delivers a stale copy of an earlier push: its answer goes nowhere, as on a real
    /// network where the client gave up on it long ago.
    private func replayOldRequest() throws {
        guard !stashed.isEmpty, rng.chance(faults.replayStashed) else { return }
        let old = stashed.remove(at: Int(rng.next() % UInt64(stashed.count)))
        _ = try call { try service.push(old, as: principal) }
    }

    private func call<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ServiceError {
            throw SyncError.server(status: error.status, error: error.body)
        }
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
}

/// A random schedule of intents and syncs over several devices and one server.
struct Simulation {
    var rng: SplitMix
    var service: SyncService
    var devices: [SimDevice] = []
    /// Server time (ms).
    let time: SimTime

    final class SimTime: @unchecked Sendable {
        var now: Int64 = 1_795_000_000_000
    }

    init(seed: UInt64, deviceCount: Int, skewMs: Int64, faults: Faults) throws {
        rng = SplitMix(seed: seed)
        let time = SimTime()
        self.time = time
        service = SyncService(database: try ServerDatabase.inMemory(), now: { time.now })
        let technicians = ["t1", "t2", "t3"]
        for name in technicians { _ = try service.addUser(name: name, role: .technician) }
        _ = try service.addUser(name: "wang", role: .dispatcher)
        var roster: [(String, Role)] = [("wang", .dispatcher)]
        for i in 0..<deviceCount { roster.append((technicians[i % technicians.count], .technician)) }
        for (i, (user, role)) in roster.enumerated() {
            let store = try ClientDatabase.inMemory()
            _ = try store.saveAccount(server: "sim://", user: user, role: role, token: "-")
            let offset = skewMs == 0 ? 0 : Int64.random(in: -skewMs...skewMs, using: &rng)
            let transport = FaultyTransport(
                service: service, principal: Principal(name: user, role: role),
                seed: seed &+ UInt64(i) &* 7919, faults: faults)
            devices.append(SimDevice(store: store, transport: transport, user: user, role: role, offset: offset))
        }
    }

    func engine(_ i: Int) -> SyncEngine {
        let device = devices[i]
        let time = self.time
        return SyncEngine(store: device.store, transport: device.transport, batchSize: 3, pageSize: 2,
                          now: { time.now + device.offset })
    }

    /// Runs `steps` random steps: actions on random devices, syncs that may fail.
    mutating func run(steps: Int) throws {
        for _ in 0..<steps {
            time.now += Int64.random(in: 1...90_000, using: &rng)
            let i = Int(rng.next() % UInt64(devices.count))
            let held = try devices[i].store.orders()
            let idle = devices[i].role == .technician
                && held.allSatisfy { $0.status.isFinished || $0.status == .cancelled }
            if idle || rng.chance(0.3) {
                _ = try? engine(i).sync()  // an offline failure leaves everything for later
            } else if devices[i].role == .dispatcher {
                try dispatcherAct(i)
            } else {
                try technicianAct(i)
            }
        }
    }

    /// Turns faults off and syncs every device until nothing changes.
    mutating func quiesce() throws {
        for device in devices { device.transport.faults = .none; device.transport.stashed = [] }
        for _ in 0..<3 {
            for i in devices.indices {
                time.now += 1_000
                _ = try engine(i).sync()
            }
        }
    }

    private mutating func record(_ i: Int, order: String, _ build: (WorkOrder?) throws -> Action) throws {
        let now = time.now + devices[i].offset
        do {
            let (intent, _) = try devices[i].store.record(orderId: order, now: now, build)
            devices[i].recorded.append(intent)
        } catch is StoreError {
            // refused by the local checks: nothing written, as for a person at the CLI
        }
    }

    private mutating func dispatcherAct(_ i: Int) throws {
        let orders = try devices[i].store.orders()
        let technicians = ["t1", "t2", "t3"]
        let pick = rng.next() % 20
        if orders.isEmpty || (orders.count < 4 && pick < 6) || pick == 0 {
            let id = "WO-\(rng.next() % 1_000_000)"
            try record(i, order: id) { _ in
                .create(fields: [.kind: "repair", .urgency: "\(1 + id.count % 3)", .customerName: "客户\(id.suffix(3))", .address: "解放路 \(id.suffix(2)) 号"])
            }
            let tech = technicians[Int(rng.next() % 3)]
            try record(i, order: id) { _ in .assign(technician: tech) }
            return
        }
        let order = orders[Int(rng.next() % UInt64(orders.count))]
        switch pick {
        case 1...5:
            let tech = technicians[Int(rng.next() % 3)]
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
        let order = orders[Int(rng.next() % UInt64(orders.count))]
        let pick = rng.next() % 12
        switch pick {
        case 0...4:
            var steps = order.status.next.filter { $0.owner == .technician && $0 != .signedOff }
            if steps.count > 1 && !rng.chance(0.1) { steps.removeAll { $0 == .couldNotComplete } }
            guard !steps.isEmpty else { return }
            let target = steps[Int(rng.next() % UInt64(steps.count))]
            try record(i, order: order.id) { _ in .transition(to: target, note: nil) }
        case 4:
            let text = ["阀门漏水", "pump seized", "air in radiator"][Int(rng.next() % 3)]
            try record(i, order: order.id) { o in .setField(field: .diagnosis, value: text, base: o?.fields["diagnosis"]?.hlc) }
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
        default:
            try record(i, order: order.id) { o in .setField(field: .workDone, value: "replaced valve", base: o?.fields["work_done"]?.hlc) }
        }
    }
}
