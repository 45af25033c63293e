import FieldSyncCore
import Testing
@testable import FieldSyncServer

@Suite("query plans: a pull page and the conflict list seek their indexes")
struct QueryPlanTests {
    @Test(.disabled(if: testEngineIsPostgres, "SQLite's query planner"), arguments: [
        (technician: true, delta: true), (technician: false, delta: true),
        (technician: true, delta: false), (technician: false, delta: false),
    ])
    func eachShapeOfAPullPageSeeksItsIndexes(technician: Bool, delta: Bool) throws {
        // Given SQLite, which plans from the schema alone (the server never runs ANALYZE)
        let service = try makeService()
        // When a pull page's statement is planned
        let sql = SyncService.pageStatement(technician: technician, delta: delta)
        let steps = try service.database.read { db in
            try db.rows("EXPLAIN QUERY PLAN " + sql, named: [
                "scope": .text(technician ? "alice" : "*"), "cursor": .integer(5), "limit": .integer(501),
            ]).map { try $0["detail"] as String }
        }
        // Then every read of orders and events is a seek of an index that starts with the
        // scope and ends with the position: nothing scans the depot's history
        let reads = steps.filter { $0.hasPrefix("SEARCH") || $0.hasPrefix("SCAN") }
        #expect(!reads.contains { $0.hasPrefix("SCAN o ") || $0.hasPrefix("SCAN e ") || $0 == "SCAN o" || $0 == "SCAN e" }, "\(steps)")
        let expected: [String] = switch (technician, delta) {
        case (true, true): [
            "SEARCH o USING INDEX orders_tech_scope (assignee=? AND archived=? AND assigned_seq>?)",
            "SEARCH o USING INDEX orders_tech_changed (assignee=? AND archived=? AND version>?)",
            "SEARCH e USING COVERING INDEX events_order (order_id=? AND seq>?)"]
        case (false, true): [
            "SEARCH o USING INDEX orders_entered (archived=? AND entered_seq>?)",
            "SEARCH o USING INDEX orders_changed (archived=? AND version>?)",
            "SEARCH e USING COVERING INDEX events_order (order_id=? AND seq>?)"]
        case (true, false): ["SEARCH o USING INDEX orders_tech_changed (assignee=? AND archived=? AND version>?)"]
        case (false, false): ["SEARCH o USING INDEX orders_changed (archived=? AND version>?)"]
        }
        for read in expected {
            #expect(reads.contains(read), "\(read) in \(steps)")
        }
    }

    @Test(.disabled(if: testEngineIsPostgres, "SQLite's query planner"))
    func theOpenConflictsAreReadInListOrderFromTheirIndex() throws {
        // Given SQLite
        let service = try makeService()
        // When the dispatcher's list of open conflicts is planned
        let steps = try service.database.read { db in
            try db.rows("EXPLAIN QUERY PLAN " + SyncService.conflictsStatement(includeResolved: false))
                .map { try $0["detail"] as String }
        }
        // Then it reads the open conflicts' index in list order: neither every conflict
        // ever recorded nor a sort
        #expect(steps == ["SCAN c USING INDEX conflicts_unresolved"], "\(steps)")
    }

    @Test(.disabled(if: testEngineIsPostgres, "SQLite's query planner"), arguments: [true, false])
    func aBoundedPageReadsTheEventsOfItsOwnStretchOfTheLog(technician: Bool) throws {
        // Given SQLite
        let service = try makeService()
        // When a first sync's page (more orders joining after the cursor than fit) is planned
        let sql = SyncService.pageStatement(technician: technician, delta: true, bounded: true)
        let steps = try service.database.read { db in
            try db.rows("EXPLAIN QUERY PLAN " + sql, named: [
                "scope": .text(technician ? "alice" : "*"), "cursor": .integer(5), "bound": .integer(900),
                "limit": .integer(501),
            ]).map { try $0["detail"] as String }
        }
        // Then the held orders' new events are read from the log between the cursor and the
        // bound, each order by its key, not from the orders changed after the cursor (which
        // are every order joining later too)
        let whole = technician
            ? "SEARCH o USING INDEX orders_tech_scope (assignee=? AND archived=? AND assigned_seq>? AND assigned_seq<?)"
            : "SEARCH o USING INDEX orders_entered (archived=? AND entered_seq>? AND entered_seq<?)"
        for read in [
            whole, "SEARCH e USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)",
            "SEARCH o USING INDEX sqlite_autoindex_orders_1 (id=?)",
            "SEARCH r USING INDEX sqlite_autoindex_revocations_1 (technician=? AND seq>? AND seq<?)",
        ] {
            #expect(steps.contains(read), "\(read) in \(steps)")
        }
        #expect(!steps.contains { $0.contains("orders_changed") || $0.contains("orders_tech_changed") }, "\(steps)")
    }

