import Foundation
import Logging

/// What the routes learn about the request being served — who sent it, what it carried —
/// gathered for the one log line ``OperationsMiddleware`` writes when it is answered.
///
/// The middleware opens it as a task local around the rest of the chain, so a route adds
/// to it without the request context changing type:
///
/// ```swift
/// RequestFacts.current?.add(["device": .string(push.deviceId)])
/// ```
final class RequestFacts: @unchecked Sendable {
    /// The facts of the request this task serves, or nil outside a request.
    @TaskLocal static var current: RequestFacts?

    /// The request id (`X-Request-Id`).
    let id: String
    private let lock = NSLock()
    private var _user: String?
    private var _metadata: Logger.Metadata = [:]

    init(id: String) {
        self.id = id
    }

    /// The authenticated user's name, once a route knows it.
    var user: String? {
        get { lock.lock(); defer { lock.unlock() }; return _user }
        set { lock.lock(); _user = newValue; lock.unlock() }
    }

    /// Extra metadata for the request's line (a later value for a key replaces an earlier one).
    var metadata: Logger.Metadata {
        lock.lock()
        defer { lock.unlock() }
        return _metadata
    }

    func add(_ metadata: Logger.Metadata) {
        lock.lock()
        _metadata.merge(metadata) { _, new in new }
        lock.unlock()
    }
}
