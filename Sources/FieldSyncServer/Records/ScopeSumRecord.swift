import FieldSyncCore
import GRDB

/// A row of `scope_sums`: the additive checksum of one scope — a technician's orders, or
/// `"*"` for all orders (dispatchers) — kept up to date on every order change.
///
/// The UInt64 sum is stored as `Int64(bitPattern:)`; arithmetic wraps in Swift, never in
/// SQL (SQLite turns an overflowing integer sum into a float).
struct ScopeSumRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "scope_sums"

    /// The scope that holds every order.
    static let allOrders = "*"

    var principal: String
    var sum: Int64

    /// The checksum of `principal`'s scope (0 for an empty scope).
    static func checksum(of principal: String, _ db: Database) throws -> UInt64 {
        let sum = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT sum FROM scope_sums WHERE principal = ?"), arguments: [principal])
        return UInt64(bitPattern: sum ?? 0)
    }

    /// Adds (or with `subtract`, removes) an order's term to the scope of `principal`.
    static func adjust(
        _ principal: String, term: UInt64, subtract: Bool, _ db: Database
    ) throws {
        let old = try checksum(of: principal, db)
        let new = subtract ? old &- term : old &+ term
        try db.cachedStatement(sql: """
            INSERT INTO scope_sums (principal, sum) VALUES (?, ?)
            ON CONFLICT(principal) DO UPDATE SET sum = excluded.sum
            """
        ).execute(arguments: [principal, Int64(bitPattern: new)])
    }
}
