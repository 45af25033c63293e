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
            let account = Account(
                server: server, user: user, role: role, token: token, deviceId: deviceId,
                deviceNumber: sameIdentity ? previous?.deviceNumber : nil)
            if !sameIdentity, let previous {
                // A different identity starts a fresh replica, but never over work that was
                // not sent: nothing a technician typed may disappear.
                let unsent = try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE state = 'pending'") ?? 0
                if unsent > 0 {
                    throw StoreError.unsentWork(user: previous.user, server: previous.server, count: unsent)
                }
                for table in ["confirmed_event", "confirmed_order", "order_view", "outbox", "seen_conflict", "view_conflict", "provisional_order"] {
                    try db.execute(sql: "DELETE FROM \(table)")
                }
                try Self.setMeta(db, Self.checksumKey, "0")
                try db.execute(sql: "DELETE FROM meta WHERE key IN ('cursor', 'next_seq', 'hlc', 'order_id_day', 'order_id_counter')")
            }
            try Self.setMeta(db, "account", try Self.encode(account))
            return account
        }
    }

    /// Saves the short number the server gave this device (`POST /v1/devices`).
    public func setDeviceNumber(_ number: Int64) throws {
        try writer.write { db in
            guard var account = try Self.account(db) else { throw StoreError.notLoggedIn }
            account.deviceNumber = number
            try Self.setMeta(db, "account", try Self.encode(account))
        }
    }

    /// A new order id, unique by construction: `WO-261123-7-001` is the day, this device's
    /// number on the server and a counter of the orders this device opened that day. The
    /// day never goes backwards on one device (a clock put back a day keeps the later
    /// day), so no two ids of a device repeat; other devices have other numbers. Digits
    /// only, so it reads aloud on the phone.
    ///
    /// - Parameter day: today as `yymmdd` on this device.
    /// - Throws: ``StoreError/notLoggedIn``, or `noDeviceNumber` before the device has one.
    public func newOrderId(day: Int) throws -> String {
        try writer.write { db in
            guard let account = try Self.account(db) else { throw StoreError.notLoggedIn }
            guard let number = account.deviceNumber else { throw StoreError.noDeviceNumber }
            let held = try Self.meta(db, "order_id_day").flatMap { Int($0) } ?? 0
            var counter = try Self.meta(db, "order_id_counter").flatMap { Int($0) } ?? 0
            let useDay = max(day, held)
            counter = useDay == held ? counter + 1 : 1
            try Self.setMeta(db, "order_id_day", String(useDay))
            try Self.setMeta(db, "order_id_counter", String(counter))
            let dayText = String(useDay)
            let padded = String(repeating: "0", count: max(0, 6 - dayText.count)) + dayText
            let count = String(counter)
            return "WO-\(padded)-\(number)-" + String(repeating: "0", count: max(0, 3 - count.count)) + count
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
