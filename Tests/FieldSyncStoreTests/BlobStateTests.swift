import FieldSyncCore
import GRDB
import Testing
@testable import FieldSyncStore

@Suite("blob states: read by digest, not the year's photos")
struct BlobStateTests {
    /// A digest of 64 hex digits made from `n`.
    static func digest(_ n: Int) -> String {
        let hex = String(n, radix: 16)
        return String(repeating: "0", count: 64 - hex.count) + hex
    }

    @Test func theStatesOfTheNamedBlobsComeBackAndNoOthers() throws {
        // Given a tablet that recorded 1,200 photos, the even ones confirmed by the server
        let (store, _) = try makeStore()
        for n in 0..<1_200 { try store.addBlob(digest: Self.digest(n), size: Int64(1_000 + n), type: .jpeg) }
        try store.confirmBlobs(stride(from: 0, to: 1_200, by: 2).map { (Self.digest($0), Int64(1_000 + $0)) }, at: 5_000)
        // When a sync asks for the three its pending intents name, and one it never recorded
        let unknown = String(repeating: "f", count: 64)
        let few = try store.blobs([Self.digest(7), Self.digest(8), Self.digest(1_199), unknown, Self.digest(7)])
        // Then it gets those three, as stored
        #expect(few.keys.sorted() == [Self.digest(7), Self.digest(8), Self.digest(1_199)].sorted())
        #expect(few[Self.digest(7)]?.isConfirmed == false)
        #expect(few[Self.digest(8)]?.isConfirmed == true)
        #expect(few[Self.digest(1_199)]?.size == 2_199)
        // and a long list (more than one statement's worth) comes back whole
        let many = try store.blobs((300..<1_000).map(Self.digest))
        #expect(many.count == 700)
        #expect(many.values.filter(\.isConfirmed).count == 350)
        // and nothing asked, nothing read
        #expect(try store.blobs([String]()).isEmpty)
    }

    @Test func theReadSearchesThePrimaryKey() throws {
        let (store, _) = try makeStore()
        let plan = try store.writer.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT * FROM blob WHERE digest IN (?, ?)", arguments: ["a", "b"])
                .map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.hasPrefix("SEARCH blob USING INDEX") && $0.contains("digest=?") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN blob") }, "\(plan)")
    }
}
