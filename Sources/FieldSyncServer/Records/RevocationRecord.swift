import GRDB

/// A row of `revocations`: the order left the technician's scope with event `seq`.
struct RevocationRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "revocations"

    var technician: String
    var orderId: String
    var seq: Int64

    enum CodingKeys: String, CodingKey {
        case technician
        case orderId = "order_id"
        case seq
    }
}
