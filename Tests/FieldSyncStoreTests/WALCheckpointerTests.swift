import FieldSyncSQLite
import Foundation
import GRDB
import Testing
@testable import FieldSyncStore

/// A long pull's WAL is copied into the file by a `WALCheckpointer` on its own thread and
/// connection, so the storing connection's next transaction starts the WAL over, and the
/// store's connection is the last one again once it is stopped.
@Suite struct WALCheckpointerTests {
    /// Frames in the WAL now: `mxFrame` of the WAL index's header in the `-shm` file
    /// (bytes 16–19, native byte order: SQLite's file format, "The WAL-Index Format"). Read
    /// from the file so that reading it checkpoints nothing.
    static func walFrames(_ path: String) throws -> Int {
        let header = try Data(contentsOf: URL(fileURLWithPath: path + "-shm")).prefix(20)
        guard header.count == 20 else { return -1 }
        return Int(header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 16, as: UInt32.self) })
    }

    /// Writes `count` transactions of about 60 KB each on the store's own connection.
    static func write(_ store: ClientDatabase, transactions count: Int, tag: String) throws {
        for n in 0..<count {
            try store.writer.write { db in
                try ClientDatabase.setMeta(db, "bulk-\(tag)-\(n)", String(repeating: "暖", count: 20_000))
            }
        }
    }

    /// Runs `body` with the path of a store file in a new directory, removed afterwards.
    static func inScratch(_ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fs-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try body(dir.appendingPathComponent("fieldsync.sqlite").path)
    }

    /// A store at `path` whose own connection never checkpoints by itself.
    static func storeNotCheckpointing(_ path: String) throws -> ClientDatabase {
        let store = try ClientDatabase(path: path)
        try store.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        return store
    }

    @Test func theStoringConnectionStartsTheWALOverOnceTheCheckpointerCaughtUp() throws { try Self.inScratch { path in
        let store = try Self.storeNotCheckpointing(path)

        // Given a WAL of many committed pages, and a checkpointer told they committed
        try Self.write(store, transactions: 20, tag: "a")
        let before = try Self.walFrames(path)
        #expect(before > 200)
        let checkpointer = try #require(store.checkpointer())
        checkpointer.committed()
        #expect(checkpointer.waitForCheckpoints(1, timeout: 30))
        checkpointer.stop()

        // When the storing connection commits once more
        try Self.write(store, transactions: 1, tag: "b")

        // Then the WAL started over: it holds that transaction's pages only
        let after = try Self.walFrames(path)
        #expect(after > 0 && after < 50, "WAL frames after: \(after), before: \(before)")
        #expect(try store.integrityCheck() == "ok")
        #expect(try store.writer.read { db in try ClientDatabase.meta(db, "bulk-a-19") }?.count == 20_000)
    } }

    @Test func onceStoppedTheStoreClosesLastAndRemovesItsWAL() throws { try Self.inScratch { path in
        var store: ClientDatabase? = try ClientDatabase(path: path)
        let checkpointer = try #require(store?.checkpointer())
        try Self.write(try #require(store), transactions: 3, tag: "a")
        checkpointer.committed()
        // When the checkpointer is stopped and then the store closes
        checkpointer.stop()
        store = nil
        // Then the store's connection was the last: the WAL is copied and gone
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        let reopened = try ClientDatabase(path: path)
        #expect(try reopened.writer.read { db in try ClientDatabase.meta(db, "bulk-a-2") }?.count == 20_000)
    } }

    @Test func withoutItTheWALKeepsGrowing() throws { try Self.inScratch { path in
        // The same writes with no checkpointer: the measure above can tell the two apart.
        let store = try Self.storeNotCheckpointing(path)
        try Self.write(store, transactions: 20, tag: "a")
        let before = try Self.walFrames(path)
        try Self.write(store, transactions: 1, tag: "b")
        #expect(try Self.walFrames(path) > before)
    } }

    @Test func aStoreInMemoryHasNone() throws {
        #expect(try ClientDatabase.inMemory().checkpointer() == nil)
    }
}
