import FieldSyncCore
import Foundation
import GRDB
import Testing
@testable import FieldSyncStore

@Suite struct MigrationTests {
    @Test func emptyFileGetsEveryTable() throws {
        // Given a new file / When it is opened
        let (store, _) = try makeStore()
        // Then every table of schema/client.sql exists
        let tables = try store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'grdb_%' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        }
        #expect(tables == ["confirmed_event", "confirmed_order", "meta", "order_view", "outbox", "seen_conflict"])
        let applied = try store.writer.read { db in try ClientDatabase.migrator.appliedMigrations(db) }
        #expect(applied == ClientSchema.migrations.map(\.name))
    }

    @Test func fileFromTheFirstReleaseOpensAndKeepsItsData() throws {
        // Given a file written by a release that only had the first migration, holding an
        // order and a pending intent
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fs-old-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/fieldsync.sqlite"
        do {
            let old = try DatabaseQueue(path: path)
            try ClientDatabase.migrator.migrate(old, upTo: "v1-store")
            try old.write { db in
                try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('cursor', '42')")
                try db.execute(sql: "INSERT INTO outbox(device_seq, op_id, order_id, body) VALUES (1, 'op', 'WO-1', '{}')")
            }
            #expect(try old.read { db in try db.tableExists("seen_conflict") } == false)
        }
        // When this release opens it
        let store = try ClientDatabase(path: path)
        // Then the later migration ran and the old data is intact
        #expect(try store.writer.read { db in try db.tableExists("seen_conflict") })
        #expect(try store.cursor() == 42)
        #expect(try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox") } == 1)
    }

    @Test func schemaDocumentMatchesTheMigrations() throws {
        // Given schema/client.sql / Then it holds every migration's SQL verbatim
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("schema/client.sql"), encoding: .utf8)
        for (name, sql) in ClientSchema.migrations {
            #expect(document.contains("-- migration \(name)"), "schema/client.sql lacks migration \(name)")
            for statement in sql.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !statement.isEmpty {
                #expect(document.contains(statement), "schema/client.sql differs from \(name): \(statement.prefix(60))")
            }
        }
    }

    @Test func aFileThatIsNotAStoreIsRefusedWithTheFix() throws {
        // Given a file of garbage where the store should be
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fs-bad-\(UUID().uuidString).sqlite").path
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        // When it is opened / Then the error names the file and what to do
        #expect {
            _ = try ClientDatabase(path: path)
        } throws: { error in
            guard case StoreError.unreadable(let p, _) = error else { return false }
            return p == path && "\(error)".contains("move the file aside")
        }
    }
}
