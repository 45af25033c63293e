import FieldSyncCore

/// The central server's logic, without HTTP: authentication, exactly-once push, cursor
/// pull, and the dispatcher's views. Synchronous so tests (and the client team's property
/// tests) drive it in-process; the HTTP routes are a thin layer over it.
///
/// It keeps no state another server instance would need: everything lives in the
/// database, and the clock comes in as `now`.
public final class SyncService: Sendable {
    /// The store every call reads and writes: SQLite or PostgreSQL.
    public let database: any ServerStore
    /// Response deadlines the board measures against.
    public let policy: DeadlinePolicy
    /// How far (ms) a device time may stray before it is clamped.
    public let clockSkewToleranceMs: Int64
    /// The bounds device times are held to (sync-protocol.md §6).
    var clockBounds: ClockBounds { ClockBounds(toleranceMs: clockSkewToleranceMs) }
    /// Days a finished order stays in devices' scopes before it is archived (§3).
    public let retentionDays: Int
    /// The same in milliseconds (simulations set it directly, to archive within a run).
    let retentionMs: Int64
    let now: @Sendable () -> Int64
    let clock = ServerClock()
    /// Photos and signatures (``BlobStore``); when set, a sign-off waits for its evidence.
    public let blobs: BlobStore?

    /// Creates the service.
    ///
    /// - Parameters:
    ///   - retentionDays: how long a finished order stays on devices (default 30).
    ///   - now: the wall clock in milliseconds since 1970; tests pass a fixed value.
    public init(
        database: any ServerStore, policy: DeadlinePolicy = .standard,
        clockSkewToleranceMs: Int64 = 300_000, retentionDays: Int = SyncService.defaultRetentionDays,
        blobs: BlobStore? = nil, now: @escaping @Sendable () -> Int64
    ) {
        self.database = database
        self.blobs = blobs
        self.policy = policy
        self.clockSkewToleranceMs = clockSkewToleranceMs
        self.retentionDays = retentionDays
        retentionMs = Int64(retentionDays) * 86_400_000
        self.now = now
    }

    /// A service whose retention is `retentionMs` milliseconds: simulations archive
    /// orders within a run of simulated minutes.
    init(database: any ServerStore, retentionMs: Int64, now: @escaping @Sendable () -> Int64) {
        self.database = database
        policy = .standard
        clockSkewToleranceMs = 300_000
        retentionDays = Int(retentionMs / 86_400_000)
        self.retentionMs = retentionMs
        blobs = nil
        self.now = now
    }

    /// The retention of finished orders on devices when none is configured.
    public static let defaultRetentionDays = 30

    /// The user a bearer token belongs to.
    ///
    /// - Throws: 401 `unauthorized` for an empty or unknown token, or the token of a
    ///   disabled user.
    public func authenticate(token: String) throws(ServiceError) -> Principal {
        let token = token.trimmingWhitespace
        guard !token.isEmpty else {
            throw .unauthorized("no bearer token: run `fieldsync login` again, or ask your dispatcher for a token")
        }
        let digest = StoredJSON.sha256Hex(Array(token.utf8))
        let user = try inRead { db in
            try db.row("SELECT * FROM users WHERE token_sha256 = ?", [digest]).map(UserRecord.init(row:))
        }
        guard let user, let role = Role(rawValue: user.role) else {
            throw .unauthorized("unknown token: run `fieldsync login` again, or ask your dispatcher for a token")
        }
        if user.disabledAt != nil {
            throw .unauthorized("the account \(user.name) is disabled: ask the administrator to enable it (`fieldsync-server user enable \(user.name)`); work already sent is kept")
        }
        return Principal(name: user.name, role: role)
    }

    /// Adds a user and returns their new bearer token (64 hex characters).
    ///
    /// Only the token's SHA-256 is stored: the token is shown this once.
    ///
    /// - Throws: 400 `invalid_name` for a name that is not 1–64 letters, digits, `.`, `_`
    ///   or `-`; 409 `user_exists` when the name is taken.
    public func addUser(name: String, role: Role) throws -> String {
        guard Self.isValidName(name) else {
            throw ServiceError.badRequest(
                "invalid_name",
                "a user name is 1 to 64 letters, digits, '.', '_' or '-' (no spaces): pick another name")
        }
        var generator = SystemRandomNumberGenerator()
        let token = Hex.string((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        let record = UserRecord(
            name: name, role: role.rawValue, tokenSHA256: StoredJSON.sha256Hex(Array(token.utf8)),
            createdAt: now())
        try inWrite { db in
            if try db.row("SELECT 1 FROM users WHERE name = ?", [name]) != nil {
                throw ServiceError.conflict(
                    "user_exists", "user \(name) exists already: pick another name")
            }
            try record.insert(db)
        }
        return token
    }

    /// Whether `name` can name a user (and never collides with the all-orders scope `*`).
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.unicodeScalars.allSatisfy {
                ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
            }
    }

    /// Reads one row, for `/readyz`.
    /// - Throws: 503 `database_unavailable` when the database does not answer.
    public func checkDatabase() throws(ServiceError) {
        do {
            _ = try database.read { db in try db.value(Int64.self, "SELECT count(*) FROM users") }
        } catch {
            throw ServiceError(
                status: 503, error: "database_unavailable",
                message: "the server's database does not answer: the instance is up but cannot serve; check the database and the server log",
                cause: error)
        }
    }

    // MARK: - Transactions with typed errors

    func inWrite<T>(_ body: (any SQLSession) throws -> T) throws(ServiceError) -> T {
        do {
            return try database.write(body)
        } catch {
            throw Self.serviceError(error)
        }
    }

    func inRead<T>(_ body: (any SQLSession) throws -> T) throws(ServiceError) -> T {
        do {
            return try database.read(body)
        } catch {
            throw Self.serviceError(error)
        }
    }

    /// A storage failure as the request's answer: 503 when the database does not answer
    /// (the request may be sent again), 500 otherwise.
    static func serviceError(_ error: any Error) -> ServiceError {
        if let error = error as? ServiceError { return error }
        if let storage = error as? StorageError, storage.code == .unavailable {
            return ServiceError(
                status: 503, error: "database_unavailable",
                message: "the server's database does not answer (\(storage.message)): nothing was changed; send the request again later",
                cause: error)
        }
        return .internalError(error)
    }
}
