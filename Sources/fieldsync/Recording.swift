import FieldSyncClient
import FieldSyncCore
import FieldSyncStore

/// What a recording command prints with `--json`.
struct RecordedJSON: Encodable {
    var order: String
    var opId: String
    var deviceSeq: Int64
    var action: String
    var status: String?
    var waitingToSync: Int
}

/// Records one action on an order the person named, then says so in one line.
func record(
    _ options: CommonOptions, order text: String, saying: (WorkOrder?) -> String,
    _ build: (WorkOrder?) throws -> Action
) throws {
    let (store, _) = try options.openAccount()
    let id = try store.resolveOrderId(text)
    let (intent, order) = try store.record(orderId: id, now: WallClock.now(), build)
    let waiting = try store.pendingCount()
    if options.json {
        try printJSON(RecordedJSON(
            order: id, opId: intent.opId, deviceSeq: intent.deviceSeq, action: intent.action.kind,
            status: order?.status.rawValue, waitingToSync: waiting))
    } else {
        print("\(id): \(saying(order))  (saved on this device; \(waiting) waiting to sync)")
    }
}
