import FieldSyncCore
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import FieldSyncServer

@Suite("board sign-in: a session cookie, never a token in the address")
struct BoardSignInTests {
    /// A wall clock the test moves by hand.
    final class ManualClock: @unchecked Sendable {
        private let lock = NSLock()
        private var value = testNow

        var now: Int64 {
            get { lock.withLock { value } }
            set { lock.withLock { value = newValue } }
        }
    }

    /// A depot with one order whose customer name is HTML, to see it escaped.
    private static func depot(now: @escaping @Sendable () -> Int64 = { testNow }) throws -> Setup {
        let setup = try Setup(now: now)
        var desk = TestDevice("disp-1", dispatcher)
        _ = try desk.push([
            desk.intent("WO-1", .create(fields: orderFields(customer: "<b>赵</b>"))),
            desk.intent("WO-1", .assign(technician: "alice")),
        ], to: setup.service)
        return setup
    }

    /// `POST /board/login` with `token` as the form.
    private static func signIn(
        _ client: some TestClientProtocol, token: String, headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await client.execute(
            uri: "/board/login", method: .post, headers: headers, body: ByteBuffer(string: "token=\(token)"))
    }

    /// The `Set-Cookie` header split into its value and its attributes (lower-cased names).
    private static func setCookie(_ response: TestResponse) throws -> (value: String, attributes: [String: String]) {
        let header = try #require(response.headers[.setCookie])
        var parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        let pair = parts.removeFirst().split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        #expect(pair.first == "fieldsync_session")
        var attributes: [String: String] = [:]
        for part in parts {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            attributes[kv[0].lowercased()] = kv.count > 1 ? String(kv[1]) : ""
        }
        return (pair.count > 1 ? String(pair[1]) : "", attributes)
    }

    private static func board(
        _ client: some TestClientProtocol, session: String, query: String = ""
    ) async throws -> TestResponse {
        try await client.execute(uri: "/board" + query, method: .get, headers: [.cookie: "fieldsync_session=\(session)"])
    }

