import ArgumentParser
import FieldSyncClient
import FieldSyncCore

struct Jobs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List your work orders, most urgent first (works offline).")

    @OptionGroup var options: CommonOptions

    @Flag(help: "Include finished orders (completed, signed off, closed, cancelled).")
    var all = false

    func run() throws {
        try guarded {
            let (store, _) = try options.openAccount()
            let now = WallClock.now()
            let pendingOrders = try store.ordersWithPendingWork()
            let orders = try store.orders().filter { all || !$0.status.isFinished }
            if options.json {
                try printJSON(orders.map { JobJSON(order: $0, now: now, pending: pendingOrders.contains($0.id)) })
                return
            }
            guard !orders.isEmpty else {
                print(all ? "no orders on this device; run `fieldsync sync` to fetch yours"
                          : "no open orders (use --all for finished ones)")
                return
            }
            var table = TextTable(["ORDER", "URG", "STATUS", "DUE", "CUSTOMER", "ADDRESS"])
            for order in orders {
                let standing = DeadlinePolicy.standard.standing(of: order, now: now)
                let flag = order[.specialNeeds] != nil || order[.customerTier].map { $0 == "vip" || $0 == "major" } == true ? "!" : ""
                table.add([
                    order.id + (pendingOrders.contains(order.id) ? "*" : ""),
                    "L\(order.urgency)",
                    "\(order.status.rawValue) \(order.status.chinese)",
                    standing.label,
                    flag + TextTable.truncate(order[.customerName] ?? "", columns: 16),
                    TextTable.truncate(order[.address] ?? "", columns: 30),
                ])
            }
            print(table.render())
            if !pendingOrders.isEmpty { print("* changes waiting to sync") }
        }
    }
}

/// One order of `fieldsync jobs --json`.
struct JobJSON: Encodable {
    var id: String
    var urgency: Int
    var status: String
    var standing: String
    var responseDeadline: Int64?
    var customerName: String?
    var address: String?
    var specialNeeds: String?
    var pendingSync: Bool

    init(order: WorkOrder, now: Int64, pending: Bool) {
        id = order.id
        urgency = order.urgency
        status = order.status.rawValue
        standing = DeadlinePolicy.standard.standing(of: order, now: now).code
        responseDeadline = order.responseDeadline
        customerName = order[.customerName]
        address = order[.address]
        specialNeeds = order[.specialNeeds]
        pendingSync = pending
    }
}
