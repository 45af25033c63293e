import FieldSyncCore

/// `scope_sums`: the additive checksum of one scope — a technician's orders, or `"*"` for
/// all orders (dispatchers) — kept up to date on every order change.
///
/// The UInt64 sum is stored as `Int64(bitPattern:)`. It changes in one statement,
/// `fieldsync_wrap_add` (a + b modulo 2^64) on both engines: never read, changed in Swift
/// and written back, so concurrent writers on PostgreSQL cannot lose an update.
enum ScopeSumRecord {
    /// The scope that holds every order.
    static let allOrders = "*"

    /// The checksum of `principal`'s scope (0 for an empty scope).
    static func checksum(of principal: String, _ db: any SQLSession) throws -> UInt64 {
        let sum = try db.value(Int64.self, "SELECT sum FROM scope_sums WHERE principal = ?", [principal])
        return UInt64(bitPattern: sum ?? 0)
    }

    /// Adds (or with `subtract`, removes) `term` to the scope of `principal`.
    static func adjust(_ principal: String, term: UInt64, subtract: Bool, _ db: any SQLSession) throws {
        let delta = Int64(bitPattern: subtract ? 0 &- term : term)
        try db.execute("""
            INSERT INTO scope_sums (principal, sum) VALUES (?, ?)
            ON CONFLICT (principal) DO UPDATE SET sum = fieldsync_wrap_add(scope_sums.sum, excluded.sum)
            """, [principal, delta])
    }
}