    private static func expectPrivate(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.headers[.cacheControl] == "no-store", sourceLocation: sourceLocation)
        let referrerPolicy = HTTPFields.Element.Name("Referrer-Policy")
        #expect(referrerPolicy.flatMap { response.headers[$0] } == "no-referrer", sourceLocation: sourceLocation)
    }

    private static func sessionCount(_ service: SyncService) throws -> Int {
        try service.database.read { db in try db.value(Int.self, "SELECT COUNT(*) FROM board_sessions") ?? -1 }
    }

    // MARK: -

    @Test func withoutASessionTheBoardSendsToTheSignInForm() async throws {
        let setup = try Self.depot()
        try await setup.app.test(.router) { client in
            let board = try await client.execute(uri: "/board", method: .get)
            #expect(board.status == .seeOther)
            #expect(board.headers[.location] == "/board/login")
            Self.expectPrivate(board)

            let form = try await client.execute(uri: "/board/login", method: .get)
            let html = String(buffer: form.body)
            #expect(form.status == .ok)
            #expect(form.headers[.contentType] == "text/html; charset=utf-8")
            Self.expectPrivate(form)
            #expect(html.contains(#"<form method="post" action="/board/login">"#))
            #expect(html.contains(#"name="token" type="password""#))
            #expect(html.contains("Dispatcher token"))
        }
    }

    @Test func onlyADispatchersTokenSignsIn() async throws {
        let setup = try Self.depot()
        try await setup.app.test(.router) { client in
            let technician = try await Self.signIn(client, token: setup.technicianToken)
            #expect(technician.status == .forbidden)
            #expect(technician.headers[.setCookie] == nil)
            #expect(String(buffer: technician.body).contains("for dispatchers"))
            Self.expectPrivate(technician)

            let unknown = try await Self.signIn(client, token: String(repeating: "0", count: 64))
            #expect(unknown.status == .unauthorized)
            #expect(unknown.headers[.setCookie] == nil)
            #expect(String(buffer: unknown.body).contains(#"type="password""#))

            let empty = try await client.execute(uri: "/board/login", method: .post)
            #expect(empty.status == .unauthorized)
            #expect(empty.headers[.setCookie] == nil)
        }
        #expect(try Self.sessionCount(setup.service) == 0)
    }

    @Test func aDispatchersSignInGivesAStrictHttpOnlyCookieThatOpensTheBoard() async throws {
        let setup = try Self.depot()
        try await setup.app.test(.router) { client in
            // When the dispatcher signs in
            let signedIn = try await Self.signIn(client, token: setup.dispatcherToken)

            // Then he is sent to the board with a session cookie scripts cannot read
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/board")
            Self.expectPrivate(signedIn)
            let (session, attributes) = try Self.setCookie(signedIn)
            #expect(session.count == 64 && session.allSatisfy(\.isHexDigit))
            #expect(session != setup.dispatcherToken)
            #expect(attributes == ["httponly": "", "samesite": "Strict", "path": "/", "max-age": "28800"])

            // and the cookie opens the board, which is neither cached nor leaked by a Referer
            let page = try await Self.board(client, session: session)
            let html = String(buffer: page.body)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            Self.expectPrivate(page)
            #expect(html.contains("&lt;b&gt;赵&lt;/b&gt;"))
            #expect(!html.contains("<b>赵"))
            #expect(!html.contains(setup.dispatcherToken) && !html.contains(session))
            #expect(html.contains(#"<form method="post" action="/board/logout""#))
            #expect(html.contains(#"href="/board?all=1""#))
            let all = try await Self.board(client, session: session, query: "?all=1")
            #expect(all.status == .ok)

            // and the server keeps only the session id's SHA-256
            let stored = try setup.service.database.read { db in try db.values(String.self, "SELECT id_sha256 FROM board_sessions") }
            #expect(stored == [StoredJSON.sha256Hex(Array(session.utf8))])
        }
    }

    @Test func behindATLSProxyTheCookieIsSecure() async throws {
        let setup = try Self.depot()
        let proto = try #require(HTTPFields.Element.Name("X-Forwarded-Proto"))
        try await setup.app.test(.router) { client in
            let response = try await Self.signIn(client, token: setup.dispatcherToken, headers: [proto: "https"])

            #expect(response.status == .seeOther)
            #expect(try Self.setCookie(response).attributes["secure"] == "")
            #expect(try Self.setCookie(try await Self.signIn(client, token: setup.dispatcherToken)).attributes["secure"] == nil)
        }
    }

    @Test func aTokenInTheAddressIsRefusedEvenWithASession() async throws {
        let setup = try Self.depot()
        try await setup.app.test(.router) { client in
            let session = try Self.setCookie(try await Self.signIn(client, token: setup.dispatcherToken)).value

            for response in [
                try await client.execute(uri: "/board?token=\(setup.dispatcherToken)", method: .get),
                try await Self.board(client, session: session, query: "?token=\(setup.dispatcherToken)"),
            ] {
                let html = String(buffer: response.body)
                #expect(response.status == .badRequest)
                Self.expectPrivate(response)
                #expect(html.contains(#"<a href="/board/login">"#))
                #expect(html.contains("no longer takes a token in its address"))
                #expect(!html.contains(setup.dispatcherToken))
                #expect(!html.contains("<table>"))
            }
        }
    }

    @Test func signingOutEndsTheSessionForGood() async throws {
        let setup = try Self.depot()
        try await setup.app.test(.router) { client in
            let session = try Self.setCookie(try await Self.signIn(client, token: setup.dispatcherToken)).value
            #expect(try await Self.board(client, session: session).status == .ok)

            let out = try await client.execute(
                uri: "/board/logout", method: .post, headers: [.cookie: "fieldsync_session=\(session)"])

            #expect(out.status == .seeOther)
            #expect(out.headers[.location] == "/board/login")
            Self.expectPrivate(out)
            let cleared = try Self.setCookie(out)
            #expect(cleared.value.isEmpty && cleared.attributes["max-age"] == "0")
            let again = try await Self.board(client, session: session)
            #expect(again.status == .seeOther)
            #expect(again.headers[.location] == "/board/login")
        }
        #expect(try Self.sessionCount(setup.service) == 0)
    }

    @Test func aSessionExpiresAfterEightHoursAndIsDeleted() async throws {
        let clock = ManualClock()
        let setup = try Self.depot(now: { clock.now })
        try await setup.app.test(.router) { client in
            let session = try Self.setCookie(try await Self.signIn(client, token: setup.dispatcherToken)).value

            clock.now = testNow + 8 * hour - 1
            let lastMoment = try await Self.board(client, session: session)
            clock.now = testNow + 8 * hour
            let expired = try await Self.board(client, session: session)

            #expect(lastMoment.status == .ok)
            #expect(expired.status == .seeOther)
            #expect(expired.headers[.location] == "/board/login")
            #expect(try Self.setCookie(expired).attributes["max-age"] == "0")
        }
        #expect(try Self.sessionCount(setup.service) == 0)
    }

    @Test func disablingTheDispatcherOrReplacingHisTokenEndsHisSessions() async throws {
        let setup = try Self.depot()
        try await setup.app.test(.router) { client in
            let first = try Self.setCookie(try await Self.signIn(client, token: setup.dispatcherToken)).value
            try setup.service.setUser("zhang", enabled: false)
            #expect(try await Self.board(client, session: first).status == .seeOther)
            let refused = try await Self.signIn(client, token: setup.dispatcherToken)
            #expect(refused.status == .unauthorized)
            #expect(String(buffer: refused.body).contains("disabled"))

            try setup.service.setUser("zhang", enabled: true)
            let second = try Self.setCookie(try await Self.signIn(client, token: setup.dispatcherToken)).value
            #expect(try await Self.board(client, session: second).status == .ok)
            _ = try setup.service.replaceToken(of: "zhang")
            #expect(try await Self.board(client, session: second).status == .seeOther)
        }
    }

    @Test func aSessionWorksOnEveryServerInstanceOfTheDatabase() async throws {
        let setup = try Self.depot()
        let other = SyncService(database: setup.service.database, now: { testNow })
        let otherApp = buildApplication(service: other, host: "127.0.0.1", port: 0, logger: Logger(label: "test"))
        let session = try await setup.app.test(.router) { client in
            try Self.setCookie(try await Self.signIn(client, token: setup.dispatcherToken)).value
        }
        let page = try await otherApp.test(.router) { client in
            try await Self.board(client, session: session)
        }
        #expect(page.status == .ok)
    }
}
