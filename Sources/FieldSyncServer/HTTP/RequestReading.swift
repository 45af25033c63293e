import FieldSyncCore
import Foundation
import Hummingbird

/// Reading what a request carries: the bearer token, a bounded JSON body, query flags.
enum RequestReading {
    /// The token of an `Authorization: Bearer …` header, or nil.
    static func bearerToken(_ request: Request) -> String? {
        guard let value = request.headers[.authorization] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1])
    }

    /// The caller, from the bearer token (a database read, off the event loop); named on
    /// the request's log line.
    static func principal(_ request: Request, _ service: SyncService) async throws -> Principal {
        let token = bearerToken(request) ?? ""
        let principal = try await Offload.run { try service.authenticate(token: token) }
        RequestFacts.current?.user = principal.name
        return principal
    }

    /// Collects at most `limit` bytes and decodes them as `T`.
    ///
    /// - Throws: 413 `body_too_large`; 400 `unknown_intent_kind` for an action this build
    ///   does not know; 400 `malformed_body` naming the field that did not decode.
    ///
    /// `fast` (a ``JSONReader`` of Core) reads the body first; when it does not take it,
    /// `JSONDecoder` reads it, and gives the value or the error a client sees.
    static func decodeBody<T: Decodable>(
        _ type: T.Type, from request: Request, limit: Int, fast: (([UInt8]) throws -> T)? = nil
    ) async throws -> T {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw ServiceError.bodyTooLarge
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw ServiceError.bodyTooLarge
        }
        if let fast, let value = try? fast(Array(buffer.readableBytesView)) { return value }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as UnknownIntentKind {
            throw ServiceError.badRequest(
                "unknown_intent_kind", "\(error.description): update fieldsync on the server or the device")
        } catch {
            throw ServiceError.badRequest(
                "malformed_body", "the body is not a valid \(T.self): \(DecodingErrorText.describe(error))")
        }
    }

    /// Whether a flag such as `?all=1` is on (`1`, `true`, `yes`).
    static func flag(_ name: String, _ request: Request) -> Bool {
        guard let value = request.uri.queryParameters[name[...]] else { return false }
        return ["1", "true", "yes"].contains(value.lowercased())
    }

    /// An optional integer query parameter; nil when absent, throws `code` when not a number.
    static func integer(_ name: String, _ request: Request, code: String) throws(ServiceError) -> Int64? {
        guard let value = request.uri.queryParameters[name[...]] else { return nil }
        guard let number = Int64(value) else {
            throw .badRequest(code, "\(name) must be a whole number, not '\(value)'")
        }
        return number
    }

    /// The board's query parameters: `all`, `status`, `crew`, `at_risk`, `overdue`,
    /// `limit` (default 100, clamped to 1–500) and `after`.
    ///
    /// - Throws: 400 `bad_status` for a status that does not exist, `bad_limit` for a
    ///   limit that is not a number.
    static func boardQuery(_ request: Request, limit defaultLimit: Int = BoardQuery.defaultLimit) throws(ServiceError) -> BoardQuery {
        let parameters = request.uri.queryParameters
        var status: OrderStatus?
        if let text = parameters["status"], !text.isEmpty {
            guard let parsed = OrderStatus(rawValue: String(text)) else {
                throw .badRequest(
                    "bad_status",
                    "status must be one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
            }
            status = parsed
        }
        let crew = parameters["crew"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let limit = try integer("limit", request, code: "bad_limit").map { Int(clamping: $0) } ?? defaultLimit
        let after = parameters["after"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        return BoardQuery(
            includeFinished: flag("all", request), status: status, crew: crew,
            atRisk: flag("at_risk", request), overdue: flag("overdue", request), limit: limit, after: after)
    }

    /// The conflict list's paging (`limit`, `before`); nil when neither is given (the
    /// whole list, as before paging existed).
    ///
    /// - Throws: 400 `bad_limit` for a limit that is not a number.
    static func conflictPage(_ request: Request) throws(ServiceError) -> ConflictPage? {
        let limit = try integer("limit", request, code: "bad_limit").map { Int(clamping: $0) }
        let before = request.uri.queryParameters["before"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        guard limit != nil || before != nil else { return nil }
        return ConflictPage(limit: limit ?? ConflictPage.defaultLimit, before: before)
    }
}
