import GRDB

/// A row of `board_sessions`: a dispatcher signed in to the board page in a browser.
///
/// Only the SHA-256 of the session id is stored, like the tokens of `users`: a copy of
/// the database does not sign anyone in.
struct BoardSessionRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "board_sessions"

    var idSHA256: String
    var user: String
    var createdAt: Int64
    var expiresAt: Int64

    enum CodingKeys: String, CodingKey {
        case user
        case idSHA256 = "id_sha256"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
    }

    enum Columns {
        static let user = Column(CodingKeys.user)
        static let expiresAt = Column(CodingKeys.expiresAt)
    }
}
