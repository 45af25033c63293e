import FieldSyncCore

/// A row of `conflicts`: a conflict record (JSON of `Conflict`) and its review.
struct ConflictRow {
    var id: String
    var orderId: String
    var body: String
    var createdAt: Int64
    var resolvedBy: String?
    var resolution: String?
    var resolvedAt: Int64?

    init(row: SQLRow) throws {
        id = try row["id"]
        orderId = try row["order_id"]
        body = try row["body"]
        createdAt = try row["created_at"]
        resolvedBy = try row["resolved_by"]
        resolution = try row["resolution"]
        resolvedAt = try row["resolved_at"]
    }

    static func find(_ id: String, _ db: any SQLSession) throws -> ConflictRow? {
        try db.row("SELECT * FROM conflicts WHERE id = ?", [id]).map(ConflictRow.init(row:))
    }

    /// Writes the review columns.
    func updateReview(_ db: any SQLSession) throws {
        try db.execute(
            "UPDATE conflicts SET resolved_by = ?, resolution = ?, resolved_at = ? WHERE id = ?",
            [resolvedBy, resolution, resolvedAt, id])
    }

    /// The wire form, with its review.
    func record() throws -> ConflictRecord {
        ConflictRecord(
            conflict: try StoredJSON.decode(Conflict.self, from: body),
            resolvedBy: resolvedBy, resolution: resolution, resolvedAt: resolvedAt)
    }
}
