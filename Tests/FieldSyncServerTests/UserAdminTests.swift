import FieldSyncCore
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FieldSyncServer

@Suite("users: who may sync, and who orders are assigned to")
struct UserAdminTests {
    /// Dispatcher zhang; technicians alice, li-min and liming; technician bob, disabled.
    private static func depot() throws -> Setup {
        let setup = try Setup()
        for name in ["li-min", "liming"] { _ = try setup.service.addUser(name: name, role: .technician) }
        try setup.service.setUser("bob", enabled: false)
        return setup
    }

    private static let list = "`fieldsync dispatch technicians`"

    // MARK: - Assigning

    @Test(arguments: [
        ("li-ming", "no technician 'li-ming': did you mean li-min, liming? List them with \(list)"),
        ("Alice", "no technician 'Alice': did you mean alice? List them with \(list)"),
        ("bob", "technician bob is disabled: list the technicians with \(list)"),
        ("zhang", "zhang is a dispatcher, not a technician: list the technicians with \(list)"),
        ("*", "no technician '*': list the technicians with \(list)"),
    ])
    func anAssignToAnythingButAnEnabledTechnicianIsRejected(name: String, message: String) throws {
        // Given an open order and the board as it stands
        let setup = try Self.depot()
        var desk = TestDevice("disp-1", dispatcher)
        _ = try desk.push([desk.intent("WO-1", .create(fields: orderFields()))], to: setup.service)
        let boardBefore = try setup.service.board(as: dispatcher, includeFinished: true)

        // When the dispatcher assigns it to `name`, and the device retries
        let assign = [desk.intent("WO-1", .assign(technician: name))]
        let response = try desk.push(assign, to: setup.service)
        let retry = try desk.push(assign, to: setup.service)

        // Then it is refused with the closest names, stored, and its number used up
        let outcome = try #require(response.outcomes.first)
        #expect(outcome.result == .rejected)
        #expect(outcome.rejection == Rejection(.unknownTechnician, message))
        #expect(response.nextSeq == 3)
        #expect(retry.outcomes.first?.duplicate == true)
        #expect(retry.outcomes.first?.rejection == outcome.rejection)
        // and the board, the order and the dispatchers' checksum are as before
        #expect(try setup.service.board(as: dispatcher, includeFinished: true) == boardBefore)
        #expect(try setup.service.order(id: "WO-1", as: dispatcher).assignee == nil)
        let page = try setup.service.pull(as: dispatcher, cursor: 0, limit: 10)
        #expect(page.checksum == String(ScopeChecksum.sum(page.orders.map { ($0.id, $0.version) })))
        #expect(try setup.service.pull(as: Principal(name: name, role: .technician), cursor: 0, limit: 10).orders.isEmpty)
    }

    @Test func anAssignToAnEnabledTechnicianApplies() throws {
        let setup = try Self.depot()
        var desk = TestDevice("disp-1", dispatcher)

        let response = try openOrders(["WO-1"], assignedTo: "li-min", device: &desk, service: setup.service)

        #expect(response.outcomes.map(\.result) == [.applied, .applied])
        #expect(try setup.service.board(as: dispatcher, includeFinished: true).rows.map(\.assignee) == ["li-min"])
    }

    // MARK: - Disabling and tokens

    @Test func aDisabledUsersTokenIsRefusedAndNothingTheyPushedIsLost() async throws {
        // Given alice accepted her order and logged a line
        let setup = try Setup()
        var desk = TestDevice("disp-1", dispatcher)
        let opened = try openOrders(["WO-1"], assignedTo: "alice", device: &desk, service: setup.service)
        var tablet = TestDevice("tab-alice", alice)
        tablet.sync(opened)
        let pushed = try tablet.push([
            tablet.intent("WO-1", .transition(to: .accepted, note: nil)),
            tablet.intent("WO-1", .append(ChildEntry(id: "L1", kind: .log, text: "阀门已关"))),
        ], to: setup.service)
        #expect(pushed.outcomes.map(\.result) == [.applied, .applied])

        // When she is disabled
        let listing = try setup.service.setUser("alice", enabled: false)

        // Then her token gets 401, over HTTP too, saying she is disabled
        #expect(listing.disabledAt == testNow)
        let refused = #expect(throws: ServiceError.self) { try setup.service.authenticate(token: setup.technicianToken) }
        #expect(refused?.status == 401)
        #expect(refused?.body.error == "unauthorized")
        #expect(refused?.body.message.contains("disabled") == true)
        try await setup.app.test(.router) { client in
            let me = try await client.execute(
                uri: "/v1/me", method: .get, headers: [.authorization: "Bearer \(setup.technicianToken)"])
            #expect(me.status == .unauthorized)
        }
        // and everything she pushed is still there
        let order = try setup.service.order(id: "WO-1", as: dispatcher)
        #expect(order.eventCount == 4)
        #expect(order.status == .accepted)
        #expect(order.children.map(\.entry.text) == ["阀门已关"])
        #expect(try pullAll(setup.service, as: dispatcher).flatMap(\.orders).first?.events.count == 4)

        // and enabling her again lets the same token in
        try setup.service.setUser("alice", enabled: true)
        #expect(try setup.service.authenticate(token: setup.technicianToken) == alice)
    }

