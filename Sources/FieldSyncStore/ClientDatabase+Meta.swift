import FieldSyncCore
import Foundation
import GRDB

extension ClientDatabase {
    static func meta(_ db: Database, _ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key])
    }

    static func setMeta(_ db: Database, _ key: String, _ value: String) throws {
        try db.execute(
            sql: "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            arguments: [key, value])
    }

    static func account(_ db: Database) throws -> Account? {
        try meta(db, "account").map { try decode(Account.self, $0) }
    }

    static func clock(_ db: Database, device: String) throws -> HybridClock {
        HybridClock(device: device, last: try meta(db, "hlc").map { try decode(HLC.self, $0) })
    }

    /// The saved account, or nil before the first `fieldsync login`.
    public func account() throws -> Account? {
        try writer.read { db in try Self.account(db) }
    }

    /// Saves the account. The device id and its sequence survive a re-login with the same
    /// server and user, so nothing already pushed is sent under a new identity.
    public func saveAccount(server: String, user: String, role: Role, token: String) throws -> Account {
        try writer.write { db in
            let previous = try Self.account(db)
            let sameIdentity = previous?.server == server && previous?.user == user
            let deviceId = (sameIdentity ? previous?.deviceId : nil)
                ?? "dev-" + UUID().uuidString.lowercased()
            let account = Account(server: server, user: user, role: role, token: token, deviceId: deviceId)
            if !sameIdentity, let previous {
                // A different identity starts a fresh replica, but never over work that was
                // not sent: nothing a technician typed may disappear.
                let unsent = try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE state = 'pending'") ?? 0
                if unsent > 0 {
                    throw StoreError.unsentWork(user: previous.user, server: previous.server, count: unsent)
                }
                for table in ["confirmed_event", "confirmed_order", "order_view", "outbox", "seen_conflict"] {
                    try db.execute(sql: "DELETE FROM \(table)")
                }
                try db.execute(sql: "DELETE FROM meta WHERE key IN ('cursor', 'next_seq', 'hlc')")
            }
            try Self.setMeta(db, "account", try Self.encode(account))
            return account
        }
    }

    /// The pull cursor: the server sequence number everything up to which is held here.
    public func cursor() throws -> Int64 {
        try writer.read { db in try Self.meta(db, "cursor").flatMap { Int64($0) } ?? 0 }
    }

    /// The clock's last timestamp (for tests and diagnostics).
    public func lastHLC() throws -> HLC? {
        try writer.read { db in try Self.meta(db, "hlc").map { try Self.decode(HLC.self, $0) } }
    }
}
