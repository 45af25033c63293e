import ArgumentParser
import FieldSyncClient
import FieldSyncCore

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Move an order along: accepted, en-route, on-site, working, paused, completed, could-not-complete.",
        discussion: "Chinese names work too (接单 is `accepted`, 到达现场 is `on-site`). Works offline.")

    @OptionGroup var options: CommonOptions

    @Argument(help: "The order id, or any unique part of it.")
    var order: String

    @Argument(help: "The new status, e.g. on-site or 到达现场.")
    var state: String

    @Option(help: "A note, e.g. why the work could not be completed.")
    var note: String?

    func validate() throws {
        guard OrderStatus(spoken: state) != nil else {
            throw ValidationError("unknown status '\(state)': use one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        try guarded {
            guard let target = OrderStatus(spoken: state) else { return }
            try record(options, order: order, saying: { o in
                "now \(target.rawValue) \(target.chinese)" + (o?.status == target ? "" : " (shown as \(o?.status.rawValue ?? "?"))")
            }) { _ in .transition(to: target, note: note) }
        }
    }
}
