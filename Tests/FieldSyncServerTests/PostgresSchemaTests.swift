import Foundation
import GRDB
import Testing

@testable import FieldSyncServer

/// The two engines hold the same tables, columns and indexes: the service's SQL is
/// written once for both.
@Suite(.enabled(if: TestPostgres.url != nil, "needs FIELDSYNC_POSTGRES_URL (tools/test starts PostgreSQL)"))
struct PostgresSchemaTests {
    @Test func postgreSQLHasTheTablesColumnsAndIndexesOfTheSQLiteSchema() throws {
        let sqlite = try ServerDatabase.inMemory()
        let postgres = try TestPostgres.freshStore()
        let sqliteTables = try sqlite.tableColumns()
        var postgresTables: [String: [String]] = [:]
        try postgres.read { db in
            for row in try db.rows("""
                SELECT table_name, column_name FROM information_schema.columns
                WHERE table_schema = 'public' AND table_name <> 'fieldsync_migrations'
                ORDER BY table_name, ordinal_position
                """)
            {
                postgresTables[try row["table_name"], default: []].append(try row["column_name"])
            }
        }
        #expect(postgresTables == sqliteTables)

        let sqliteIndexes = Set(try sqlite.sqliteRead { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        })
        let postgresIndexes = Set(try postgres.read { db in
            try db.values(String.self, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'")
        })
        #expect(postgresIndexes == sqliteIndexes)
    }

    @Test func migratingAgainAppliesNothingAndANewerDatabaseIsRefused() throws {
        let store = try TestPostgres.freshStore()
        #expect(try store.migrations().pending.isEmpty)
        #expect(try store.migrate().isEmpty)
        try store.write { db in
            try db.execute("INSERT INTO fieldsync_migrations (name, applied_at) VALUES ('pg99-from-the-future', 0)")
        }
        #expect(throws: ServerDatabaseError.self) { try PostgresStore(url: store.testURL) }
    }
}
