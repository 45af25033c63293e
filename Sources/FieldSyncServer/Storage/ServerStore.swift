import Foundation

/// Where the server keeps its data: one protocol, two engines with the same semantics.
///
/// - ``ServerDatabase``: an SQLite file (the embedded default) through GRDB.
/// - ``PostgresStore``: a PostgreSQL database through postgres-nio, which several server
///   instances share.
///
/// Every write is one transaction that runs alone: SQLite serialises its writers, and on
/// PostgreSQL each write transaction first takes one transaction-level advisory lock, held
/// until it commits. So the numbers events get (`events.seq`) are in commit order, and a
/// pull cursor never skips a change a concurrent transaction commits late (DESIGN.md §5).
/// A read is one snapshot: a pull page and its checksum agree.
public protocol ServerStore: Sendable {
    /// The engine.
    var engine: StorageEngine { get }
    /// The file or the address, for messages (a URL's password is never shown).
    var location: String { get }
    /// Runs `body` in one write transaction; an error thrown rolls it back.
    func write<T>(_ body: (any SQLSession) throws -> T) throws -> T
    /// Runs `body` in one read-only snapshot.
    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T
    /// The migrations applied to the database, in order, and those this release would
    /// still apply.
    func migrations() throws -> (applied: [String], pending: [String])
    /// Applies the pending migrations; returns their names.
    @discardableResult
    func migrate() throws -> [String]
}

/// Opens the store a `--db` value names.
public enum ServerStores {
    /// An SQLite file for a path; a PostgreSQL database for a `postgres://` or
    /// `postgresql://` URL. Migrates it unless `migrate` is false.
    ///
    /// - Throws: ``ServerDatabaseError`` naming the problem and the fix: a URL of another
    ///   scheme, one that does not parse, a database that cannot be reached.
    public static func open(_ value: String, migrate: Bool = true) throws(ServerDatabaseError) -> any ServerStore {
        if let scheme = schemeOf(value) {
            guard scheme == "postgres" || scheme == "postgresql" else {
                throw ServerDatabaseError(
                    code: .cannotOpen, path: value,
                    message: "--db \(value): the scheme \(scheme):// is not one fieldsync-server stores in: pass an SQLite file path, or a postgres:// URL")
            }
            return try PostgresStore(url: value, migrate: migrate)
        }
        return try ServerDatabase(path: value, migrate: migrate)
    }

    /// The scheme of a URL-looking value (`word://…`), or nil for a path.
    public static func schemeOf(_ value: String) -> String? {
        guard let range = value.range(of: "://") else { return nil }
        let scheme = value[..<range.lowerBound]
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
        else { return nil }
        return scheme.lowercased()
    }
}
