import Foundation
import GRDB
import Testing

@testable import FieldSyncServer

@Suite("schema and database file")
struct SchemaTests {
    /// The text of `schema/server.sql`.
    private func serverSQL() throws -> String {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("schema/server.sql"), encoding: .utf8)
    }

    /// `CREATE TABLE name (...)` blocks of `schema/server.sql`: table → column names.
    private func documentedTables() throws -> [String: [String]] {
        let sql = try serverSQL()
        var tables: [String: [String]] = [:]
        var current: String?
        for rawLine in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.split(separator: "--", maxSplits: 1, omittingEmptySubsequences: false).first
                .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if line.uppercased().hasPrefix("CREATE TABLE ") {
                let name = line.dropFirst("CREATE TABLE ".count).split(separator: " ").first.map(String.init) ?? ""
                current = name
                tables[name] = []
            } else if let table = current {
                if line.hasPrefix(")") {
                    current = nil
                } else if let word = line.split(separator: " ").first,
                          !["PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "CONSTRAINT"].contains(word.uppercased())
                {
                    tables[table, default: []].append(String(word))
                }
            }
        }
        return tables
    }

    @Test func theMigratedSchemaMatchesSchemaServerSQL() throws {
        let documented = try documentedTables()
        let migrated = try ServerDatabase.inMemory().tableColumns()

        #expect(documented.count == 11)
        #expect(documented == migrated)
    }

    @Test func theMigratedIndexesAreTheOnesSchemaServerSQLDocumentsWordForWord() throws {
        // One statement, spaces collapsed, without its `;` and trailing comment.
        func normalised(_ statement: Substring) -> String {
            let code = statement.split(separator: "--", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return code.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                .trimmingCharacters(in: CharacterSet(charactersIn: "; "))
        }
        let documented = try serverSQL().split(separator: "\n")
            .filter { $0.trimmingCharacters(in: .whitespaces).uppercased().hasPrefix("CREATE") && $0.uppercased().contains(" INDEX ") }
            .map(normalised)
        let migrated = try ServerDatabase.inMemory().sqliteRead { db in
            try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        }.map { normalised(Substring($0)) }

        #expect(documented.count == migrated.count)
        #expect(Set(documented) == Set(migrated))
        #expect(documented.contains { $0.hasPrefix("CREATE INDEX orders_crew_history ON orders(assignee, urgency,") })
    }

    @Test func aFileDatabaseReopensWithItsDataAndACorruptFileIsNamed() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("fieldsync-server-tests-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("nested/server.db").path

        let token = try SyncService(database: ServerDatabase(path: path), now: { testNow })
            .addUser(name: "alice", role: .technician)
        let reopened = SyncService(database: try ServerDatabase(path: path), now: { testNow })
        let bad = directory.appendingPathComponent("bad.db").path
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: bad))
        let error = #expect(throws: ServerDatabaseError.self) { try ServerDatabase(path: bad) }

        #expect(try reopened.authenticate(token: token) == alice)
        #expect(error?.code == .notADatabase)
        #expect(error?.message.contains(bad) == true)
    }
}

@Suite("the server file's WAL checkpoints")
struct WALCheckpointTests {
    @Test func commitsAreCheckpointedOffTheWritePathAndTheWriterOnlyPastTheBackstop() throws {
        // Given a server database file
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("fieldsync-wal-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try ServerDatabase(path: directory.appendingPathComponent("server.db").path)
        let checkpointer = try #require(database.checkpointer)

        // When users are added, each its own transaction
        let service = SyncService(database: database, now: { testNow })
        for name in ["alice", "bob", "carol"] { _ = try service.addUser(name: name, role: .technician) }

        // Then the checkpoint thread copies the WAL back, and the writer would only do it
        // past the backstop
        #expect(checkpointer.waitForCheckpoints(1, timeout: 30))
        let backstop = try database.sqliteWrite { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") }
        #expect(backstop == ServerDatabase.walBackstopPages)
    }
}
