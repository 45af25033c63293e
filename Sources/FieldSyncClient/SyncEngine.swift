import FieldSyncCore
import FieldSyncSQLite
import FieldSyncStore

/// The sync loop of DESIGN.md §5: push the outbox, pull the scope page by page, verify the
/// scope checksum and repair on mismatch.
///
/// Every step is stored in its own transaction before the next request, so a sync killed
/// at any point resumes where it stopped: the server answers retried pushes from its
/// stored outcomes, and the cursor only moves with the page it covers.
public struct SyncEngine {
    public var store: ClientDatabase
    public var transport: any SyncTransport
    public var batchSize: Int
    public var pageSize: Int
    public var now: () -> Int64
    public var progress: (SyncProgress) -> Void
    /// Where photos and signatures go before the intents naming them (nil: no uploads,
    /// nothing waits — the in-process simulations).
    public var blobTransport: (any BlobTransport)?
    /// The device's copies of photos and signatures.
    public var blobCache: BlobCache?
    /// Bytes of confirmed photos and signatures kept on the device; older ones beyond it are
    /// deleted (the server holds them; a report fetches them again).
    public var blobBudgetBytes: Int64 = SyncEngine.defaultBlobBudgetBytes

    /// The blob budget when none is set: 512 MB.
    public static let defaultBlobBudgetBytes: Int64 = 512 << 20

    /// Items a pull page asks for: the server's largest (pages also end after 1 MiB), so a
    /// first sync of thousands of orders takes few requests and transactions.
    public static let defaultPageSize = 500

    public init(
        store: ClientDatabase, transport: any SyncTransport, batchSize: Int = 200,
        pageSize: Int = SyncEngine.defaultPageSize, now: @escaping () -> Int64,
        progress: @escaping (SyncProgress) -> Void = { _ in }
    ) {
        self.store = store
        self.transport = transport
        self.batchSize = batchSize
        self.pageSize = pageSize
        self.now = now
        self.progress = progress
    }

    /// Pushes, then pulls; returns what happened.
    ///
    /// A push that fails for any reason never stops the pull: a crew whose outbox the
    /// server refuses still receives new assignments and cancels. The push's failure is
    /// in ``SyncReport/pushFailure``; when the pull fails too, the push's error is thrown.
    public func sync() throws -> SyncReport {
        var report = SyncReport()
        var pushError: (any Error)?
        do {
            try push(into: &report)
        } catch {
            pushError = error
        }
        do {
            try pull(into: &report)
        } catch {
            throw pushError ?? error
        }
        report.conflicts = try store.takeNewConflicts()
        if let pushError {
            var offline = false
            if case SyncError.offline = pushError { offline = true }
            report.pushFailure = PushFailure(offline: offline, message: "\(pushError)")
        }
        return report
    }

    /// Sends the outbox in device order until it holds nothing pending.
    public func push(into report: inout SyncReport) throws {
        guard let account = try store.account() else { throw StoreError.notLoggedIn }
        // Evidence first: the blobs pending intents name go up before those intents, and an
        // intent whose blob is not confirmed waits (with its order's later intents).
        var plan = HoldPlan()
        if let blobTransport, let blobCache {
            try uploadBlobs(blobTransport, cache: blobCache, into: &report)
            plan = try holdPlan()
        }
        defer {
            report.waitingForBlobs = plan.held.count
            if let blobCache { try? pruneBlobs(cache: blobCache) }
        }
        let total = try store.pendingCount()
        var limit = batchSize
        var done = 0
        while true {
            var batch = try store.pendingBatch(limit: limit)
            if let firstHeld = plan.firstHeld {
                batch = Array(batch.prefix { $0.deviceSeq < firstHeld })
                if batch.isEmpty {
                    // Only waiting intents are next: move them after the ready ones.
                    guard let moved = try moveHeldAside(plan, deviceId: account.deviceId) else { return }
                    plan = moved
                    continue
                }
            }
            guard let first = batch.first else { return }
            let response: PushResponse
            do {
                response = try transport.push(PushRequest(deviceId: account.deviceId, intents: batch))
            } catch SyncError.server(let status, _) where status == 413 && limit > 1 {
                limit = max(1, limit / 2)
                continue
            } catch SyncError.server(409, let body) where body.error == "sequence_reused" && report.recovered == nil {
                report.recovered = try recover(deviceId: account.deviceId)
                continue
            }
            try store.applyPush(response, now: now())
            report.pushed += batch.count
            var progressed = false
            for outcome in response.outcomes {
                if outcome.duplicate { report.duplicates += 1 }
                switch outcome.result {
                case .applied: report.applied += 1; progressed = true
                case .merged: report.merged += 1; progressed = true
                case .rejected:
                    progressed = true
                    if let intent = batch.first(where: { $0.opId == outcome.opId }) {
                        report.rejected.append(RejectedIntent(
                            orderId: intent.orderId, action: intent.action.kind,
                            rejection: outcome.rejection ?? Rejection(.invalidValue, "refused")))
                    }
                case .deferred: break
                }
            }
            guard progressed else {
                throw SyncError.sequenceGap(expected: response.nextSeq, first: first.deviceSeq)
            }
            done += batch.count
            progress(.pushed(done: min(done, total), total: total))
        }
    }

