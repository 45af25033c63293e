import FieldSyncCore
import Testing
@testable import FieldSyncServer

/// A random depot of orders in conflict: crews on site when the desk cancels or moves
/// their order, and crews that worked offline on an order the desk had already moved to
/// the other crew (who then lost or won a conflict on an order no longer theirs). Some
/// conflicts are reviewed.
private func conflictDepot(seed: UInt64, orders count: Int) throws -> SyncService {
    var rng = SeededRNG(state: seed)
    let service = try makeService()
    let crews = [alice, bob]
    for n in 0..<count {
        let id = "WO-C-\(n)"
        var desk = TestDevice("disp-\(n)", dispatcher)
        let first = crews.randomElement(using: &rng)!
        let other = first.name == alice.name ? bob : alice
        desk.sync(try desk.push([
            desk.intent(id, .create(fields: orderFields())), desk.intent(id, .assign(technician: first.name)),
        ], to: service))
        var tablet = TestDevice("tab-\(first.name)-\(n)", first)
        let work = [
            tablet.intent(id, .transition(to: .accepted, note: nil)),
            tablet.intent(id, .transition(to: .onSite, note: nil)),
        ]
        switch Int.random(in: 0..<4, using: &rng) {
        case 0:
            // The desk moves the order while the first crew, offline, starts on it.
            desk.sync(try desk.push([desk.intent(id, .assign(technician: other.name))], to: service))
            _ = try tablet.push(work, to: service)
        case 1:
            // The desk cancels with the crew on site.
            _ = try tablet.push(work, to: service)
            desk.sync(try desk.push([desk.intent(id, .transition(to: .cancelled, note: nil), at: testNow + minute)], to: service))
        case 2:
            // The desk moves the order with the crew on site.
            _ = try tablet.push(work, to: service)
            desk.sync(try desk.push([desk.intent(id, .assign(technician: other.name), at: testNow + minute)], to: service))
        default:
            _ = try tablet.push(work, to: service)
        }
    }
    for record in try service.conflicts(as: dispatcher, includeResolved: false) where Bool.random(using: &rng) {
        _ = try service.resolveConflict(id: record.conflict.id, resolution: "已电话确认", as: dispatcher)
    }
    return service
}

@Suite("conflict list: a technician's conflicts, read by index")
struct ConflictListTests {
    /// The technician's conflicts as the rule says, from the dispatcher's whole list: on
    /// orders assigned to him, or where he won or lost.
    private func oracle(_ service: SyncService, _ technician: Principal, includeResolved: Bool) throws -> [String] {
        try service.conflicts(as: dispatcher, includeResolved: includeResolved).filter { record in
            let conflict = record.conflict
            return try service.order(id: conflict.orderId, as: dispatcher).assignee == technician.name
                || conflict.winner.actor == technician.name || conflict.loser.actor == technician.name
        }.map(\.conflict.id)
    }

