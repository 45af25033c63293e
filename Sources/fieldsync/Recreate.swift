import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncStore

extension Dispatch {
    /// Opens again, under a new id, an order the server refused because another desk took
    /// its id first; the assignment and edits refused with it are recorded again too.
    struct Recreate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "recreate",
            abstract: "Open again under a new id an order refused because its id was taken (see `fieldsync pending`).")
        @OptionGroup var options: CommonOptions
        @Argument(help: "The refused order's id, as `fieldsync pending` shows it.") var order: String
        @Option(help: "The new order id (default: generated).") var id: String?

        func run() throws {
            try guarded {
                let (store, account) = try options.openAccount()
                guard account.role == .dispatcher else {
                    throw CLIError("`fieldsync dispatch` is for dispatchers; \(account.user) is a \(account.role.rawValue)")
                }
                let now = WallClock.now()
                let newId = try id ?? OrderIds.next(options, now: now)
                let made = try store.recreate(refused: order, as: newId, now: now)
                let report: SyncReport
                do {
                    report = try runSync(store: store, account: account, quiet: true)
                } catch SyncError.offline {
                    throw CLIError("\(order) is opened again as \(newId) on this device; the server is unreachable, so it is sent with the next `fieldsync sync`", code: 3)
                }
                if let refused = report.rejected.first(where: { $0.orderId == newId }) {
                    throw CLIError("\(newId): the server refused: \(refused.rejection.message)", code: 4)
                }
                if options.json {
                    try printJSON(["refused": order, "order": newId, "actions": String(made.count)])
                } else {
                    print("\(order) opened again as \(newId) (\(made.count) action(s): \(made.map { describe($0.action) }.joined(separator: ", ")))")
                    print("tell the customer the new order number: \(newId)")
                }
            }
        }
    }
}
