import FieldSyncCore
import Foundation
import Hummingbird

/// The board page's sign-in: a dispatcher posts his token once to `/board/login` and the
/// browser then holds a short-lived session cookie, so the long-lived API token never sits
/// in an address (browser history, proxy logs, the wall screen).
///
/// Sessions live in the database (`board_sessions`, only the SHA-256 of each random id),
/// not in memory, so several server instances on one database share them and a restart
/// keeps dispatchers signed in. hummingbird-auth's session support was weighed first:
/// its sessions are kept by a Hummingbird `PersistDriver`, which for several instances
/// would itself need a database-backed driver written here, and it would add a package
/// for what is one small table and four queries; so the table is the chosen way.
///
/// - `GET /board` without a valid session: 303 to `/board/login`; with a `token` query
///   parameter: 400 and a page that says to sign in instead (the token is not used).
/// - `POST /board/login` (form `token=…`, dispatchers only): 303 to `/board` with
///   `Set-Cookie: fieldsync_session=…; HttpOnly; SameSite=Strict; Path=/; Max-Age=28800`
///   (`; Secure` when `X-Forwarded-Proto: https`).
/// - `POST /board/logout`: the session ends; 303 to `/board/login`.
///
/// Every answer has `Cache-Control: no-store` and `Referrer-Policy: no-referrer`. Bearer
/// tokens are for the `/v1` API only.
struct BoardSession {
    let service: SyncService

    /// The cookie that carries the session id.
    static let cookieName = "fieldsync_session"
    /// Largest sign-in form body.
    static let maxFormBytes = 4 << 10
    /// Rows on the board page (the first page of the board).
    static let pageRows = 200

    func add(to router: Router<BasicRequestContext>) {
        let service = self.service
        router.get("board") { request, _ in
            if request.uri.queryParameters["token"] != nil {
                return Self.page(BoardPage.tokenInAddress(), status: .badRequest)
            }
            guard let id = Self.sessionId(request) else { return Self.redirect(to: "/board/login") }
            let principal: Principal
            do {
                principal = try await Offload.run { try service.boardPrincipal(session: id) }
                RequestFacts.current?.user = principal.name
            } catch let error as ServiceError {
                if error.status >= 500 { throw error }
                return Self.redirect(to: "/board/login", setting: Self.endedCookie(request))
            }
            let all = RequestReading.flag("all", request)
            // The wall screen shows the first page: the most urgent 200 orders.
            let board = try await Offload.run {
                try service.board(as: principal, query: BoardQuery(includeFinished: all, limit: Self.pageRows))
            }
            return Self.page(BoardPage.render(board, includeFinished: all), status: .ok)
        }
        router.get("board/login") { _, _ in
            Self.page(BoardPage.signIn(), status: .ok)
        }
        router.post("board/login") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: Self.maxFormBytes)
            let token = (try? URLEncodedFormDecoder().decode(SignInForm.self, from: String(buffer: body)))?.token ?? ""
            if token.trimmingCharacters(in: .whitespaces).isEmpty {
                return Self.page(BoardPage.signIn(message: "请输入令牌 Enter a dispatcher's token."), status: .unauthorized)
            }
            do {
                let id = try await Offload.run { try service.startBoardSession(token: token) }
                return Self.redirect(to: "/board", setting: Self.cookie(id, request))
            } catch let error as ServiceError {
                if error.status >= 500 { throw error }
                return Self.page(
                    BoardPage.signIn(message: "登录失败 Not signed in: \(error.body.message)"),
                    status: HTTPResponse.Status(code: error.status))
            }
        }
        router.post("board/logout") { request, _ in
            if let id = Self.sessionId(request) { try await Offload.run { try service.endBoardSession(id) } }
            return Self.redirect(to: "/board/login", setting: Self.endedCookie(request))
        }
    }

    /// A header name (HTTPTypes' `HTTPField.Name`, which Hummingbird does not re-export).
    private typealias FieldName = HTTPFields.Element.Name

    /// The posted sign-in form.
    private struct SignInForm: Decodable {
        var token: String
    }

    /// The session id the browser sent, if any.
    static func sessionId(_ request: Request) -> String? {
        guard let value = request.cookies[cookieName]?.value, !value.isEmpty else { return nil }
        return value
    }

    /// The cookie of a new session: scripts cannot read it, other sites never send it.
    static func cookie(_ id: String, _ request: Request) -> Cookie {
        Cookie(
            name: cookieName, value: id, maxAge: SyncService.boardSessionSeconds, path: "/",
            secure: cameOverTLS(request), httpOnly: true, sameSite: .strict)
    }

    /// A cookie that makes the browser forget the session.
    static func endedCookie(_ request: Request) -> Cookie {
        Cookie(
            name: cookieName, value: "", maxAge: 0, path: "/", secure: cameOverTLS(request), httpOnly: true,
            sameSite: .strict)
    }

    /// Whether the browser reached us over HTTPS through a TLS-terminating proxy.
    static func cameOverTLS(_ request: Request) -> Bool {
        guard let name = FieldName("X-Forwarded-Proto"), let value = request.headers[name] else { return false }
        // A chain of proxies lists one scheme each; the first is the browser's.
        let first = value.split(separator: ",").first.map(String.init) ?? ""
        return first.trimmingCharacters(in: .whitespaces).lowercased() == "https"
    }

    // MARK: - Answers

    /// An HTML page that is neither cached nor named in a `Referer` header.
    static func page(_ html: String, status: HTTPResponse.Status) -> Response {
        var headers = privateHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// 303 See Other to `location`, optionally setting a cookie.
    static func redirect(to location: String, setting cookie: Cookie? = nil) -> Response {
        var headers = privateHeaders
        headers[.location] = location
        var response = Response(status: .seeOther, headers: headers)
        if let cookie { response.setCookie(cookie) }
        return response
    }

    /// `Cache-Control: no-store` and `Referrer-Policy: no-referrer`.
    private static var privateHeaders: HTTPFields {
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        if let referrerPolicy = FieldName("Referrer-Policy") { headers[referrerPolicy] = "no-referrer" }
        return headers
    }
}
