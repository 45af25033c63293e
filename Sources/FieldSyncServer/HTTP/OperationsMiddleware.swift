import Foundation
import Hummingbird
import Logging

/// The outermost middleware: gives every request an id (echoed in `X-Request-Id`), writes
/// exactly one log line when it is answered, and counts it in ``ServerMetrics``.
///
/// The line carries `request`, `method`, `route` (the matched pattern), `status`, `ms`,
/// `user` once a route authenticated the caller, and what the route added to
/// ``RequestFacts`` (a push's `device` and `intents`, a server error's `error`). It is at
/// `info`, or `error` for a 5xx answer.
struct OperationsMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger
    let metrics: ServerMetrics
    let clock = ContinuousClock()

    /// `X-Request-Id` as a field name (HTTPTypes' `HTTPField.Name`, which Hummingbird does
    /// not re-export).
    static var requestIdField: HTTPFields.Element.Name {
        // A valid token, so the initialiser cannot fail.
        HTTPFields.Element.Name(RequestID.header) ?? .via
    }

    func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = clock.now
        let facts = RequestFacts(id: RequestID.take(request.headers[Self.requestIdField]))
        metrics.requestStarted()
        var status = 500
        defer {
            let elapsed = start.duration(to: clock.now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let route = Self.route(context.endpointPath)
            metrics.requestFinished(route: route, method: request.method.rawValue, status: status, seconds: seconds)
            var metadata: Logger.Metadata = facts.metadata
            metadata["request"] = .string(facts.id)
            metadata["method"] = .string(request.method.rawValue)
            metadata["route"] = .string(route)
            metadata["status"] = .stringConvertible(status)
            metadata["ms"] = .stringConvertible((seconds * 10_000).rounded() / 10)
            if let user = facts.user { metadata["user"] = .string(user) }
            logger.log(level: status >= 500 ? .error : .info, "request", metadata: metadata)
        }
        var response = try await RequestFacts.$current.withValue(facts) {
            do {
                return try await next(request, context)
            } catch let error as any HTTPResponseError {
                // Only when an inner middleware let it through; APIErrorMiddleware answers the rest.
                status = Int(error.status.code)
                throw error
            }
        }
        status = Int(response.status.code)
        response.headers[Self.requestIdField] = facts.id
        return response
    }

    /// The route label: the matched pattern, or `unmatched` when no route served the path
    /// (never the raw path, which would make a series per order id).
    static func route(_ endpointPath: String?) -> String {
        guard let endpointPath, endpointPath != "NotFound" else { return "unmatched" }
        return endpointPath
    }
}
