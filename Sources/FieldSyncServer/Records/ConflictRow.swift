import FieldSyncCore
import GRDB

/// A row of `conflicts`: a conflict record (JSON of `Conflict`) and its review.
struct ConflictRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "conflicts"

    var id: String
    var orderId: String
    var body: String
    var createdAt: Int64
    var resolvedBy: String?
    var resolution: String?
    var resolvedAt: Int64?

    enum CodingKeys: String, CodingKey {
        case id
        case orderId = "order_id"
        case body
        case createdAt = "created_at"
        case resolvedBy = "resolved_by"
        case resolution
        case resolvedAt = "resolved_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let createdAt = Column(CodingKeys.createdAt)
        static let resolvedAt = Column(CodingKeys.resolvedAt)
    }

    /// The record as the API shows it.
    func record() throws -> ConflictRecord {
        ConflictRecord(
            conflict: try StoredJSON.decode(Conflict.self, from: body),
            resolvedBy: resolvedBy, resolution: resolution, resolvedAt: resolvedAt)
    }
}
