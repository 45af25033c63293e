import FieldSyncCore
import Hummingbird
import Logging

/// Turns every error a route throws into an `APIErrorBody` JSON answer with a precise
/// status, and puts a server failure's cause on the request's log line.
///
/// Hummingbird's own errors (no such route, body too large) get a stable code too, so a
/// client never has to parse an empty or plain-text error.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServiceError {
            return try answer(error, request)
        } catch let error as APIError {
            return try answer(error.error, request)
        } catch let error as any HTTPResponseError {
            return try answer(Self.serviceError(for: error), request)
        } catch {
            return try answer(.internalError(error), request)
        }
    }

    private func answer(_ error: ServiceError, _ request: Request) throws -> Response {
        if error.status >= 500 {
            let cause = Logger.MetadataValue.string(error.cause.map { String(describing: $0) } ?? error.description)
            if let facts = RequestFacts.current {
                // On the request's one line (OperationsMiddleware writes it at `error`).
                facts.add(["error": cause])
            } else {
                logger.error("request failed", metadata: ["path": .string(request.uri.path), "error": cause])
            }
        }
        return try JSONResponse.make(error.body, status: HTTPResponse.Status(code: error.status))
    }

    /// Codes for errors Hummingbird raises before a route runs.
    static func serviceError(for error: any HTTPResponseError) -> ServiceError {
        switch error.status.code {
        case 404:
            ServiceError.notFound("not_found", "no such endpoint: check the server address and the client version")
        case 405:
            ServiceError(status: 405, error: "method_not_allowed", message: "this endpoint does not take that method")
        case 413:
            ServiceError.bodyTooLarge
        default:
            ServiceError(
                status: error.status.code, error: "http_\(error.status.code)",
                message: error.status.reasonPhrase)
        }
    }
}

extension ServiceError {
    /// 413: a push body over ``PushRequest/maxBytes``.
    static var bodyTooLarge: ServiceError {
        ServiceError(
            status: 413, error: "body_too_large",
            message: "the request body is larger than \(PushRequest.maxBytes) bytes: push fewer intents per request")
    }
}
