import FieldSyncCore

/// A user as `fieldsync-server user list` shows them: never the token or its digest.
public struct UserListing: Codable, Sendable, Equatable {
    public var name: String
    public var role: Role
    /// When the user was added (ms since 1970).
    public var createdAt: Int64
    /// When an administrator disabled the account; nil while it may sync.
    public var disabledAt: Int64?
}

extension SyncService {
    /// How long a board sign-in lasts, in seconds: one working shift (8 hours).
    static let boardSessionSeconds = 28_800

    // MARK: - Who orders may be assigned to

    /// The refusal of an `assign` whose technician is not an existing, enabled user with
    /// the technician role, or nil (also for every other action).
    ///
    /// Without it a typo becomes a crew of its own on the board, and `*` — the scope key
    /// of all orders in `scope_sums` — would corrupt the dispatchers' checksum. The message
    /// names the closest enabled technicians (``NameSuggestion``).
    func technicianRejection(
        for intent: Intent, known: (String) -> UserRecord?, _ db: any SQLSession
    ) throws -> Rejection? {
        guard case .assign(let name) = intent.action else { return nil }
        let user = known(name)
        if let user, user.role == Role.technician.rawValue, user.disabledAt == nil { return nil }
        let problem: String? =
            if let user, user.role != Role.technician.rawValue {
                "\(name) is a \(user.role), not a technician"
            } else if user != nil {
                "technician \(name) is disabled"
            } else {
                nil
            }
        return Rejection(
            .unknownTechnician,
            NameSuggestion.unknownTechnicianMessage(name, problem: problem, known: try assignableNames(db)))
    }

    /// The enabled technicians, by name.
    private func assignableNames(_ db: any SQLSession) throws -> [String] {
        try db.values(
            String.self, "SELECT name FROM users WHERE role = ? AND disabled_at IS NULL ORDER BY name",
            [Role.technician.rawValue])
    }

    /// The technicians a dispatcher may assign orders to (`GET /v1/technicians`), by name.
    ///
    /// - Parameter includeDisabled: list disabled accounts too (with `active` false).
    /// - Throws: 403 `dispatcher_only` for technicians.
    public func technicians(as principal: Principal, includeDisabled: Bool) throws(ServiceError) -> TechnicianList {
        guard principal.role == .dispatcher else { throw .dispatcherOnly("the list of technicians") }
        let users = try inRead { db in
            try db.rows("SELECT * FROM users WHERE role = ? ORDER BY name", [Role.technician.rawValue])
                .map(UserRecord.init(row:))
        }
        return TechnicianList(technicians: users
            .filter { includeDisabled || $0.disabledAt == nil }
            .map { Technician(name: $0.name, active: $0.disabledAt == nil) })
    }

    // MARK: - Administration (`fieldsync-server user …`)

    /// Every user, by name.
    public func users() throws(ServiceError) -> [UserListing] {
        let records = try inRead { db in try db.rows("SELECT * FROM users ORDER BY name").map(UserRecord.init(row:)) }
        return records.map {
            UserListing(
                name: $0.name, role: Role(rawValue: $0.role) ?? .technician, createdAt: $0.createdAt,
                disabledAt: $0.disabledAt)
        }
    }

