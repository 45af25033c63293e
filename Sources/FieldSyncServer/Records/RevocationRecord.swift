/// A row of `revocations`: an order left a scope (`technician`, or `*` for dispatchers)
/// at position `seq` — reassigned to someone else, or archived. `enteredSeq` is where
/// the membership it ends began: only a device whose cursor reached it held the order.
struct RevocationRecord {
    enum Reason: String {
        case reassigned, archived
    }

    var technician: String
    var orderId: String
    var seq: Int64
    var enteredSeq: Int64
    var reason: Reason

    func insert(_ db: any SQLSession) throws {
        try db.execute(
            "INSERT INTO revocations (technician, order_id, seq, entered_seq, reason) VALUES (?, ?, ?, ?, ?)",
            [technician, orderId, seq, enteredSeq, reason.rawValue])
    }
}
