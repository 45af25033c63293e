import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncStore
import Foundation

struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Send what you did and fetch what changed (needs a connection).")

    @OptionGroup var options: CommonOptions

    @Option(help: "MB of photos and signatures the server has confirmed to keep on this device, remembered for later syncs (older ones are deleted; a report fetches them again). Default 512.")
    var keepBlobsMb: Int?

    func validate() throws {
        if let keepBlobsMb, keepBlobsMb < 0 { throw ValidationError("--keep-blobs-mb must be 0 or more") }
    }

    func run() throws {
        try guarded {
            let (store, account) = try options.openAccount()
            let report = try runSync(
                store: store, account: account, quiet: options.json, home: options.homePath,
                keepBlobsBytes: keepBlobsMb.map { Int64($0) << 20 })
            if options.json {
                try printJSON(report)
                if let failure = report.pushFailure { throw ExitCode(failure.offline ? 3 : 4) }
                return
            }
            var line = "sent \(report.pushed)"
            if report.pushed > 0 {
                line += " (\(report.applied) applied, \(report.merged) merged, \(report.rejected.count) refused"
                line += report.duplicates > 0 ? ", \(report.duplicates) already known)" : ")"
            }
            line += ", received \(report.pulledOrders) order update(s)"
            if report.revokedOrders > 0 { line += ", \(report.revokedOrders) reassigned away" }
            if report.archivedOrders > 0 { line += ", \(report.archivedOrders) finished long ago archived (still on the server)" }
            if report.repaired { line += "; the local copy was repaired from the server" }
            if report.uploadedBlobs > 0 { line += "; uploaded \(report.uploadedBlobs) photo(s)/signature(s), \(BlobCache.megabytes(report.uploadedBytes))" }
            print(line)
            for f in report.blobFailures {
                print("upload of \(f.digest.prefix(12)) failed: \(f.message)")
            }
            if report.waitingForBlobs > 0 {
                print("\(report.waitingForBlobs) action(s) wait for their photos or signature to upload (see `fieldsync pending`); other orders went on")
            }
            for r in report.rejected {
                print("refused: \(r.orderId) \(r.action): \(r.rejection.message)  (kept in `fieldsync pending`)")
            }
            for c in report.conflicts {
                print("conflict \(c.id) on \(c.orderId): \(c.message)")
            }
            if let recovered = report.recovered {
                print("this device's store was restored from an older copy: \(recovered.alreadyOnServer) action(s) were already on the server, \(recovered.renumbered) renumbered and sent")
            }
            if let failure = report.pushFailure {
                throw CLIError("received the updates, but sending failed: \(failure.message)", code: failure.offline ? 3 : 4)
            }
        }
    }
}

/// Syncs with a progress line on stderr when it is a terminal.
func runSync(
    store: ClientDatabase, account: Account, quiet: Bool, api: ServerAPI? = nil, home: String? = nil,
    keepBlobsBytes: Int64? = nil
) throws -> SyncReport {
    let api = try api ?? ServerAPI(server: account.server, token: account.token)
    let showProgress = !quiet && isatty(STDERR_FILENO) == 1
    var engine = SyncEngine(store: store, transport: api, now: WallClock.now, progress: { p in
        guard showProgress else { return }
        let text: String
        switch p {
        case .pushed(let done, let total): text = "sending \(done)/\(total)"
        case .uploading(let digest, let done, let total):
            text = "uploading \(digest.prefix(12)): \(BlobCache.megabytes(done)) of \(BlobCache.megabytes(total))"
        case .pulled(let orders, let page): text = "receiving: \(orders) order(s), page \(page)"
        case .repairing: text = "checksum differs: fetching your orders again"
        case .recovering: text = "store restored from an older copy: matching it with the server"
        }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    })
    defer { if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
    if let home {
        engine.blobTransport = api
        engine.blobCache = BlobCache(home: home)
        if let keepBlobsBytes { try store.setBlobBudget(keepBlobsBytes) }
        engine.blobBudgetBytes = try keepBlobsBytes ?? store.blobBudget() ?? SyncEngine.defaultBlobBudgetBytes
    }
    return try engine.sync()
}