    /// Disables (or, with `enabled`, enables again) a user's account.
    ///
    /// A disabled user's token and board sessions stop working at once (401), and orders
    /// can no longer be assigned to them; every event they already pushed stays. Disabling
    /// ends their board sessions, so enabling again does not revive them. Disabling a
    /// disabled user keeps the first time.
    ///
    /// - Returns: the user as they now stand.
    /// - Throws: 404 `unknown_user` naming the closest user names.
    @discardableResult
    public func setUser(_ name: String, enabled: Bool) throws(ServiceError) -> UserListing {
        let now = self.now()
        let record = try inWrite { db in
            var user = try self.user(named: name, db)
            user.disabledAt = enabled ? nil : (user.disabledAt ?? now)
            try user.update(db)
            if !enabled {
                try db.execute(#"DELETE FROM board_sessions WHERE "user" = ?"#, [name])
            }
            return user
        }
        return UserListing(
            name: record.name, role: Role(rawValue: record.role) ?? .technician, createdAt: record.createdAt,
            disabledAt: record.disabledAt)
    }

    /// Gives a user a new bearer token and returns it (64 hex characters, shown this once).
    ///
    /// The old token stops working at once and the user's board sessions end: this is
    /// what to do when a phone is lost or a token was seen by someone else.
    ///
    /// - Throws: 404 `unknown_user` naming the closest user names.
    public func replaceToken(of name: String) throws(ServiceError) -> String {
        let token = Self.randomSecret()
        try inWrite { db in
            var user = try self.user(named: name, db)
            user.tokenSHA256 = StoredJSON.sha256Hex(Array(token.utf8))
            try user.update(db)
            try db.execute(#"DELETE FROM board_sessions WHERE "user" = ?"#, [name])
        }
        return token
    }

    /// The user called `name`, or 404 `unknown_user` with the closest names.
    private func user(named name: String, _ db: any SQLSession) throws -> UserRecord {
        if let user = try UserRecord.named(name, db) { return user }
        let known = try db.values(String.self, "SELECT name FROM users")
        let suggestions = NameSuggestion.closest(to: name, among: known)
        let list = "the users with `fieldsync-server user list`"
        throw ServiceError.notFound(
            "unknown_user",
            suggestions.isEmpty
                ? "no user '\(name)': list \(list)"
                : "no user '\(name)': did you mean \(suggestions.joined(separator: ", "))? List \(list)")
    }

    // MARK: - Board sessions (see `BoardSession`)

    /// Signs a dispatcher in to the board page and returns the new session id for the
    /// cookie (64 hex characters). Only its SHA-256 is stored. Expired sessions of
    /// everyone are deleted on the way.
    ///
    /// - Throws: 401 `unauthorized` for an unknown token or a disabled user; 403
    ///   `dispatcher_only` for a technician's token.
    func startBoardSession(token: String) throws(ServiceError) -> String {
        let principal = try authenticate(token: token)
        guard principal.role == .dispatcher else { throw .dispatcherOnly("the board") }
        let id = Self.randomSecret()
        let now = self.now()
        let record = BoardSessionRecord(
            idSHA256: StoredJSON.sha256Hex(Array(id.utf8)), user: principal.name, createdAt: now,
            expiresAt: now + Int64(Self.boardSessionSeconds) * 1000)
        try inWrite { db in
            try db.execute("DELETE FROM board_sessions WHERE expires_at <= ?", [now])
            try record.insert(db)
        }
        return id
    }

    /// The dispatcher a board session belongs to.
    ///
    /// An expired session is deleted when it is met.
    ///
    /// - Throws: 401 `unauthorized` for an unknown, ended or expired session, or one of a
    ///   user who was disabled since.
    func boardPrincipal(session id: String) throws(ServiceError) -> Principal {
        let digest = StoredJSON.sha256Hex(Array(id.utf8))
        let now = self.now()
        let found = try inRead { db -> (BoardSessionRecord, UserRecord?)? in
            guard let session = try db.row("SELECT * FROM board_sessions WHERE id_sha256 = ?", [digest])
                .map(BoardSessionRecord.init(row:))
            else { return nil }
            return (session, try UserRecord.named(session.user, db))
        }
        guard let (session, user) = found else {
            throw .unauthorized("no such board session: sign in again at /board/login")
        }
        if session.expiresAt <= now {
            try endBoardSession(id)
            throw .unauthorized("the board session expired after 8 hours: sign in again at /board/login")
        }
        guard let user, user.disabledAt == nil, user.role == Role.dispatcher.rawValue else {
            throw .unauthorized("the account of this board session is disabled: ask the administrator")
        }
        return Principal(name: user.name, role: .dispatcher)
    }

    /// Ends a board session (signing out); an unknown id is no error.
    func endBoardSession(_ id: String) throws(ServiceError) {
        let digest = StoredJSON.sha256Hex(Array(id.utf8))
        try inWrite { db in try db.execute("DELETE FROM board_sessions WHERE id_sha256 = ?", [digest]) }
    }

    /// 32 random bytes from the system's secure generator, as 64 hex characters.
    static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.string((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}
