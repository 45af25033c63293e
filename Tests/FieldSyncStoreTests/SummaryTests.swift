import FieldSyncCore
import Foundation
import GRDB
import Testing
@testable import FieldSyncStore

/// SplitMix64: a generator replayable from its seed (printed when a check fails).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// The server side of the random runs: each order's events and version, and what changed
/// since the device last pulled.
struct ServerModel {
    var orders: [String: (version: Int64, events: [Intent])] = [:]
    var dirty: Set<String> = []
    var clock: Int64 = 10_000
    var seq: Int64 = 0
    var cursor: Int64 = 0

    mutating func stamp(_ device: String) -> HLC {
        clock += 1_000
        return HLC(physical: clock, device: device)
    }

    /// A dispatcher's change on one of two desks (two desks editing one field without
    /// seeing each other make conflicts).
    mutating func edit<G: RandomNumberGenerator>(_ id: String, technician: String, using rng: inout G) {
        seq += 1
        let device = Bool.random(using: &rng) ? "dispatch" : "desk2"
        let hlc = stamp(device)
        let action: Action
        if orders[id] == nil {
            action = .create(fields: [
                .kind: "repair", .urgency: String(Int.random(in: 1...3, using: &rng)),
                .customerName: ["市第一医院", "张三", "李四"].randomElement(using: &rng)!,
                .address: ["解放路 1 号", "人民路 2 号"].randomElement(using: &rng)!,
                .responseDeadline: String(clock + Int64.random(in: -3_600_000...14_400_000, using: &rng)),
            ])
        } else {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: action = .assign(technician: technician)
            case 1: action = .setField(field: .customerTier, value: CustomerTier.allCases.randomElement(using: &rng)!.rawValue, base: nil)
            case 2: action = .setField(field: .specialNeeds, value: Bool.random(using: &rng) ? "轮椅" : nil, base: nil)
            case 3: action = .setField(field: .urgency, value: String(Int.random(in: 1...3, using: &rng)), base: nil)
            case 4: action = .setField(field: .address, value: "新地址 \(seq) 号", base: nil)
            default: action = .setField(field: .customerName, value: "客户 \(seq)", base: nil)
            }
        }
        let createOp = orders[id].flatMap { $0.events.first?.opId }
        let intent = Intent(
            opId: "s-\(seq)", deviceId: device, deviceSeq: seq, actor: device == "dispatch" ? "wang" : "zhou",
            role: .dispatcher, hlc: hlc, occurredAt: hlc.physical, orderId: id, createOp: createOp, action: action)
        store(intent)
    }

    mutating func store(_ intent: Intent) {
        var entry = orders[intent.orderId] ?? (version: 0, events: [])
        entry.version += 1
        entry.events.append(intent)
        orders[intent.orderId] = entry
        dirty.insert(intent.orderId)
    }

    mutating func page(revoking revoked: [String]) -> PullResponse {
        let ids = dirty.sorted()
        dirty = []
        cursor += 1
        for id in revoked { orders[id] = nil }
        return PullResponse(
            orders: ids.compactMap { id in orders[id].map { OrderSnapshot(id: id, version: $0.version, events: $0.events) } },
            revoked: revoked, cursor: cursor, hasMore: false, checksum: nil,
            serverHLC: HLC(physical: clock, device: "server"))
    }
}

