import GRDB

/// A row of `devices`: who owns a device id, the next sequence number expected from it,
/// and the greatest timestamp accepted from it (JSON of `HLC`).
struct DeviceRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "devices"

    var deviceId: String
    var owner: String
    var nextSeq: Int64
    var lastHLC: String?
    /// A short number, unique on this server, given when the device registers at login;
    /// generated order ids carry it (`WO-261123-7-0042`), so two desks never make the same id.
    var number: Int64?

    enum CodingKeys: String, CodingKey {
        case deviceId = "device_id"
        case owner
        case nextSeq = "next_seq"
        case lastHLC = "last_hlc"
        case number
    }
}
