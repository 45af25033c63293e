import Foundation
import Testing

@testable import FieldSyncCore

@Suite("operation ids")
struct OperationIDTests {
    @Test func idsAreVersion7UUIDsThatGrowWithTheClockAndNeverRepeat() throws {
        // Given ids made over a run of milliseconds, several in each
        var ids: [(millis: Int64, id: String)] = []
        for millis in stride(from: Int64(1_795_000_000_000), to: 1_795_000_000_000 + 2_000, by: 1) {
            for _ in 0..<5 { ids.append((millis, OperationID.make(millis: millis))) }
        }

        // Then each is a UUID of version 7 and variant 10 carrying its millisecond
        for (millis, id) in ids {
            let uuid = try #require(UUID(uuidString: id), "\(id)")
            #expect(uuid.uuidString.lowercased() == id)
            let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
            #expect(bytes[6] >> 4 == 7 && bytes[8] >> 6 == 2, "\(id)")
            #expect(bytes[0..<6].reduce(Int64(0)) { $0 << 8 | Int64($1) } == millis, "\(id)")
        }
        // and they sort by their time (so indexes append them), none twice
        for (earlier, later) in zip(ids, ids.dropFirst()) where earlier.millis < later.millis {
            #expect(earlier.id < later.id)
        }
        #expect(Set(ids.map(\.id)).count == ids.count)
    }

    @Test func theRandomPartComesFromTheGenerator() {
        // Given two generators in the same state, and one in another
        struct Counter: RandomNumberGenerator {
            var state: UInt64
            mutating func next() -> UInt64 { state &+= 0x9e37_79b9_7f4a_7c15; return state }
        }
        var a = Counter(state: 1), b = Counter(state: 1), c = Counter(state: 2)

        // Then the same time and state give the same id, another state another id
        let same = OperationID.make(millis: 42, using: &a)
        #expect(same == OperationID.make(millis: 42, using: &b))
        #expect(same != OperationID.make(millis: 42, using: &c))
        #expect(same.hasPrefix("00000000-002a-7"))
    }
}
