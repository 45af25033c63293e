import GRDB

/// A row of `orders`: the fold of an order's events, with the columns pulls and the
/// board select on. `version` is the `seq` of the order's latest event.
struct OrderRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "orders"

    var id: String
    var assignee: String?
    var status: String
    var urgency: Int
    var version: Int64
    /// JSON of `WorkOrder`.
    var state: String
    var updatedAt: Int64

    enum CodingKeys: String, CodingKey {
        case id, assignee, status, urgency, version, state
        case updatedAt = "updated_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let assignee = Column(CodingKeys.assignee)
        static let version = Column(CodingKeys.version)
    }
}