    @Test("a bounded page is the page", arguments: [1, 2, 3, 4])
    func aBoundedPageIsThePage(seed: UInt64) throws {
        // Given a depot where orders join, change, move between crews and finish in random
        // order, so held orders change after later ones joined
        var rng = SeededRNG(state: seed)
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        var tablets = ["alice": TestDevice("tab-alice", alice), "bob": TestDevice("tab-bob", bob)]
        var ids: [String] = []
        var holder: [String: String] = [:]
        for step in 0..<60 {
            let roll = Int.random(in: 0..<10, using: &rng)
            if ids.isEmpty || roll < 4 {
                let id = "WO-\(step)"
                let crew = Bool.random(using: &rng) ? "alice" : "bob"
                desk.sync(try desk.push([
                    desk.intent(id, .create(fields: orderFields(urgency: Int.random(in: 1...3, using: &rng)))),
                    desk.intent(id, .assign(technician: crew)),
                ], to: service))
                ids.append(id)
                holder[id] = crew
            } else if roll < 7 {
                let id = ids.randomElement(using: &rng)!
                let crew = holder[id]!
                var tablet = tablets[crew]!
                tablet.sync(try tablet.push([tablet.intent(id, .append(ChildEntry(id: "L-\(step)", kind: .log, text: "step \(step)")))], to: service))
                tablets[crew] = tablet
            } else if roll < 9 {
                let id = ids.randomElement(using: &rng)!
                let crew = holder[id] == "alice" ? "bob" : "alice"
                desk.sync(try desk.push([desk.intent(id, .assign(technician: crew))], to: service))
                holder[id] = crew
            } else {
                let id = ids.randomElement(using: &rng)!
                desk.sync(try desk.push([desk.intent(id, .transition(to: .cancelled, note: nil))], to: service))
            }
        }
        let last = try service.database.read { db in try db.value(Int64.self, "SELECT max(seq) FROM events") } ?? 0
        // When every page, from every cursor, for the desk and each crew, with and without
        // deltas, is read bounded and unbounded
        var bounded = 0
        for (scope, technician) in [("*", false), ("alice", true), ("bob", true)] {
            for delta in [true, false] {
                for limit in [1, 2, 5] {
                    for cursor in 0...last {
                        let named: [String: SQLValue] = ["scope": .text(scope), "cursor": .integer(cursor), "limit": .integer(Int64(limit + 1))]
                        try service.database.read { db in
                            let plain = try db.rows(SyncService.pageStatement(technician: technician, delta: delta), named: named)
                                .map { "\(try $0["kind"] as String) \(try $0["id"] as String) \(try $0["seq"] as Int64)" }
                            let bound = try db.rows(
                                SyncService.wholeOrderBound(technician: technician, delta: delta),
                                named: ["scope": .text(scope), "cursor": .integer(cursor), "offset": .integer(Int64(limit))]
                            ).first.map { try $0["seq"] as Int64 }
                            guard let bound else { return }
                            bounded += 1
                            var withBound = named
                            withBound["bound"] = .integer(bound)
                            let windowed = try db.rows(SyncService.pageStatement(technician: technician, delta: delta, bounded: true), named: withBound)
                                .map { "\(try $0["kind"] as String) \(try $0["id"] as String) \(try $0["seq"] as Int64)" }
                            // Then the bounded page is the page
                            #expect(windowed == plain, "seed \(seed), \(scope), delta \(delta), limit \(limit), cursor \(cursor), bound \(bound)")
                        }
                    }
                }
            }
        }
        #expect(bounded > 100)
    }
}
