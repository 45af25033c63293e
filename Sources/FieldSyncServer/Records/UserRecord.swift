import GRDB

/// A row of `users`: a person and the SHA-256 of their bearer token (never the token),
/// and since migration "v2-users" when an administrator disabled the account.
struct UserRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "users"

    var name: String
    var role: String
    var tokenSHA256: String
    var createdAt: Int64
    /// When the account was disabled (ms since 1970); nil while it may sync.
    var disabledAt: Int64? = nil

    enum CodingKeys: String, CodingKey {
        case name, role
        case tokenSHA256 = "token_sha256"
        case createdAt = "created_at"
        case disabledAt = "disabled_at"
    }

    enum Columns {
        static let name = Column(CodingKeys.name)
        static let role = Column(CodingKeys.role)
        static let tokenSHA256 = Column(CodingKeys.tokenSHA256)
        static let disabledAt = Column(CodingKeys.disabledAt)
    }
}