    /// Recovers a store restored from an older copy (or copied to a new tablet): the
    /// server has used some of the sequence numbers its outbox holds for other intents.
    /// Asks which pending intents the server already answered (by op id), takes those
    /// answers as if pushed, and renumbers the rest from the server's next number — all in
    /// one transaction, so nothing is lost and nothing is sent twice.
    func recover(deviceId: String) throws -> Recovery {
        progress(.recovering)
        let pending = try store.pendingOpIds()
        var known: [PushOutcome] = []
        var nextSeq: Int64 = 1
        var start = 0
        repeat {
            let chunk = Array(pending[start..<min(start + RecoverRequest.maxOpIds, pending.count)])
            let answer = try transport.recover(RecoverRequest(deviceId: deviceId, opIds: chunk))
            known += answer.known
            nextSeq = answer.nextSeq
            start += chunk.count
        } while start < pending.count
        let renumbered = try store.applyRecovery(known: known, nextSeq: nextSeq, now: now())
        return Recovery(alreadyOnServer: known.count, renumbered: renumbered)
    }

    /// Pulls every page after the cursor, then checks the scope checksum.
    public func pull(into report: inout SyncReport) throws {
        // Only a repair needs the ids it pulled (to drop what the server no longer lists);
        // a first sync of half a million orders would otherwise hold every id to the end.
        var seen: Set<String>? = nil
        let last = try pullPages(from: try store.cursor(), into: &report, seen: &seen)
        let local = try store.confirmedChecksum()
        guard let expected = last.checksum, expected != String(local) else { return }
        // Repair: fetch the whole scope again; pending intents are untouched.
        progress(.repairing)
        report.repaired = true
        try store.resetCursor()
        seen = []
        let again = try pullPages(from: 0, into: &report, seen: &seen)
        try store.dropConfirmed(notIn: seen ?? [])
        let repaired = try store.confirmedChecksum()
        if let expected = again.checksum, expected != String(repaired) {
            throw SyncError.checksumMismatch(local: repaired, server: expected)
        }
    }

    /// Pages stored in one transaction, at most (those already fetched): a first sync's
    /// index pages are then written to the WAL once for several pages, not once each.
    public static let pagesPerCommit = 4

    /// Pulls pages from `start` until one says there is no more, storing them in order,
    /// up to ``pagesPerCommit`` of those already fetched in one transaction, the cursor
    /// moving with them.
    ///
    /// The next pages are fetched (and decoded) on another thread while this one stores
    /// the pages before them: each page's cursor is known as soon as it arrives, and the
    /// server's answer for it does not depend on what the device has stored. At most
    /// ``pagesPerCommit`` pages wait, so memory stays bounded. A transaction that fails
    /// stops the pull before any later page is stored, and a page that fails to arrive
    /// stops it after the pages before it are stored, so the cursor is the last stored
    /// page's either way.
    private func pullPages(
        from start: Int64, into report: inout SyncReport, seen: inout Set<String>?
    ) throws -> PullResponse {
        var page = 0
        let feed = PageFeed(transport: transport, cursor: start, limit: pageSize, depth: Self.pagesPerCommit)
        // Whatever ends the loop, the feed lets go of the transport (used afterwards).
        defer { feed.stop() }
        // A pull of more than one transaction copies its WAL into the file on another
        // thread meanwhile (``WALCheckpointer``); stopped before the feed lets go.
        var checkpointer: WALCheckpointer?
        defer { checkpointer?.stop() }
        while true {
            var pages = try feed.next(max: Self.pagesPerCommit)
            let ids = try store.applyPull(pages, now: now())
            if checkpointer == nil, pages[pages.count - 1].hasMore { checkpointer = store.checkpointer() }
            checkpointer?.committed()
            seen?.formUnion(ids)
            for response in pages {
                report.pulledOrders += response.orders.count
                report.revokedOrders += response.revoked.count
                report.archivedOrders += response.archived.count
                report.deltaOrders += response.orders.count { $0.after != nil }
                page += 1
                progress(.pulled(orders: report.pulledOrders, page: page))
            }
            let last = pages[pages.count - 1]
            feed.recycle(&pages)
            if !last.hasMore { return last }
        }
    }
}
