import FieldSyncClient
import FieldSyncCore
import FieldSyncServer
import FieldSyncStore
import Foundation
import PropertyBased
import Testing

/// The convergence proofs of the sync engine (issue: sync engine). Each case is a random
/// schedule of 3–5 technician devices and a dispatcher making intents and syncing while the
/// network drops requests before and after the server applied them, duplicates them and
/// delivers stale copies out of order. After the network heals, every replica must equal
/// the server, and every intent must be on the server exactly once or be listed as refused.
///
/// A failure prints the PropertyBased seed (`.fixedSeed("…")` replays it) and the
/// simulation seed. `tools/soak` runs 100,000 cases: FIELDSYNC_SOAK_COUNT sets the count.
@Suite struct ConvergenceTests {
    static var count: Int {
        ProcessInfo.processInfo.environment["FIELDSYNC_SOAK_COUNT"].flatMap(Int.init) ?? 1_000
    }

    @Test func replicasConvergeAndNothingIsLostOrDoubledUnderFaults() async {
        await propertyCheck(count: Self.count, input: Gen.int(in: 0...Int.max)) { seed in
            let problems = try verify(seed: UInt64(seed), skewMs: 0)
            #expect(problems.isEmpty, "simulation seed \(seed): \(problems.joined(separator: "; "))")
        }
    }

    @Test func devicesWithClocksADayOffStillConvergeAndKeepTheirOwnOrder() async {
        await propertyCheck(count: max(Self.count / 5, 50), input: Gen.int(in: 0...Int.max)) { seed in
            let problems = try verify(seed: UInt64(seed), skewMs: 24 * 3_600_000)
            #expect(problems.isEmpty, "simulation seed \(seed): \(problems.joined(separator: "; "))")
        }
    }
}

/// Runs one schedule and returns every broken invariant (empty when all hold).
func verify(seed: UInt64, skewMs: Int64) throws -> [String] {
    var rng = SplitMix(seed: seed)
    let deviceCount = 3 + Int(rng.next() % 3)
    var sim = try Simulation(seed: seed, deviceCount: deviceCount, skewMs: skewMs, faults: .harsh)
    try sim.run(steps: 60 + Int(rng.next() % 60))
    try sim.quiesce()

    var problems: [String] = []
    let dispatcher = Principal(name: "wang", role: .dispatcher)
    // The server's whole state, read through the dispatcher's scope.
    var serverEvents: [Intent] = []
    var serverOrders: [String: WorkOrder] = [:]
    var cursor: Int64 = 0
    while true {
        let page = try sim.service.pull(as: dispatcher, cursor: cursor, limit: 500)
        for snapshot in page.orders {
            serverEvents += snapshot.events
            serverOrders[snapshot.id] = try sim.service.order(id: snapshot.id, as: dispatcher)
            if WorkOrder.fold(snapshot.events) != serverOrders[snapshot.id] {
                problems.append("server state of \(snapshot.id) is not the fold of its events")
            }
        }
        cursor = page.cursor
        if !page.hasMore { break }
    }
    let byOp = Dictionary(grouping: serverEvents, by: \.opId)
    if let doubled = byOp.first(where: { $0.value.count > 1 }) {
        problems.append("intent \(doubled.key) stored \(doubled.value.count) times")
    }
    let byDeviceSeq = Dictionary(grouping: serverEvents) { "\($0.deviceId)#\($0.deviceSeq)" }
    if let doubled = byDeviceSeq.first(where: { $0.value.count > 1 }) {
        problems.append("sequence \(doubled.key) stored twice")
    }

    for device in sim.devices {
        let outbox = try device.store.outbox()
        if outbox.contains(where: { $0.state == .pending }) {
            problems.append("\(device.user): \(outbox.filter { $0.state == .pending }.count) intents never got an outcome")
        }
        let refused = Set(outbox.filter { $0.state == .rejected }.map(\.intent.opId))
        for intent in device.recorded {
            let onServer = byOp[intent.opId]?.count ?? 0
            if refused.contains(intent.opId) {
                if onServer != 0 { problems.append("\(intent.opId) both refused and stored") }
            } else if onServer != 1 {
                problems.append("\(device.user) intent \(intent.deviceSeq) (\(intent.action.kind)) is on the server \(onServer) times")
            }
        }
        // The replica equals the server for its scope.
        let local = Dictionary(uniqueKeysWithValues: try device.store.orders().map { ($0.id, $0) })
        let scope = serverOrders.filter { device.role == .dispatcher || $0.value.assignee == device.user }
        if Set(local.keys) != Set(scope.keys) {
            problems.append("\(device.user) holds \(local.keys.sorted()) but its scope is \(scope.keys.sorted())")
        }
        for (id, order) in scope where local[id] != order {
            problems.append("\(device.user)'s copy of \(id) differs from the server's")
        }
        let principal = Principal(name: device.user, role: device.role)
        let serverSum = try sim.service.pull(as: principal, cursor: Int64.max / 2, limit: 1).checksum
        if serverSum != String(try device.store.confirmedChecksum()) {
            problems.append("\(device.user)'s checksum differs from the server's (\(serverSum ?? "none"))")
        }
        // One device's own events keep their order, whatever its clock said.
        let deviceId = try device.store.account()?.deviceId
        let own = serverEvents.filter { $0.deviceId == deviceId }
            .sorted { $0.hlc < $1.hlc }
        if own.map(\.deviceSeq) != own.map(\.deviceSeq).sorted() {
            problems.append("\(device.user)'s events are out of their device order")
        }
    }
    return problems
}

