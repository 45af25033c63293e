import ArgumentParser
import FieldSyncClient
import FieldSyncCore

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
    }

    func run() throws {
        try guarded {
            let (store, _) = try options.openAccount()
            let entries = try store.outbox()
            if options.json {
                try printJSON(entries.map {
                    EntryJSON(deviceSeq: $0.intent.deviceSeq, order: $0.intent.orderId, action: describe($0.intent.action),
                              occurredAt: $0.intent.occurredAt, state: $0.state.rawValue, reason: $0.rejection)
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
                    e.state == .pending ? "waiting" : "REFUSED: \(e.rejection?.message ?? "")",
                ])
            }
            print(table.render())
        }
    }
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
