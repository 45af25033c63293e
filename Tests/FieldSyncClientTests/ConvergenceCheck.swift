import FieldSyncClient
import FieldSyncCore
@testable import FieldSyncServer
import FieldSyncStore
import Foundation
import GRDB

/// The result of one schedule: every broken invariant (empty when all hold) and what the
/// schedule exercised.
struct ScheduleResult: Sendable {
    var scenario: String
    var problems: [String]
    var stats: SimStats
}

/// Runs one schedule drawn from `seed` and checks every invariant.
///
/// - Parameter http: force real HTTP (true) or in-process (false); nil lets the seed pick
///   (1 schedule in 10 goes over HTTP).
func verify(seed: UInt64, skewMs: Int64, http: Bool? = nil, postgresURL: String? = nil) -> ScheduleResult {
    let start = DispatchTime.now().uptimeNanoseconds
    var rng = SplitMix(seed: seed)
    var scenario = Scenario.random(&rng, skewMs: skewMs, http: http)
    if let postgresURL {
        // Two instances on one PostgreSQL behind a load balancer without stickiness; one
        // restarts now and then while the other keeps serving.
        scenario.postgresURL = postgresURL
        scenario.instances = 2
        scenario.fileServer = false
        scenario.restarts = true
    }
    var sim: Simulation
    do {
        sim = try Simulation(seed: seed, scenario: scenario)
    } catch {
        return ScheduleResult(scenario: "\(scenario)", problems: ["the simulation did not start: \(error)"], stats: SimStats())
    }
    defer { sim.cleanUp() }
    var problems: [String] = []
    do {
        try sim.run(steps: 60 + rng.pick(60))
        try sim.quiesce()
        problems = try check(sim)
    } catch {
        problems = ["\(error)"]
    }
    var stats = sim.stats
    stats.tooLarge = sim.devices.reduce(0) { $0 + $1.transport.tooLarge }
    stats.slowestScheduleMs = Int((DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
    return ScheduleResult(scenario: "\(scenario)", problems: problems, stats: stats)
}

/// Every invariant of a quiesced simulation; empty when all hold.
func check(_ sim: Simulation) throws -> [String] {
    var problems: [String] = []
    let dispatcher = Principal(name: "wang", role: .dispatcher)
    // The server's whole state, archived orders included, read from its database.
    var serverEvents: [Intent] = []
    var eventsByOrder: [String: [Intent]] = [:]
    var serverOrders: [String: WorkOrder] = [:]
    let (bodies, archived) = try sim.service.database.read { db in
        (try db.values(String.self, "SELECT body FROM events ORDER BY seq"),
         Set(try db.values(String.self, "SELECT id FROM orders WHERE archived = 1")))
    }
    for body in bodies {
        let event = try JSONDecoder().decode(Intent.self, from: Data(body.utf8))
        serverEvents.append(event)
        eventsByOrder[event.orderId, default: []].append(event)
    }
    for (id, events) in eventsByOrder {
        guard let order = try? sim.service.order(id: id, as: dispatcher) else { continue }  // refused creates
        serverOrders[id] = order
        if WorkOrder.fold(events) != order {
            problems.append("server state of \(id) is not the fold of its events")
        }
    }
    // Archived orders are in no device's scope (ConvergenceTests checks that archiving
    // happened at all).
    let inScope = serverOrders.filter { !archived.contains($0.key) }
    let byOp = Dictionary(grouping: serverEvents, by: \.opId)
    if let doubled = byOp.first(where: { $0.value.count > 1 }) {
        problems.append("intent \(doubled.key) stored \(doubled.value.count) times")
    }
    let byDeviceSeq = Dictionary(grouping: serverEvents) { "\($0.deviceId)#\($0.deviceSeq)" }
    if let doubled = byDeviceSeq.first(where: { $0.value.count > 1 }) {
        problems.append("sequence \(doubled.key) stored twice")
    }

    problems += try conflictTableProblems(sim, eventsByOrder: eventsByOrder, as: dispatcher)
    problems += try collisionProblems(sim, eventsByOrder: eventsByOrder)

    for device in sim.devices {
        problems += device.transport.problems
        // A repair only mends what was broken behind the engine's back.
        if device.repairs > 0 && device.corruptions == 0 {
            problems.append("\(device.name) repaired its copy \(device.repairs) times, though nothing corrupted it")
        }
        let outbox = try device.store.outbox()
        let pending = outbox.filter { $0.state == .pending }
        if !pending.isEmpty {
            problems.append("\(device.name): \(pending.count) intents never got an outcome")
        }
        let refused = Set(outbox.filter { $0.state == .rejected }.map(\.intent.opId))
        for intent in device.recorded {
            let onServer = byOp[intent.opId]?.count ?? 0
            let what = "\(device.name) intent \(intent.opId.prefix(8)) (\(intent.action.kind) on \(intent.orderId))"
            if let code = device.replaced[intent.opId] {
                // refused, then reopened under a new id by `recreate`
                if onServer != 0 { problems.append("\(what) was refused (\(code)) and recreated, but is on the server") }
            } else if refused.contains(intent.opId) {
                if onServer != 0 { problems.append("\(what) is both refused and stored") }
            } else if device.mayBeLost.contains(intent.opId) {
                // recorded after the copy a restore went back to: lost unless it got through
                if onServer > 1 { problems.append("\(what) is on the server \(onServer) times") }
            } else if onServer != 1 {
                problems.append("\(what) is on the server \(onServer) times and not refused")
            }
        }
        // The replica equals the server for its scope.
        let local = Dictionary(uniqueKeysWithValues: try device.store.orders().map { ($0.id, $0) })
        let scope = inScope.filter { device.role == .dispatcher || $0.value.assignee == device.user }
        if Set(local.keys) != Set(scope.keys) {
            problems.append("\(device.name) holds \(local.keys.sorted()) but its scope is \(scope.keys.sorted())")
        }
        for (id, order) in scope where local[id] != order {
            problems.append("\(device.name)'s copy of \(id) differs from the server's")
        }
        let principal = Principal(name: device.user, role: device.role)
        let serverSum = try sim.service.pull(as: principal, cursor: Int64.max / 2, limit: 1).checksum
        if serverSum != String(try device.store.confirmedChecksum()) {
            problems.append("\(device.name)'s checksum differs from the server's (\(serverSum ?? "none"))")
        }
        // One device's own events keep their order, whatever its clock said.
        let deviceId = try device.store.account()?.deviceId
        let own = serverEvents.filter { $0.deviceId == deviceId }.sorted { $0.hlc < $1.hlc }
        if own.map(\.deviceSeq) != own.map(\.deviceSeq).sorted() {
            problems.append("\(device.name)'s events are out of their device order")
        }
    }
    return problems
}

/// The server's conflict table holds, for every order, exactly the conflicts the fold of
/// its events finds: none left over from a superseded fold, none missing, same content.
func conflictTableProblems(
    _ sim: Simulation, eventsByOrder: [String: [Intent]], as dispatcher: Principal
) throws -> [String] {
    var problems: [String] = []
    let rows = try sim.service.conflicts(as: dispatcher, includeResolved: true)
    let rowsByOrder = Dictionary(grouping: rows.map(\.conflict), by: \.orderId)
    for id in Set(rowsByOrder.keys).subtracting(eventsByOrder.keys) {
        problems.append("the conflict table holds conflicts of \(id), an order the server does not have")
    }
    for (id, events) in eventsByOrder {
        let expected = WorkOrder.fold(events)?.conflicts ?? []
        let held = rowsByOrder[id] ?? []
        let heldIds = held.map(\.id), expectedIds = expected.map(\.id)
        if heldIds.count != Set(heldIds).count {
            problems.append("the conflict table lists a conflict of \(id) twice")
        }
        if Set(heldIds) != Set(expectedIds) {
            let extra = Set(heldIds).subtracting(expectedIds).sorted()
            let missing = Set(expectedIds).subtracting(heldIds).sorted()
            problems.append("conflict rows of \(id) differ from the fold's conflicts: extra \(extra), missing \(missing)")
        } else if Set(held) != Set(expected) {
            problems.append("conflict rows of \(id) have the fold's ids but other content")
        }
    }
    return problems
}

/// Two desks opening the same id: the later create is refused `order_exists`, what was
/// built on it `order_id_taken`, and none of it ever joins the other desk's order.
func collisionProblems(_ sim: Simulation, eventsByOrder: [String: [Intent]]) throws -> [String] {
    var problems: [String] = []
    // Every create refused on any device, from the outboxes and from what recreate took out.
    var refusedCreates: [String: String] = [:]  // op id → order id
    var refusedIntents: [(device: String, intent: Intent, code: String)] = []
    for device in sim.devices {
        let recorded = Dictionary(device.recorded.map { ($0.opId, $0) }, uniquingKeysWith: { a, _ in a })
        var refused = try device.store.outbox().filter { $0.state == .rejected }
            .map { (device: device.name, intent: $0.intent, code: $0.rejection?.code.rawValue ?? "?") }
        refused += device.replaced.compactMap { op, code in recorded[op].map { (device: device.name, intent: $0, code: code) } }
        for entry in refused {
            guard case .create = entry.intent.action else { continue }
            refusedCreates[entry.intent.opId] = entry.intent.orderId
            if entry.code != Rejection.Code.orderExists.rawValue {
                problems.append("\(entry.device)'s create of \(entry.intent.orderId) was refused \(entry.code), not order_exists")
            }
            // Generated ids are unique by construction: only a store put back from an
            // older copy (whose id counter is older too) can hand one out again.
            if !entry.intent.orderId.hasPrefix(Simulation.poolPrefix) && !device.transport.restored {
                problems.append("\(entry.device)'s create under the generated id \(entry.intent.orderId) was refused: another order has that id")
            }
        }
        refusedIntents += refused
    }
    for entry in refusedIntents {
        if let base = entry.intent.createOp, refusedCreates[base] != nil, entry.code != Rejection.Code.orderIdTaken.rawValue {
            problems.append("\(entry.device)'s \(entry.intent.action.kind) on \(entry.intent.orderId), built on a refused create, was refused \(entry.code), not order_id_taken")
        }
    }
    for (op, orderId) in refusedCreates {
        let events = eventsByOrder[orderId] ?? []
        if !events.contains(where: { if case .create = $0.action { $0.opId != op } else { false } }) {
            problems.append("a create of \(orderId) was refused order_exists, but no other create of it is on the server")
        }
    }
    for (id, events) in eventsByOrder {
        let creates = events.filter { if case .create = $0.action { true } else { false } }
        guard creates.count == 1, let create = creates.first else {
            problems.append("\(id) has \(creates.count) create events on the server")
            continue
        }
        for event in events {
            if let base = event.createOp, refusedCreates[base] != nil {
                problems.append("\(event.action.kind) on \(id), built on a refused create, is on the server")
            } else if let base = event.createOp, base != create.opId {
                problems.append("\(event.action.kind) on \(id) is built on create \(base.prefix(8)), not the order's own")
            }
        }
    }
    return problems
}
