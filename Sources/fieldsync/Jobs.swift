import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncStore

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
            // Summary columns only: listing never decodes an order's JSON.
            let jobs = try store.jobSummaries(includeFinished: all)
            if options.json {
                try printJSON(jobs.map { JobJSON(job: $0, now: now, pending: pendingOrders.contains($0.id)) })
                return
            }
            guard !jobs.isEmpty else {
                print(all ? "no orders on this device; run `fieldsync sync` to fetch yours"
                          : "no open orders (use --all for finished ones)")
                return
            }
            var table = TextTable(["ORDER", "URG", "STATUS", "DUE", "CUSTOMER", "ADDRESS"])
            for job in jobs {
                let standing = job.standing(policy: .standard, now: now)
                table.add([
                    job.id + (pendingOrders.contains(job.id) ? "*" : ""),
                    "L\(job.urgency)",
                    "\(job.status.rawValue) \(job.status.chinese)",
                    standing.label,
                    (job.needsCare ? "!" : "") + TextTable.truncate(job.customerName ?? "", columns: 16),
                    TextTable.truncate(job.address ?? "", columns: 30),
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

    init(job: JobSummary, now: Int64, pending: Bool) {
        id = job.id
        urgency = job.urgency
        status = job.status.rawValue
        standing = job.standing(policy: .standard, now: now).code
        responseDeadline = job.responseDeadline
        customerName = job.customerName
        address = job.address
        specialNeeds = job.specialNeeds
        pendingSync = pending
    }
}
