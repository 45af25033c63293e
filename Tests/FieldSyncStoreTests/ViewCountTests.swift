import FieldSyncCore
import GRDB
import PropertyBased
import Testing
@testable import FieldSyncStore

/// `jobs` reads how many orders it did not show from counts the triggers of migrations
/// v8-view-counts and v9-view-count-case keep; they must equal a count of the rows after
/// any writes.
@Suite struct ViewCountTests {
    /// A view of order `WO-<number>` at `status`.
    static func view(_ number: Int, _ status: OrderStatus) -> WorkOrder {
        let create = Intent(
            opId: "op-\(number)", deviceId: "dev", deviceSeq: 1, actor: "desk", role: .dispatcher,
            hlc: HLC(physical: 1_000, device: "dev"), occurredAt: 1_000, orderId: "WO-\(number)",
            action: .create(fields: [.kind: "repair"]))
        var order = WorkOrder(creating: create)!
        order.status = status
        return order
    }

    /// The counts the triggers keep, and the counts of the rows.
    static func counts(_ store: ClientDatabase) throws -> (kept: [Int], counted: [Int]) {
        let kept = [try store.jobCount(includeFinished: false), try store.jobCount(includeFinished: true)]
        let finished = OrderStatus.allCases.filter(\.isFinished).map(\.rawValue)
        let counted = try store.writer.read { db in
            [
                try Int.fetchOne(db, sql: "SELECT count(*) FROM order_view WHERE status NOT IN (\(finished.map { _ in "?" }.joined(separator: ", ")))",
                                 arguments: StatementArguments(finished)) ?? -1,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM order_view") ?? -1,
            ]
        }
        return (kept, counted)
    }

    @Test func everyStatusCountsAsOpenExactlyWhenItIsNotFinished() throws {
        // Given an empty store
        let store = try ClientDatabase.inMemory()
        for (number, status) in OrderStatus.allCases.enumerated() {
            let before = try store.jobCount(includeFinished: false)
            // When a view at that status is written
            try store.writer.write { db in try ClientDatabase.writeView(db, Self.view(number, status)) }
            // Then the open count moves by one exactly when the status is not finished
            #expect(try store.jobCount(includeFinished: false) - before == (status.isFinished ? 0 : 1), "\(status)")
        }
        #expect(try store.jobCount(includeFinished: true) == OrderStatus.allCases.count)
    }

    @Test func theKeptCountsEqualACountOfTheRowsAfterRandomWrites() async {
        // A step: write order 0…7 at one of the statuses, or remove it from the view
        let statuses = OrderStatus.allCases
        let steps = Gen.int(in: 0...(8 * (statuses.count + 1) - 1)).array(of: 0...60)
        await propertyCheck(count: 200, input: steps) { steps in
            let store = try ClientDatabase.inMemory()
            try store.writer.write { db in
                for step in steps {
                    let (number, what) = step.quotientAndRemainder(dividingBy: statuses.count + 1)
                    if what == statuses.count {
                        try ClientDatabase.deleteView(db, "WO-\(number)")
                    } else {
                        try ClientDatabase.writeView(db, Self.view(number, statuses[what]))
                    }
                }
            }
            let (kept, counted) = try Self.counts(store)
            #expect(kept == counted, "\(steps)")
        }
    }

    @Test func aStoreWrittenBeforeTheCountsStartsWithTheRightOnes() throws {
        // Given a store whose counts were lost (as a file from before v8 has none)
        let store = try ClientDatabase.inMemory()
        try store.writer.write { db in
            for (number, status) in OrderStatus.allCases.enumerated() { try ClientDatabase.writeView(db, Self.view(number, status)) }
            try db.execute(sql: "DROP TRIGGER view_count_added; DROP TRIGGER view_count_removed; DROP TRIGGER view_count_moved; DROP TABLE view_count")
            // When migrations v8 and v9 run on it
            try db.execute(sql: ClientSchema.v8)
            try db.execute(sql: ClientSchema.v9)
        }
        // Then its counts are the rows'
        let (kept, counted) = try Self.counts(store)
        #expect(kept == counted)
        #expect(kept == [OrderStatus.allCases.filter { !$0.isFinished }.count, OrderStatus.allCases.count])
    }
}
