import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncStore

struct Pending: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pending",
        abstract: "List what waits to be sent, and what the server refused (works offline).")

    @OptionGroup var options: CommonOptions

    struct EntryJSON: Encodable {
        var deviceSeq: Int64
        var order: String
        var action: String
        var occurredAt: Int64
        var state: String
        var reason: Rejection?
        /// Why a pending intent waits for evidence: the upload still under way.
        var upload: String?
    }

    func run() throws {
        try guarded {
            let (store, _) = try options.openAccount()
            let entries = try store.outbox()
            let uploads = uploadWaits(
                entries, blobs: try store.blobs(entries.lazy.filter { $0.state == .pending }.flatMap(\.intent.action.blobDigests)))
            if options.json {
                try printJSON(entries.map {
                    EntryJSON(deviceSeq: $0.intent.deviceSeq, order: $0.intent.orderId, action: describe($0.intent.action),
                              occurredAt: $0.intent.occurredAt, state: $0.state.rawValue, reason: $0.rejection,
                              upload: uploads[$0.intent.deviceSeq])
                })
                return
            }
            guard !entries.isEmpty else {
                print("nothing waiting: everything on this device is on the server")
                return
            }
            var table = TextTable(["#", "WHEN", "ORDER", "ACTION", "STATE"])
            for e in entries {
                table.add([
                    String(e.intent.deviceSeq), WallClock.format(e.intent.occurredAt), e.intent.orderId,
                    describe(e.intent.action),
                    e.state == .pending
                        ? (uploads[e.intent.deviceSeq].map { "waiting for upload: \($0)" } ?? "waiting")
                        : "REFUSED: \(e.rejection?.message ?? "")",
                ])
            }
            print(table.render())
        }
    }
}

/// For each pending intent that waits for a photo or signature: what its upload has done
/// (`photo 3f2a9c1b0d4e 1.2 MB of 2.0 MB`), or which earlier action of its order it waits
/// behind. The sync engine holds exactly these back (see `SyncEngine.holdPlan`).
func uploadWaits(_ entries: [OutboxEntry], blobs: [String: BlobState]) -> [Int64: String] {
    var out: [Int64: String] = [:]
    var blockedOrders: [String: Int64] = [:]
    for e in entries where e.state == .pending {
        let waiting = e.intent.action.blobDigests.compactMap { digest -> String? in
            guard let state = blobs[digest], !state.isConfirmed else { return nil }
            var text = "\(digest.prefix(12)) \(BlobCache.megabytes(state.uploaded)) of \(BlobCache.megabytes(state.size))"
            if let failure = state.failure { text += " (last try: \(failure))" }
            return text
        }
        if !waiting.isEmpty {
            out[e.intent.deviceSeq] = waiting.joined(separator: "; ")
            if blockedOrders[e.intent.orderId] == nil { blockedOrders[e.intent.orderId] = e.intent.deviceSeq }
        } else if let first = blockedOrders[e.intent.orderId] {
            out[e.intent.deviceSeq] = "behind #\(first) of the same order"
        }
    }
    return out
}

/// A short human description of an action.
func describe(_ action: Action) -> String {
    switch action {
    case .create: "open order"
    case .assign(let t): "assign to \(t)"
    case .transition(let to, _): "status \(to.rawValue)"
    case .setField(let f, let v, _): "\(f.rawValue) = \(TextTable.truncate(v ?? "(cleared)", columns: 30))"
    case .append(let e): "\(e.kind.rawValue): \(TextTable.truncate(e.text, columns: 30))"
    case .void(let id, _): "void line \(id.prefix(8))"
    case .signOff(let s): "sign-off by \(s.signerName)"
    case .requestCompensation(_, let fen, _): "compensation ¥\(Bill.yuan(fen))"
    case .reopen: "reopen"
    }
}
