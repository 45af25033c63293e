/// A row of `board_sessions`: a dispatcher signed in to the board page. Only the SHA-256
/// of the session id (the cookie) is kept.
struct BoardSessionRecord {
    var idSHA256: String
    var user: String
    var createdAt: Int64
    var expiresAt: Int64

    init(idSHA256: String, user: String, createdAt: Int64, expiresAt: Int64) {
        self.idSHA256 = idSHA256
        self.user = user
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    init(row: SQLRow) throws {
        idSHA256 = try row["id_sha256"]
        user = try row["user"]
        createdAt = try row["created_at"]
        expiresAt = try row["expires_at"]
    }

    func insert(_ db: any SQLSession) throws {
        try db.execute(
            #"INSERT INTO board_sessions (id_sha256, "user", created_at, expires_at) VALUES (?, ?, ?, ?)"#,
            [idSHA256, user, createdAt, expiresAt])
    }
}
