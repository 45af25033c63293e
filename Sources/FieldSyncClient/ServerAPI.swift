import FieldSyncCore
import FieldSyncHTTP
import Foundation

/// The server's HTTP API as the CLI uses it, over one reused libcurl connection.
public final class ServerAPI: SyncTransport {
    public let http: HTTPClient
    public let token: String

    /// - Throws: ``SyncError`` when `server` is not a usable URL.
    public init(server: String, token: String, options: HTTPClient.Options = .init()) throws {
        do {
            http = try HTTPClient(baseURL: server, options: options)
        } catch {
            throw SyncError.invalidServer("\(error)")
        }
        self.token = token
    }

    public func push(_ request: PushRequest) throws -> PushResponse {
        try call("POST", "/v1/sync/push", body: try Self.encoder.encode(request))
    }

    /// One pull page; an order the device holds comes as the events after `cursor` only.
    public func pull(cursor: Int64, limit: Int) throws -> PullResponse {
        let response = try send(
            "GET", "/v1/sync/pull", query: [("cursor", String(cursor)), ("limit", String(limit)), ("delta", "1")])
        // The page's own reader first (a tenth of JSONDecoder's time); whatever it is not
        // sure of goes to JSONDecoder, which then decides.
        if (200..<300).contains(response.status), let page = PullPageDecoder.decode(response.body) {
            return page
        }
        var page: PullResponse = try decode(response)
        // Each event's own text, for the store to keep as it came; a text that does not
        // name its event's op id is not trusted (the store then encodes the event).
        if let texts = PullPageText.eventTexts(in: response.body),
           texts.map(\.count) == page.orders.map(\.events.count),
           zip(texts, page.orders).allSatisfy({ texts, order in
               zip(texts, order.events).allSatisfy { $0.contains($1.opId) }
           })
        {
            page.eventTexts = texts
        }
        return page
    }

    public func recover(_ request: RecoverRequest) throws -> RecoverResponse {
        try call("POST", "/v1/sync/recover", body: try Self.encoder.encode(request))
    }

    /// Registers this device at login; the answer carries its short number.
    public func registerDevice(_ deviceId: String) throws -> DeviceInfo {
        try call("POST", "/v1/devices", body: try Self.encoder.encode(DeviceRegistration(deviceId: deviceId)))
    }

    /// Who the token belongs to: `fieldsync login` checks it before saving anything.
    public func me() throws -> Principal { try call("GET", "/v1/me") }

    /// One page of the board (`GET /v1/board`); nil or false leaves a filter out, and the
    /// server's defaults apply (100 rows, unfinished orders).
    public func board(
        includeFinished: Bool, status: String? = nil, crew: String? = nil, atRisk: Bool = false,
        overdue: Bool = false, limit: Int? = nil, after: String? = nil
    ) throws -> Board {
        var query: [(String, String)] = []
        if includeFinished { query.append(("all", "1")) }
        if let status { query.append(("status", status)) }
        if let crew { query.append(("crew", crew)) }
        if atRisk { query.append(("at_risk", "1")) }
        if overdue { query.append(("overdue", "1")) }
        if let limit { query.append(("limit", String(limit))) }
        if let after { query.append(("after", after)) }
        return try call("GET", "/v1/board", query: query)
    }

    /// The technicians orders can be assigned to (dispatchers only); with
    /// `includeDisabled`, disabled accounts too.
    public func technicians(includeDisabled: Bool = false) throws -> TechnicianList {
        try call("GET", "/v1/technicians", query: includeDisabled ? [("all", "1")] : [])
    }

    /// The conflict list, oldest first: whole, or (with `limit`) the newest `limit`
    /// recorded before the conflict `before`.
    public func conflicts(includeResolved: Bool, limit: Int? = nil, before: String? = nil) throws -> [ConflictRecord] {
        var query: [(String, String)] = includeResolved ? [("all", "1")] : []
        if let limit { query.append(("limit", String(limit))) }
        if let before { query.append(("before", before)) }
        return try call("GET", "/v1/conflicts", query: query)
    }

    public func resolve(conflict id: String, resolution: String) throws -> ConflictRecord {
        try call(
            "POST", "/v1/conflicts/\(Self.pathEscape(id))/resolve",
            body: try Self.encoder.encode(ResolveRequest(resolution: resolution)))
    }

    static let encoder = JSONEncoder()

    private func call<T: Decodable>(
        _ method: String, _ path: String, query: [(String, String)] = [], body: Data? = nil
    ) throws -> T {
        try decode(try send(method, path, query: query, body: body))
    }

    private func send(
        _ method: String, _ path: String, query: [(String, String)] = [], body: Data? = nil
    ) throws -> HTTPResponse {
        do {
            return try http.send(
                method: method, path: path, query: query,
                headers: [("Authorization", "Bearer \(token)")], body: body.map { Array($0) })
        } catch {
            throw Self.syncError(error, server: http.baseURL)
        }
    }

    private func decode<T: Decodable>(_ response: HTTPResponse) throws -> T {
        let data = Data(response.body)
        guard (200..<300).contains(response.status) else {
            let body = (try? JSONDecoder().decode(APIErrorBody.self, from: data))
                ?? APIErrorBody(error: "http_\(response.status)", message: String(decoding: data.prefix(200), as: UTF8.self))
            throw SyncError.server(status: response.status, error: body)
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw SyncError.badResponse("\(error)")
        }
    }

    private static func syncError(_ error: HTTPError, server: String) -> SyncError {
        switch error {
        case .unreachable(let detail), .timedOut(let detail):
            return .offline("cannot reach the server at \(server) (\(detail))")
        default:
            return .badResponse("\(error)")
        }
    }

    private static func pathEscape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? s
    }
}
