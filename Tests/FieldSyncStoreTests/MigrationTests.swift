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
        #expect(tables == ["blob", "confirmed_event", "confirmed_order", "meta", "order_view", "outbox", "provisional_order", "seen_conflict", "view_conflict", "view_count"])
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

    @Test func fileFromBeforeSummariesGetsThemBackfilled() throws {
        // Given a file written by a release with migrations v1 and v2 only, holding two
        // orders (one with two conflicts, one of them already reported) and their versions
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fs-v2-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/fieldsync.sqlite"
        func event(_ seq: Int64, _ order: String, _ device: String, _ action: Action) -> Intent {
            Intent(opId: "\(order)-\(seq)", deviceId: device, deviceSeq: seq, actor: device, role: .dispatcher,
                   hlc: HLC(physical: 1_000 * seq, device: device), occurredAt: 1_000 * seq, orderId: order,
                   createOp: seq == 1 ? nil : "\(order)-1", action: action)
        }
        let fields: [OrderField: String] = [.kind: "repair", .urgency: "1", .customerName: "市第一医院", .address: "解放路 1 号",
                                            .specialNeeds: "轮椅", .responseDeadline: "7201000"]
        let one = try #require(WorkOrder.fold([
            event(1, "WO-1", "dispatch", .create(fields: fields)),
            event(2, "WO-1", "desk2", .setField(field: .address, value: "人民路 2 号", base: nil)),
            event(3, "WO-1", "dispatch", .setField(field: .customerName, value: "张三", base: nil)),
            event(4, "WO-1", "desk2", .setField(field: .customerName, value: "李四", base: nil)),
        ]))
        let two = try #require(WorkOrder.fold([
            event(1, "WO-2", "dispatch", .create(fields: [.kind: "repair", .urgency: "3", .customerName: "王五", .address: "x"])),
        ]))
        #expect(one.conflicts.count >= 2)
        let reportedBefore = one.conflicts[0]
        do {
            let old = try DatabaseQueue(path: path)
            try ClientDatabase.migrator.migrate(old, upTo: "v2-seen-conflicts")
            try old.write { db in
                for order in [one, two] {
                    try db.execute(
                        sql: "INSERT INTO order_view(id, status, urgency, deadline, assignee, state) VALUES (?, ?, ?, ?, ?, ?)",
                        arguments: [order.id, order.status.rawValue, order.urgency, order.responseDeadline, order.assignee,
                                    try ClientDatabase.encode(order)])
                }
                try db.execute(sql: "INSERT INTO confirmed_order(id, version) VALUES ('WO-1', 4), ('WO-2', 1)")
                try db.execute(sql: "INSERT INTO seen_conflict(id, order_id) VALUES (?, 'WO-1')", arguments: [reportedBefore.id])
            }
        }
        // When this release opens it
        let store = try ClientDatabase(path: path)
        // Then the summaries equal what decoding the JSON gives
        #expect(try store.jobSummaries(includeFinished: true) == [JobSummary(order: one), JobSummary(order: two)])
        #expect(try store.jobSummaries(includeFinished: true).first?.needsCare == true)
        // And the stored checksum is the sum of the versions the old file held
        #expect(try store.writer.read { db in try ClientDatabase.meta(db, ClientDatabase.checksumKey) }
                == String(ScopeChecksum.sum([("WO-1", 4), ("WO-2", 1)])))
        #expect(try store.confirmedChecksum() == ScopeChecksum.sum([("WO-1", 4), ("WO-2", 1)]))
        // And only the conflicts never reported are reported now, once
        let fresh = try store.takeNewConflicts()
        #expect(Set(fresh.map(\.id)) == Set(one.conflicts.dropFirst().map(\.id)))
        #expect(try store.takeNewConflicts().isEmpty)
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
