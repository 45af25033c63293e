import GRDB

/// A row of `events`: one accepted intent as stored (JSON of `Intent`). `seq` numbers
/// every accepted change on the server, in commit order.
struct EventRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "events"

    var seq: Int64?
    var opId: String
    var orderId: String
    var deviceId: String
    var deviceSeq: Int64
    var body: String

    enum CodingKeys: String, CodingKey {
        case seq
        case opId = "op_id"
        case orderId = "order_id"
        case deviceId = "device_id"
        case deviceSeq = "device_seq"
        case body
    }

    enum Columns {
        static let seq = Column(CodingKeys.seq)
        static let opId = Column(CodingKeys.opId)
        static let orderId = Column(CodingKeys.orderId)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        seq = inserted.rowID
    }
}