@Suite struct SummaryTests {
    /// Everything the summaries and the stored checksum promise, checked against a full
    /// decode and a full sum.
    static func checkInvariants(_ store: ClientDatabase, reported: Set<String>, seed: UInt64, step: Int) throws {
        let context = "seed \(seed), step \(step)"
        let full = try store.writer.read { db in try ClientDatabase.fullChecksum(db) }
        #expect(try store.writer.read { db in try ClientDatabase.storedChecksum(db) } == full, "checksum drifted: \(context)")
        #expect(try store.confirmedChecksum() == full, "checksum differs: \(context)")
        let orders = try store.orders()
        #expect(try store.jobSummaries(includeFinished: true) == orders.map(JobSummary.init(order:)),
                "summaries differ from the JSON: \(context)")
        #expect(try store.jobSummaries(includeFinished: false) == orders.filter { !$0.status.isFinished }.map(JobSummary.init(order:)),
                "open summaries differ: \(context)")
        for order in orders {
            for now in [order.createdAt, order.createdAt + 3_600_000, order.createdAt + 40_000_000] {
                #expect(JobSummary(order: order).standing(now: now) == DeadlinePolicy.standard.standing(of: order, now: now),
                        "standing differs for \(order.id): \(context)")
            }
        }
        let shown = Set(orders.flatMap(\.conflicts).map(\.id))
        let (rows, unseen) = try store.writer.read { db in
            (Set(try String.fetchAll(db, sql: "SELECT id FROM view_conflict")),
             Set(try String.fetchAll(db, sql: "SELECT id FROM view_conflict WHERE seen = 0")))
        }
        #expect(rows == shown, "view_conflict differs from the views' conflicts: \(context)")
        #expect(unseen == shown.subtracting(reported), "unseen conflicts wrong: \(context)")
    }

    @Test(arguments: 0..<12)
    func summariesAndChecksumFollowRandomRecordPullPush(seed: UInt64) throws {
        // Given a technician's store and a server that dispatchers keep changing
        var rng = SeededGenerator(state: seed)
        let store = try ClientDatabase.inMemory()
        _ = try store.saveAccount(server: "http://127.0.0.1:9", user: "li", role: .technician, token: "t")
        var server = ServerModel()
        var reported: Set<String> = []
        let ids = (0..<6).map { "WO-\($0)" }
        for step in 0..<80 {
            // When a random step happens
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<30:
                server.edit(ids.randomElement(using: &rng)!, technician: "li", using: &rng)
            case 30..<50:
                let held = try store.writer.read { db in try String.fetchAll(db, sql: "SELECT id FROM confirmed_order") }
                let revoke = Int.random(in: 0..<6, using: &rng) == 0 ? held.randomElement(using: &rng).map { [$0] } ?? [] : []
                var page = server.page(revoking: revoke)
                // Pages come folded by the feed's thread in a sync, and unfolded from other callers.
                if Bool.random(using: &rng) { page.foldWholeOrders() }
                try store.applyPull(page, now: server.clock)
            case 50..<70:
                guard let order = try store.orders().randomElement(using: &rng) else { break }
                let action: Action = Bool.random(using: &rng)
                    ? .transition(to: [.accepted, .enRoute, .onSite, .completed].randomElement(using: &rng)!, note: nil)
                    : .append(ChildEntry(id: "l\(step)", kind: .log, text: "记录 \(step)"))
                _ = try? store.record(orderId: order.id, now: server.clock + 500) { _ in action }
            case 70..<85:
                let batch = try store.pendingBatch(limit: 4)
                guard !batch.isEmpty else { break }
                var outcomes: [PushOutcome] = []
                for intent in batch {
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: outcomes.append(PushOutcome(deviceSeq: intent.deviceSeq, opId: intent.opId, result: .rejected,
                                                        rejection: Rejection(.signed, "frozen")))
                    case 1: outcomes.append(PushOutcome(deviceSeq: intent.deviceSeq, opId: intent.opId, result: .deferred))
                    default:
                        outcomes.append(PushOutcome(deviceSeq: intent.deviceSeq, opId: intent.opId, result: .applied, stored: intent))
                        server.store(intent)
                    }
                }
                try store.applyPush(PushResponse(outcomes: outcomes, nextSeq: batch.last!.deviceSeq + 1,
                                                 serverHLC: HLC(physical: server.clock, device: "server")), now: server.clock)
            case 85..<90:
                let held = try store.writer.read { db in try String.fetchAll(db, sql: "SELECT id FROM confirmed_order") }
                let keep = Set(held.filter { _ in Bool.random(using: &rng) })
                try store.dropConfirmed(notIn: keep)
                for id in held where !keep.contains(id) { server.orders[id] = nil }
            case 90..<93:
                // A different identity on a store with nothing unsent starts a fresh replica.
                guard try store.pendingCount() == 0 else { break }
                let user = try store.account()?.user == "li" ? "li2" : "li"
                _ = try store.saveAccount(server: "http://127.0.0.1:9", user: user, role: .technician, token: "t")
                _ = try store.saveAccount(server: "http://127.0.0.1:9", user: "li", role: .technician, token: "t")
                reported = []
                server.dirty = Set(server.orders.keys)
            default:
                let fresh = try store.takeNewConflicts()
                let freshIds = fresh.map(\.id)
                // Then no conflict is reported twice, and they come oldest first
                #expect(reported.isDisjoint(with: freshIds), "reported twice: seed \(seed), step \(step)")
                #expect(fresh.map(\.at) == fresh.map(\.at).sorted())
                reported.formUnion(freshIds)
            }
            // Then summaries, conflicts and checksum agree with a full decode and sum
            try Self.checkInvariants(store, reported: reported, seed: seed, step: step)
        }
    }

    @Test func aConflictIsReportedExactlyOnceEvenWhenItsOrderIsRefreshed() throws {
        // Given an order that two desks edited without seeing each other
        let (store, _) = try makeStore()
        var server = ServerModel()
        func dispatch(_ seq: Int64, _ device: String, _ action: Action) {
            let hlc = server.stamp(device)
            server.store(Intent(
                opId: "e-\(seq)", deviceId: device, deviceSeq: seq, actor: device, role: .dispatcher, hlc: hlc,
                occurredAt: hlc.physical, orderId: "WO-1", createOp: seq == 1 ? nil : "e-1", action: action))
        }
        dispatch(1, "dispatch", .create(fields: [.kind: "repair", .urgency: "2", .customerName: "张三", .address: "人民路 2 号"]))
        dispatch(2, "dispatch", .assign(technician: "li"))
        dispatch(100, "dispatch", .setField(field: .address, value: "地址 100", base: nil))
        dispatch(101, "desk2", .setField(field: .address, value: "地址 101", base: nil))
        try store.applyPull(server.page(revoking: []), now: server.clock)
        // When conflicts are taken twice, with the order refreshed by a pull and a record between
        let first = try store.takeNewConflicts()
        dispatch(102, "dispatch", .setField(field: .urgency, value: "1", base: nil))
        try store.applyPull(server.page(revoking: []), now: server.clock)
        try store.record(orderId: "WO-1", now: server.clock) { _ in .append(ChildEntry(id: "l1", kind: .log, text: "到达")) }
        let second = try store.takeNewConflicts()
        // Then the conflict came once, with its order and rule
        #expect(first.count == 1)
        #expect(first.first?.orderId == "WO-1" && first.first?.rule == .concurrentEdit && first.first?.field == "address")
        #expect(second.isEmpty)
        // And when a second conflict appears, only it is reported
        dispatch(200, "dispatch", .setField(field: .customerName, value: "客户 200", base: nil))
        dispatch(201, "desk2", .setField(field: .customerName, value: "客户 201", base: nil))
        try store.applyPull(server.page(revoking: []), now: server.clock)
        let third = try store.takeNewConflicts()
        #expect(third.map(\.field) == ["customer_name"])
        #expect(try store.takeNewConflicts().isEmpty)
    }

    @Test(arguments: [false, true])
    func aWholeOrderWhoseFoldShowsNoConflictTakesItsConflictsOffTheView(folded: Bool) throws {
        // Given a store whose view of WO-1 shows a conflict (two desks set its address)
        let (store, _) = try makeStore()
        var server = ServerModel()
        var events: [Intent] = []
        func dispatch(_ seq: Int64, _ device: String, _ action: Action) {
            let hlc = server.stamp(device)
            let intent = Intent(
                opId: "e-\(seq)", deviceId: device, deviceSeq: seq, actor: device, role: .dispatcher, hlc: hlc,
                occurredAt: hlc.physical, orderId: "WO-1", createOp: seq == 1 ? nil : "e-1", action: action)
            server.store(intent)
            events.append(intent)
        }
        dispatch(1, "dispatch", .create(fields: [.kind: "repair", .customerName: "张三", .address: "人民路 2 号"]))
        dispatch(2, "dispatch", .assign(technician: "li"))
        dispatch(3, "dispatch", .setField(field: .address, value: "地址 3", base: nil))
        dispatch(4, "desk2", .setField(field: .address, value: "地址 4", base: nil))
        try store.applyPull(server.page(revoking: []), now: server.clock)
        let conflictRows = { try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM view_conflict") } }
        #expect(try conflictRows() == 1)
        // When a page brings WO-1 whole with a history whose fold shows no conflict
        var page = PullResponse(
            orders: [OrderSnapshot(id: "WO-1", version: 9, events: Array(events.prefix(3)))], revoked: [],
            cursor: 2, hasMore: false, checksum: nil, serverHLC: HLC(physical: server.clock, device: "server"))
        if folded { page.foldWholeOrders() }
        try store.applyPull(page, now: server.clock)
        // Then the view shows none, and view_conflict holds none
        #expect(try store.orders().first?.conflicts.isEmpty == true)
        #expect(try conflictRows() == 0)
    }

    @Test func orderIdsResolveByKeyThenByABoundedSearch() throws {
        // Given WO-1 and WO-10 … WO-22
        let (store, _) = try makeStore()
        for n in [1] + Array(10...22) {
            try store.applyPull(assignedOrderPage(id: "WO-\(n)", technician: "li"), now: 2_000)
        }
        // Then an exact id wins even when it is part of other ids
        #expect(try store.resolveOrderId("WO-1") == "WO-1")
        // And a unique part resolves case-insensitively
        #expect(try store.resolveOrderId("wo-22") == "WO-22")
        #expect(try store.resolveOrderId("21") == "WO-21")
        // And an ambiguous part lists at most ten candidates, in order, and says there are more
        #expect(throws: StoreError.ambiguousOrder("2", candidates: ["WO-12", "WO-20", "WO-21", "WO-22"])) {
            try store.resolveOrderId("2")
        }
        let many = ["WO-1", "WO-10", "WO-11", "WO-12", "WO-13", "WO-14", "WO-15", "WO-16", "WO-17", "WO-18", "…"]
        #expect(throws: StoreError.ambiguousOrder("wo-1", candidates: many)) { try store.resolveOrderId("wo-1") }
        // And nothing, or an empty text, matches no order
        #expect(throws: StoreError.unknownOrder("zz")) { try store.resolveOrderId("zz") }
        #expect(throws: StoreError.unknownOrder("")) { try store.resolveOrderId("") }
    }

    @Test func jobSummariesListOpenOrdersMostUrgentFirstWithTheirFlags() throws {
        // Given three orders: a routine one, an emergency for a key customer, a finished one
        let store = try ClientDatabase.inMemory()
        _ = try store.saveAccount(server: "http://127.0.0.1:9", user: "li", role: .technician, token: "t")
        func create(_ id: String, _ fields: [OrderField: String], at t: Int64) -> Intent {
            Intent(opId: "c-\(id)", deviceId: "dispatch", deviceSeq: t, actor: "wang", role: .dispatcher,
                   hlc: HLC(physical: t, device: "dispatch"), occurredAt: t, orderId: id, action: .create(fields: fields))
        }
        let base: [OrderField: String] = [.kind: "repair", .customerName: "张三", .address: "人民路 2 号"]
        let a = create("WO-A", base.merging([.urgency: "3"]) { $1 }, at: 1_000)
        let b = create("WO-B", base.merging([.urgency: "1", .customerTier: "vip", .responseDeadline: "7201000"]) { $1 }, at: 1_000)
        let c = create("WO-C", base.merging([.urgency: "1"]) { $1 }, at: 1_000)
        let cancel = Intent(opId: "x-C", deviceId: "dispatch", deviceSeq: 9, actor: "wang", role: .dispatcher,
                            hlc: HLC(physical: 2_000, device: "dispatch"), occurredAt: 2_000, orderId: "WO-C",
                            createOp: "c-WO-C", action: .transition(to: .cancelled, note: nil))
        try store.applyPull(PullResponse(
            orders: [OrderSnapshot(id: "WO-A", version: 1, events: [a]), OrderSnapshot(id: "WO-B", version: 1, events: [b]),
                     OrderSnapshot(id: "WO-C", version: 2, events: [c, cancel])],
            revoked: [], cursor: 3, hasMore: false, checksum: nil, serverHLC: HLC(physical: 2_000, device: "server")), now: 2_000)
        // When the open jobs are listed
        let jobs = try store.jobSummaries(includeFinished: false)
        // Then the emergency comes first, flagged, with its deadline standing; the cancelled one is left out
        #expect(jobs.map(\.id) == ["WO-B", "WO-A"])
        #expect(jobs[0].needsCare && !jobs[1].needsCare)
        #expect(jobs[0].standing(now: 1_000 + 60 * 60_000) == .onTime(minutesLeft: 60))
        #expect(try store.jobSummaries(includeFinished: true).map(\.id) == ["WO-B", "WO-C", "WO-A"])
        // and a limit reads the most urgent ones only, while the count says how many there are
        #expect(try store.jobSummaries(includeFinished: true, limit: 2).map(\.id) == ["WO-B", "WO-C"])
        #expect(try store.jobSummaries(includeFinished: false, limit: 1).map(\.id) == ["WO-B"])
        #expect(try store.jobCount(includeFinished: false) == 2)
        #expect(try store.jobCount(includeFinished: true) == 3)
    }
}
