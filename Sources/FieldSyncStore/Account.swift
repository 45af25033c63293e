import FieldSyncCore

/// Who this store belongs to and where it syncs: saved by `fieldsync login`.
public struct Account: Codable, Sendable, Equatable {
    public var server: String
    public var user: String
    public var role: Role
    public var token: String
    /// Chosen once per store; with the outbox sequence it makes pushes exactly-once.
    public var deviceId: String
    /// The short number the server gave this device at login (unique on that server);
    /// generated order ids carry it. Nil in accounts saved before it existed.
    public var deviceNumber: Int64?

    public init(
        server: String, user: String, role: Role, token: String, deviceId: String,
        deviceNumber: Int64? = nil
    ) {
        self.server = server
        self.user = user
        self.role = role
        self.token = token
        self.deviceId = deviceId
        self.deviceNumber = deviceNumber
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
