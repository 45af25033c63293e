/// A row of `devices`: one installation of the client, its owner, the next sequence
/// number its pushes must carry, and its short number (for order ids).
struct DeviceRecord {
    var deviceId: String
    var owner: String
    var nextSeq: Int64
    var lastHLC: String?
    var number: Int64?

    init(deviceId: String, owner: String, nextSeq: Int64, lastHLC: String?, number: Int64? = nil) {
        self.deviceId = deviceId
        self.owner = owner
        self.nextSeq = nextSeq
        self.lastHLC = lastHLC
        self.number = number
    }

    init(row: SQLRow) throws {
        deviceId = try row["device_id"]
        owner = try row["owner"]
        nextSeq = try row["next_seq"]
        lastHLC = try row["last_hlc"]
        number = try row["number"]
    }

    static func find(_ id: String, _ db: any SQLSession) throws -> DeviceRecord? {
        try db.row("SELECT * FROM devices WHERE device_id = ?", [id]).map(DeviceRecord.init(row:))
    }

    /// Inserts the row, or updates the one with its id.
    func save(_ db: any SQLSession) throws {
        try db.execute("""
            INSERT INTO devices (device_id, owner, next_seq, last_hlc, number) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (device_id) DO UPDATE SET owner = excluded.owner, next_seq = excluded.next_seq,
                last_hlc = excluded.last_hlc, number = excluded.number
            """, [deviceId, owner, nextSeq, lastHLC, number])
    }
}
