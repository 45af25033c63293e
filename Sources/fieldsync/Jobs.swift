import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncStore

struct Jobs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List your work orders, most urgent first (works offline).")

    @OptionGroup var options: CommonOptions

    @Flag(help: "Include finished orders (completed, signed off, closed, cancelled).")
    var all = false

    @Option(help: "Show at most this many, most urgent first (0: every one). Default: 50 in the table, every one with --json.")
    var limit: Int?

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
    }

    func run() throws {
        try guarded {
            let (store, _) = try options.openAccount()
            let now = WallClock.now()
            let pendingOrders = try store.ordersWithPendingWork()
            // Summary columns only, through the rank index: listing never decodes an
            // order's JSON, and a desk with thousands of orders reads only the page it shows.
            let shown = (limit ?? (options.json ? 0 : 50)).nonZero
            let jobs = try store.jobSummaries(includeFinished: all, limit: shown)
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
            if let shown, jobs.count == shown {
                let total = try store.jobCount(includeFinished: all)
                if total > shown { print("… \(total - shown) more: `fieldsync jobs --limit 0` lists every one") }
            }
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

private extension Int {
    /// nil for 0 (no limit).
    var nonZero: Int? { self == 0 ? nil : self }
}
