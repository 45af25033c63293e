import FieldSyncCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import FieldSyncServer

@Suite("HTTP routes")
struct RouteTests {
    private static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    private static func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try JSONDecoder().decode(type, from: Data(response.body.readableBytesView))
    }

    private static func json<T: Encodable>(_ value: T) throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONEncoder().encode(value))
    }

    /// A valid push body of the dispatcher's device, opening WO-1.
    private static func openingPush() throws -> PushRequest {
        var desk = TestDevice("disp-1", dispatcher)
        return PushRequest(deviceId: "disp-1", intents: [
            desk.intent("WO-1", .create(fields: orderFields(customer: "<b>赵</b>"))),
            desk.intent("WO-1", .assign(technician: "alice")),
        ])
    }

    @Test func healthAndIdentity() async throws {
        let setup = try Setup()
        try await setup.app.test(.router) { client in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            #expect(String(buffer: health.body) == #"{"ok":true}"#)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)

            let me = try await client.execute(uri: "/v1/me", method: .get, headers: Self.bearer(setup.technicianToken))
            #expect(me.status == .ok)
            #expect(try Self.decode(Principal.self, me) == alice)
        }
    }

    @Test func readinessIs503WithTheProblemWhenTheDatabaseDoesNotAnswer() async throws {
        let setup = try Setup()
        try setup.service.database.write { db in try db.execute("DROP TABLE users") }
        try await setup.app.test(.router) { client in
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(try Self.decode(APIErrorBody.self, ready).error == "database_unavailable")
            // while the process itself still answers
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }

    @Test func everyV1RouteNeedsAKnownToken() async throws {
        let setup = try Setup()
        try await setup.app.test(.router) { client in
            for (uri, method) in [
                ("/v1/me", HTTPRequest.Method.get), ("/v1/sync/pull", .get), ("/v1/sync/push", .post),
                ("/v1/board", .get), ("/v1/conflicts", .get), ("/v1/orders/WO-1", .get),
                ("/v1/conflicts/C1/resolve", .post), ("/v1/technicians", .get),
            ] {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.status == .unauthorized, "\(uri)")
                let body = try Self.decode(APIErrorBody.self, response)
                #expect(body.error == "unauthorized")
                #expect(body.message.contains("fieldsync login"))
            }
            let wrong = try await client.execute(uri: "/v1/me", method: .get, headers: Self.bearer("nope"))
            #expect(wrong.status == .unauthorized)
        }
    }

    @Test func pushAndPullOverHTTP() async throws {
        let setup = try Setup()
        let push = try Self.openingPush()
        try await setup.app.test(.router) { client in
            let pushed = try await client.execute(
                uri: "/v1/sync/push", method: .post, headers: Self.bearer(setup.dispatcherToken),
                body: try Self.json(push))
            #expect(pushed.status == .ok)
            let response = try Self.decode(PushResponse.self, pushed)
            #expect(response.outcomes.map(\.result) == [.applied, .applied])

            let pulled = try await client.execute(
                uri: "/v1/sync/pull?cursor=0&limit=10", method: .get, headers: Self.bearer(setup.technicianToken))
            #expect(pulled.status == .ok)
            let page = try Self.decode(PullResponse.self, pulled)
            #expect(page.orders.map(\.id) == ["WO-1"])
            #expect(page.orders.first?.events == response.outcomes.compactMap(\.stored))

            let order = try await client.execute(uri: "/v1/orders/WO-1", method: .get, headers: Self.bearer(setup.technicianToken))
            #expect(try Self.decode(WorkOrder.self, order).assignee == "alice")

            let badCursor = try await client.execute(
                uri: "/v1/sync/pull?cursor=abc", method: .get, headers: Self.bearer(setup.technicianToken))
            #expect(badCursor.status == .badRequest)
            #expect(try Self.decode(APIErrorBody.self, badCursor).error == "bad_cursor")
        }
    }

    @Test func aMalformedBodyIs400WithTheProblem() async throws {
        let setup = try Setup()
        var missing = try JSONSerialization.jsonObject(with: JSONEncoder().encode(try Self.openingPush())) as? [String: Any]
        missing?["deviceId"] = nil
        let withoutDevice = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: missing ?? [:]))
        try await setup.app.test(.router) { client in
            let garbage = try await client.execute(
                uri: "/v1/sync/push", method: .post, headers: Self.bearer(setup.dispatcherToken),
                body: ByteBuffer(string: "{\"deviceId\": "))
            #expect(garbage.status == .badRequest)
            #expect(try Self.decode(APIErrorBody.self, garbage).error == "malformed_body")

            let noDevice = try await client.execute(
                uri: "/v1/sync/push", method: .post, headers: Self.bearer(setup.dispatcherToken), body: withoutDevice)
            let body = try Self.decode(APIErrorBody.self, noDevice)
            #expect(noDevice.status == .badRequest)
            #expect(body.error == "malformed_body")
            #expect(body.message.contains("deviceId"))
        }
    }

    @Test func anUnknownIntentKindIs400() async throws {
        let setup = try Setup()
        let text = String(decoding: try JSONEncoder().encode(try Self.openingPush()), as: UTF8.self)
            .replacingOccurrences(of: #""kind":"assign""#, with: #""kind":"teleport""#)
        #expect(text.contains("teleport"))
        try await setup.app.test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/sync/push", method: .post, headers: Self.bearer(setup.dispatcherToken),
                body: ByteBuffer(string: text))
            let body = try Self.decode(APIErrorBody.self, response)
            #expect(response.status == .badRequest)
            #expect(body.error == "unknown_intent_kind")
            #expect(body.message.contains("teleport"))
        }
        #expect(throws: ServiceError.self) { try setup.service.order(id: "WO-1", as: dispatcher) }
    }

    @Test func anOversizedBodyIs413() async throws {
        let setup = try Setup()
        try await setup.app.test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/sync/push", method: .post, headers: Self.bearer(setup.dispatcherToken),
                body: ByteBuffer(repeating: UInt8(ascii: " "), count: PushRequest.maxBytes + 1))
            #expect(response.status == .contentTooLarge)
            #expect(try Self.decode(APIErrorBody.self, response).error == "body_too_large")
        }
    }

    @Test func theBoardIsForDispatchers() async throws {
        let setup = try Setup()
        _ = try setup.service.push(try Self.openingPush(), as: dispatcher)
        try await setup.app.test(.router) { client in
            let board = try await client.execute(uri: "/v1/board", method: .get, headers: Self.bearer(setup.dispatcherToken))
            #expect(board.status == .ok)
            #expect(try Self.decode(Board.self, board).rows.map(\.id) == ["WO-1"])

            let forbidden = try await client.execute(uri: "/v1/board", method: .get, headers: Self.bearer(setup.technicianToken))
            #expect(forbidden.status == .forbidden)
            #expect(try Self.decode(APIErrorBody.self, forbidden).error == "dispatcher_only")

            // The HTML page takes a signed-in session, never a bearer token (BoardSignInTests).
            let bearer = try await client.execute(uri: "/board", method: .get, headers: Self.bearer(setup.dispatcherToken))
            #expect(bearer.status == .seeOther)
            #expect(bearer.headers[.location] == "/board/login")
        }
    }

    @Test func conflictsAndResolutionOverHTTP() async throws {
        let setup = try Setup()
        try await setup.app.test(.router) { client in
            let list = try await client.execute(uri: "/v1/conflicts?all=1", method: .get, headers: Self.bearer(setup.technicianToken))
            #expect(list.status == .ok)
            #expect(try Self.decode([ConflictRecord].self, list).isEmpty)

            let unknown = try await client.execute(
                uri: "/v1/conflicts/C0/resolve", method: .post, headers: Self.bearer(setup.dispatcherToken),
                body: try Self.json(ResolveRequest(resolution: "done")))
            #expect(unknown.status == .notFound)
            #expect(try Self.decode(APIErrorBody.self, unknown).error == "unknown_conflict")

            let noRoute = try await client.execute(uri: "/v2/nothing", method: .get)
            #expect(noRoute.status == .notFound)
            #expect(try Self.decode(APIErrorBody.self, noRoute).error == "not_found")
        }
    }

    @Test func theLiveServerAnswersOverASocket() async throws {
        let setup = try Setup()
        try await setup.app.test(.live) { client in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            #expect(client.port.map { $0 > 0 } == true)
            let big = try await client.execute(
                uri: "/v1/sync/push", method: .post, headers: Self.bearer(setup.dispatcherToken),
                body: ByteBuffer(repeating: UInt8(ascii: " "), count: PushRequest.maxBytes + 1))
            #expect(big.status == .contentTooLarge)
        }
    }
}
