/// A row of `users`: a person who may sync, with their role and the SHA-256 of their
/// bearer token (the token itself is never stored).
struct UserRecord: Equatable {
    var name: String
    var role: String
    var tokenSHA256: String
    var createdAt: Int64
    var disabledAt: Int64? = nil

    init(name: String, role: String, tokenSHA256: String, createdAt: Int64, disabledAt: Int64? = nil) {
        self.name = name
        self.role = role
        self.tokenSHA256 = tokenSHA256
        self.createdAt = createdAt
        self.disabledAt = disabledAt
    }

    init(row: SQLRow) throws {
        name = try row["name"]
        role = try row["role"]
        tokenSHA256 = try row["token_sha256"]
        createdAt = try row["created_at"]
        disabledAt = try row["disabled_at"]
    }

    static func named(_ name: String, _ db: any SQLSession) throws -> UserRecord? {
        try db.row("SELECT * FROM users WHERE name = ?", [name]).map(UserRecord.init(row:))
    }

    func insert(_ db: any SQLSession) throws {
        try db.execute(
            "INSERT INTO users (name, role, token_sha256, created_at, disabled_at) VALUES (?, ?, ?, ?, ?)",
            [name, role, tokenSHA256, createdAt, disabledAt])
    }

    func update(_ db: any SQLSession) throws {
        try db.execute(
            "UPDATE users SET role = ?, token_sha256 = ?, created_at = ?, disabled_at = ? WHERE name = ?",
            [role, tokenSHA256, createdAt, disabledAt, name])
    }
}
