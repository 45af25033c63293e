import FieldSyncCore
import Testing

@testable import FieldSyncServer

@Suite("dispatcher views: board, conflicts, users")
struct DispatchTests {
    /// Orders at every standing: overdue, due soon, on time, met, and a finished one.
    private func boardFixture() throws -> SyncService {
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        let opened = try desk.push([
            // overdue, routine: opened 3 h ago, due 1 h ago
            desk.intent("LATE", .create(fields: orderFields(urgency: 3, deadline: testNow - hour)), at: testNow - 3 * hour),
            // due soon: 20 min left of 120
            desk.intent("SOON", .create(fields: orderFields(urgency: 2, deadline: testNow + 20 * minute)), at: testNow - 100 * minute),
            // on time, most urgent
            desk.intent("ON-TIME", .create(fields: orderFields(urgency: 1, deadline: testNow + 2 * hour))),
            desk.intent("MET", .create(fields: orderFields(customer: "<script>alert(1)</script>", urgency: 2, deadline: testNow + hour))),
            desk.intent("MET", .assign(technician: "alice")),
        ], to: service)
        var tablet = TestDevice("tab-alice", alice)
        tablet.sync(opened)
        _ = try tablet.push([
            tablet.intent("MET", .transition(to: .accepted, note: nil)),
            tablet.intent("MET", .transition(to: .onSite, note: nil)),
            tablet.intent("MET", .transition(to: .working, note: nil)),
            tablet.intent("MET", .transition(to: .completed, note: nil)),
        ], to: service)
        return service
    }

    @Test func theBoardPutsOverdueFirstThenDueSoonThenUrgency() throws {
        let service = try boardFixture()

        let open = try service.board(as: dispatcher, includeFinished: false)
        let all = try service.board(as: dispatcher, includeFinished: true)

        #expect(open.rows.map(\.id) == ["LATE", "SOON", "ON-TIME"])
        #expect(open.rows.map(\.standing) == ["overdue", "due_soon", "on_time"])
        #expect(all.rows.map(\.id) == ["LATE", "SOON", "ON-TIME", "MET"])
        // one met, one overdue
        #expect(open.timelinessPercent == 50)
        #expect(open.satisfactionPercent == nil)
        #expect(open.generatedAt == testNow)
    }

    @Test func theBoardIsForDispatchersOnly() throws {
        let service = try boardFixture()

        let error = #expect(throws: ServiceError.self) { try service.board(as: alice, includeFinished: false) }

        #expect(error?.status == 403)
        #expect(error?.body.error == "dispatcher_only")
    }

    @Test func aTechnicianSeesOnlyHisOwnOrders() throws {
        let service = try boardFixture()

        let mine = try service.order(id: "MET", as: alice)
        let other = #expect(throws: ServiceError.self) { try service.order(id: "LATE", as: alice) }
        let missing = #expect(throws: ServiceError.self) { try service.order(id: "NOPE", as: dispatcher) }

        #expect(mine.status == .completed)
        let nowhere = #expect(throws: ServiceError.self) { try service.order(id: "NOPE", as: alice) }
        // Outside his scope, an order answers exactly as one that does not exist
        #expect(other?.status == 404)
        #expect(other?.body.error == nowhere?.body.error)
        #expect(other?.body.message.replacingOccurrences(of: "LATE", with: "X")
                == nowhere?.body.message.replacingOccurrences(of: "NOPE", with: "X"))
        #expect(missing?.status == 404)
        #expect(missing?.body.error == "unknown_order")
    }

    @Test func aDispatcherResolvesAConflictAndItLeavesTheOpenList() throws {
        // Given a cancel-versus-work conflict
        let service = try makeService()
        var desk = TestDevice("disp-1", dispatcher)
        let opened = try openOrders(["A"], assignedTo: "alice", device: &desk, service: service)
        var tablet = TestDevice("tab-alice", alice)
        tablet.sync(opened)
        _ = try tablet.push([
            tablet.intent("A", .transition(to: .accepted, note: nil)),
            tablet.intent("A", .transition(to: .onSite, note: nil)),
        ], to: service)
        _ = try desk.push([desk.intent("A", .transition(to: .cancelled, note: nil), at: testNow + minute)], to: service)
        let id = try #require(try service.conflicts(as: dispatcher, includeResolved: false).first?.conflict.id)
        #expect(try service.board(as: dispatcher, includeFinished: true).rows.first?.openConflicts == 1)

        // When alice tries to resolve it, a dispatcher sends nothing, then a real answer
        let byAlice = #expect(throws: ServiceError.self) { try service.resolveConflict(id: id, resolution: "ok", as: alice) }
        let empty = #expect(throws: ServiceError.self) { try service.resolveConflict(id: id, resolution: "  ", as: dispatcher) }
        let unknown = #expect(throws: ServiceError.self) { try service.resolveConflict(id: "C000", resolution: "x", as: dispatcher) }
        let record = try service.resolveConflict(id: id, resolution: "客户确认继续维修", as: dispatcher)

        // Then only the dispatcher's resolution is recorded
        #expect(byAlice?.status == 403)
        #expect(empty?.status == 400)
        #expect(unknown?.status == 404)
        #expect(record.resolvedBy == "zhang")
        #expect(record.resolution == "客户确认继续维修")
        #expect(record.resolvedAt == testNow)
        #expect(try service.conflicts(as: dispatcher, includeResolved: false).isEmpty)
        #expect(try service.conflicts(as: dispatcher, includeResolved: true).map(\.conflict.id) == [id])
        #expect(try service.board(as: dispatcher, includeFinished: true).rows.first?.openConflicts == 0)
    }

    @Test func aUserGetsATokenThatAuthenticatesThemAndNamesAreUnique() throws {
        let service = SyncService(database: try makeStore(), now: { testNow })

        let token = try service.addUser(name: "alice", role: .technician)
        let duplicate = #expect(throws: ServiceError.self) { try service.addUser(name: "alice", role: .dispatcher) }
        let badName = #expect(throws: ServiceError.self) { try service.addUser(name: "*", role: .dispatcher) }
        let stranger = #expect(throws: ServiceError.self) { try service.authenticate(token: String(repeating: "0", count: 64)) }

        #expect(token.count == 64)
        #expect(token.allSatisfy { $0.isHexDigit })
        #expect(try service.authenticate(token: token) == alice)
        #expect(duplicate?.body.error == "user_exists")
        #expect(badName?.body.error == "invalid_name")
        #expect(stranger?.status == 401)
    }

    @Test func theBoardPageEscapesEveryValue() throws {
        let service = try boardFixture()
        let board = try service.board(as: dispatcher, includeFinished: true)

        let page = BoardPage.render(board, includeFinished: true)

        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!page.contains("<script>"))
        #expect(page.contains("<meta http-equiv=\"refresh\" content=\"30\">"))
        #expect(page.contains("href=\"/board\""))
        #expect(!page.contains("token"))
        #expect(page.contains("<td>已完成<br><small>completed</small></td>"))
        #expect(BoardPage.utc(testNow) == "2024-05-01 08:00")
    }
}
