import FieldSyncCore

/// An error the sync service answers with: an HTTP status and the JSON body the client
/// shows, plus the underlying cause for the server log.
///
/// Every refusal of a whole request is one of these, thrown before anything is written
/// (or from inside the write transaction, which then rolls back), so a refused request
/// leaves the database as it was.
public struct ServiceError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status code, e.g. 400, 401, 403, 404, 409, 413, 500.
    public var status: Int
    /// The stable machine code and the human message.
    public var body: APIErrorBody
    /// What failed underneath (database, encoding); logged, never sent to the client.
    public var cause: (any Error)?

    /// Creates an error with a status, a stable code and a message that says what to do.
    public init(status: Int, error: String, message: String, cause: (any Error)? = nil) {
        self.status = status
        self.body = APIErrorBody(error: error, message: message)
        self.cause = cause
    }

    /// The code and message, without user data beyond what the message names.
    public var description: String { "\(body.error): \(body.message)" }

    /// 400: the request itself is wrong; `code` says how.
    public static func badRequest(_ code: String, _ message: String) -> ServiceError {
        ServiceError(status: 400, error: code, message: message)
    }

    /// 401: no token or a token the server does not know.
    public static func unauthorized(_ message: String) -> ServiceError {
        ServiceError(status: 401, error: "unauthorized", message: message)
    }

    /// 403: the caller is known but may not do this.
    public static func forbidden(_ code: String, _ message: String) -> ServiceError {
        ServiceError(status: 403, error: code, message: message)
    }

    /// 404: the thing asked for does not exist.
    public static func notFound(_ code: String, _ message: String) -> ServiceError {
        ServiceError(status: 404, error: code, message: message)
    }

    /// 409: the request contradicts what the server holds.
    public static func conflict(_ code: String, _ message: String) -> ServiceError {
        ServiceError(status: 409, error: code, message: message)
    }

    /// 500: the server failed; the cause goes to the log, not to the client.
    public static func internalError(_ cause: any Error) -> ServiceError {
        ServiceError(
            status: 500, error: "internal",
            message: "the server could not complete the request; try again later, and tell the administrator if it persists (details are in the server log)",
            cause: cause)
    }

    /// Only dispatchers may call this.
    static func dispatcherOnly(_ what: String) -> ServiceError {
        .forbidden("dispatcher_only", "\(what) is for dispatchers: log in with a dispatcher's token")
    }
}