    @Test("each crew's list is the rule's, open and all", arguments: [1, 2, 3, 4] as [UInt64])
    func eachCrewsListIsTheRules(seed: UInt64) throws {
        // Given a random depot of conflicts
        let service = try conflictDepot(seed: seed, orders: 24)
        for technician in [alice, bob] {
            for includeResolved in [false, true] {
                // When the crew lists its conflicts / Then they are the oracle's, in order
                let listed = try service.conflicts(as: technician, includeResolved: includeResolved).map(\.conflict.id)
                #expect(listed == (try oracle(service, technician, includeResolved: includeResolved)),
                        "seed \(seed), \(technician.name), all=\(includeResolved)")
            }
        }
    }

    @Test("the depots hold conflicts a crew sees only as their winner or loser")
    func theDepotsCoverConflictsOnOrdersNoLongerTheCrews() throws {
        var sideOnly = 0, assignedOnly = 0, reviewed = 0
        for seed in [1, 2, 3, 4] as [UInt64] {
            let service = try conflictDepot(seed: seed, orders: 24)
            for record in try service.conflicts(as: dispatcher, includeResolved: true) {
                let assignee = try service.order(id: record.conflict.orderId, as: dispatcher).assignee
                let sides = [record.conflict.winner.actor, record.conflict.loser.actor]
                if let assignee, !sides.contains(assignee) { assignedOnly += 1 }
                if sides.contains(where: { [alice.name, bob.name].contains($0) && $0 != assignee }) { sideOnly += 1 }
                if record.resolvedAt != nil { reviewed += 1 }
            }
        }
        #expect(sideOnly > 0 && assignedOnly > 0 && reviewed > 0, "\(sideOnly) \(assignedOnly) \(reviewed)")
    }

    @Test("pages, newest first, put back together are the whole list", arguments: [1, 2, 5, 1000])
    func pagesPutTogetherAreTheWholeList(limit: Int) throws {
        // Given a random depot of conflicts, some reviewed
        let service = try conflictDepot(seed: 7, orders: 24)
        for principal in [dispatcher, alice, bob] {
            for includeResolved in [false, true] {
                // When the list is read a page at a time, each from where the last ended
                var pages: [[String]] = []
                var before: String?
                repeat {
                    let page = try service.conflicts(
                        as: principal, includeResolved: includeResolved, page: ConflictPage(limit: limit, before: before))
                    #expect(page.count <= limit)
                    pages.append(page.map(\.conflict.id))
                    before = page.first?.conflict.id
                } while pages.last?.count == limit && pages.count < 500
                // Then the pages, each oldest first, newest page first, make the whole list
                let whole = try service.conflicts(as: principal, includeResolved: includeResolved).map(\.conflict.id)
                #expect(pages.reversed().flatMap { $0 } == whole, "\(principal.name), all=\(includeResolved), limit \(limit)")
                #expect(!whole.isEmpty)
            }
        }
    }

    @Test func aPageBeforeAConflictThatDoesNotExistIsRefusedWithTheFix() throws {
        let service = try makeService()
        #expect {
            _ = try service.conflicts(as: dispatcher, includeResolved: true, page: ConflictPage(limit: 10, before: "cf-none"))
        } throws: { error in
            guard let error = error as? ServiceError else { return false }
            return error.status == 404 && error.body.error == "unknown_conflict" && error.body.message.contains("take an id the list showed")
        }
        #expect(ConflictPage(limit: 0).limit == 1 && ConflictPage(limit: 5_000).limit == ConflictPage.maxLimit)
    }

    @Test(.disabled(if: testEngineIsPostgres, "SQLite's query planner"), arguments: [false, true])
    func aPageOfTheDispatchersListReadsItsIndexBackwards(includeResolved: Bool) throws {
        let service = try makeService()
        for before in [false, true] {
            let sql = SyncService.pagedConflictsStatement(technician: false, includeResolved: includeResolved, before: before)
            let steps = try service.database.read { db in
                try db.rows("EXPLAIN QUERY PLAN " + sql, named: ["before_at": .integer(5), "before_id": .text("x"), "limit": .integer(51)])
                    .map { try $0["detail"] as String }
            }
            // Then a page reads its own rows from the list-order index, with no sort
            let index = includeResolved ? "conflicts_time" : "conflicts_unresolved"
            #expect(steps.count == 1 && steps[0].hasPrefix("S") && steps[0].contains("USING INDEX \(index)"), "\(steps)")
            #expect(!steps.contains { $0.contains("TEMP B-TREE") }, "\(steps)")
        }
    }

    @Test(.disabled(if: testEngineIsPostgres, "SQLite's query planner"), arguments: [false, true])
    func aCrewsListSeeksItsIndexes(includeResolved: Bool) throws {
        // Given SQLite
        let service = try makeService()
        // When a technician's list is planned
        let steps = try service.database.read { db in
            try db.rows("EXPLAIN QUERY PLAN " + SyncService.technicianConflictsStatement(includeResolved: includeResolved),
                        named: ["me": .text("alice")]).map { try $0["detail"] as String }
        }
        // Then nothing reads every conflict or every order: his orders, and the conflicts
        // he won or lost, are each a seek
        #expect(!steps.contains { $0.hasPrefix("SCAN c") || $0.hasPrefix("SCAN o") }, "\(steps)")
        for read in [
            "SEARCH c USING INDEX conflicts_winner (winner_actor=?)",
            "SEARCH c USING INDEX conflicts_loser (loser_actor=?)",
        ] {
            #expect(steps.contains(read), "\(read) in \(steps)")
        }
        #expect(steps.contains { $0.hasPrefix("SEARCH o USING") && $0.contains("(assignee=?") }, "\(steps)")
    }

    @Test(.disabled(if: testEngineIsPostgres, "SQLite's v15 migration"))
    func theMigrationFillsTheSidesOfTheConflictsAlreadyRecorded() throws {
        // Given conflicts recorded before v15 (their side columns empty)
        let service = try conflictDepot(seed: 5, orders: 16)
        let before = try service.conflicts(as: alice, includeResolved: true).map(\.conflict.id)
        try service.database.write { db in
            try db.execute("UPDATE conflicts SET winner_actor = NULL, loser_actor = NULL")
            try db.execute("DROP INDEX conflicts_winner")
            try db.execute("DROP INDEX conflicts_loser")
            try db.execute("ALTER TABLE conflicts DROP COLUMN winner_actor")
            try db.execute("ALTER TABLE conflicts DROP COLUMN loser_actor")
            // When v15 runs
            for statement in ServerSchema.v15ConflictSides.split(separator: ";") where !statement.allSatisfy(\.isWhitespace) {
                try db.execute(String(statement))
            }
        }
        // Then the lists are what they were
        #expect(!before.isEmpty)
        #expect(try service.conflicts(as: alice, includeResolved: true).map(\.conflict.id) == before)
    }
}
