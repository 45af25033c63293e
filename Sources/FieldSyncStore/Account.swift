import FieldSyncCore

/// Who this store belongs to and where it syncs: saved by `fieldsync login`.
public struct Account: Codable, Sendable, Equatable {
    public var server: String
    public var user: String
    public var role: Role
    public var token: String
    /// Chosen once per store; with the outbox sequence it makes pushes exactly-once.
    public var deviceId: String

    public init(server: String, user: String, role: Role, token: String, deviceId: String) {
        self.server = server
        self.user = user
        self.role = role
        self.token = token
        self.deviceId = deviceId
    }
}

/// One intent of the outbox, as `fieldsync pending` shows it.
public struct OutboxEntry: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Waiting to be pushed.
        case pending
        /// Refused by the server; kept so nothing the technician typed disappears.
        case rejected
    }

    public var intent: Intent
    public var state: State
    public var rejection: Rejection?
}
