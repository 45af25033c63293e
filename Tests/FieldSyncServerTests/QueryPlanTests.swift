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
}
