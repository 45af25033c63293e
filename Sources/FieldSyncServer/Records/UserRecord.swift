import GRDB

/// A row of `users`: a person and the SHA-256 of their bearer token (never the token).
struct UserRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "users"

    var name: String
    var role: String
    var tokenSHA256: String
    var createdAt: Int64

    enum CodingKeys: String, CodingKey {
        case name, role
        case tokenSHA256 = "token_sha256"
        case createdAt = "created_at"
    }

    enum Columns {
        static let name = Column(CodingKeys.name)
        static let tokenSHA256 = Column(CodingKeys.tokenSHA256)
    }
}