    @Test func aReplacedTokenStopsWorkingAtOnceAndTheNewOneWorks() throws {
        let setup = try Setup()

        let token = try setup.service.replaceToken(of: "alice")

        let old = #expect(throws: ServiceError.self) { try setup.service.authenticate(token: setup.technicianToken) }
        #expect(old?.status == 401)
        #expect(token != setup.technicianToken)
        #expect(token.count == 64 && token.allSatisfy(\.isHexDigit))
        #expect(try setup.service.authenticate(token: token) == alice)
        #expect(try setup.service.authenticate(token: setup.dispatcherToken) == dispatcher)
    }

    @Test func anUnknownUserNameIsRefusedWithTheClosestNamesAndNothingChanges() throws {
        let setup = try Setup()
        let before = try setup.service.users()
        let message = "no user 'alcie': did you mean alice? List the users with `fieldsync-server user list`"

        let errors = [
            #expect(throws: ServiceError.self) { try setup.service.setUser("alcie", enabled: false) },
            #expect(throws: ServiceError.self) { try setup.service.setUser("alcie", enabled: true) },
            #expect(throws: ServiceError.self) { try setup.service.replaceToken(of: "alcie") },
        ]

        for error in errors {
            #expect(error?.status == 404)
            #expect(error?.body == APIErrorBody(error: "unknown_user", message: message))
        }
        #expect(try setup.service.users() == before)
        #expect(try setup.service.authenticate(token: setup.technicianToken) == alice)
    }

    @Test func theUserListShowsRolesAndWhoIsDisabled() throws {
        let setup = try Setup()

        try setup.service.setUser("bob", enabled: false)

        #expect(try setup.service.users() == [
            UserListing(name: "alice", role: .technician, createdAt: testNow, disabledAt: nil),
            UserListing(name: "bob", role: .technician, createdAt: testNow, disabledAt: testNow),
            UserListing(name: "zhang", role: .dispatcher, createdAt: testNow, disabledAt: nil),
        ])
    }

    @Test func usersOfADatabaseWrittenBeforeV2UsersStayEnabled() throws {
        // Given a database file migrated only up to "v1", with one user
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("fieldsync-server-tests-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("old.db").path
        let token = String(repeating: "ab", count: 32)
        do {
            let old = try DatabaseQueue(path: path)
            try ServerDatabase.migrator.migrate(old, upTo: "v1")
            try old.write { db in
                try db.execute(
                    sql: "INSERT INTO users (name, role, token_sha256, created_at) VALUES ('alice', 'technician', ?, 1)",
                    arguments: [StoredJSON.sha256Hex(Array(token.utf8))])
            }
        }

        // When this release opens it
        let service = SyncService(database: try ServerDatabase(path: path), now: { testNow })

        // Then the user is enabled, can be assigned, and can be disabled
        #expect(try service.authenticate(token: token) == alice)
        #expect(try service.technicians(as: dispatcher, includeDisabled: true).technicians == [Technician(name: "alice", active: true)])
        try service.setUser("alice", enabled: false)
        #expect(throws: ServiceError.self) { try service.authenticate(token: token) }
    }

    // MARK: - GET /v1/technicians

    @Test func dispatchersListTheTechniciansOrdersCanBeAssignedTo() async throws {
        let setup = try Self.depot()
        try await setup.app.test(.router) { client in
            func get(_ uri: String, _ token: String) async throws -> TestResponse {
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(token)"])
            }
            let enabled = try await get("/v1/technicians", setup.dispatcherToken)
            #expect(enabled.status == .ok)
            #expect(try Self.decode(TechnicianList.self, enabled) == TechnicianList(technicians: [
                Technician(name: "alice", active: true), Technician(name: "li-min", active: true),
                Technician(name: "liming", active: true),
            ]))

            let all = try await get("/v1/technicians?all=1", setup.dispatcherToken)
            let list = try Self.decode(TechnicianList.self, all)
            #expect(list.technicians.map(\.name) == ["alice", "bob", "li-min", "liming"])
            #expect(list.technicians.map(\.active) == [true, false, true, true])
            #expect(list.assignable == ["alice", "li-min", "liming"])

            let technician = try await get("/v1/technicians", setup.technicianToken)
            #expect(technician.status == .forbidden)
            #expect(try Self.decode(APIErrorBody.self, technician).error == "dispatcher_only")
        }
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try JSONDecoder().decode(type, from: Data(response.body.readableBytesView))
    }
}
