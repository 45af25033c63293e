/// The additive checksum of a scope: the sum, modulo 2^64, of a 64-bit hash of each
/// order's id and version (DESIGN.md §5).
///
/// Being a sum, it is kept up to date incrementally — subtract an order's old term, add
/// its new one — so verifying a scope costs no table scan on either side.
public enum ScopeChecksum {
    /// FNV-1a 64 of `id`, a zero byte, and the decimal version.
    public static func term(orderId: String, version: Int64) -> UInt64 {
        term(orderIdUTF8: orderId.utf8, version: version)
    }

    /// The same term from the id's UTF-8 (as SQLite hands it to the device store's trigger).
    @inlinable
    public static func term<Bytes: Sequence<UInt8>>(orderIdUTF8: Bytes, version: Int64) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in orderIdUTF8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        hash = (hash ^ 0) &* 0x0000_0100_0000_01b3
        for byte in String(version).utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }

    public static func sum<S: Sequence>(_ orders: S) -> UInt64 where S.Element == (String, Int64) {
        orders.reduce(0) { $0 &+ term(orderId: $1.0, version: $1.1) }
    }
}
