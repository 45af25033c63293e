import GRDB

/// A row of `revocations`: the order left a scope at position `seq` — a technician's
/// (reassigned, or archived) or, as `"*"`, the all-orders scope of dispatchers (archived).
/// `enteredSeq` is where the membership it ends began: only a device whose cursor had
/// reached it holds the order and needs to hear that it left.
struct RevocationRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "revocations"

    enum Reason: String, Codable {
        case reassigned, archived
    }

    var technician: String
    var orderId: String
    var seq: Int64
    var enteredSeq: Int64
    var reason: Reason

    enum CodingKeys: String, CodingKey {
        case technician
        case orderId = "order_id"
        case seq
        case enteredSeq = "entered_seq"
        case reason
    }
}
