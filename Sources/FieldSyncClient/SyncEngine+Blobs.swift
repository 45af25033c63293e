import FieldSyncCore
import FieldSyncStore
import Foundation

/// Which pending intents wait for their blobs: those naming a photo or signature the
/// server has not confirmed, and every later intent of the same order (to keep its order).
struct HoldPlan: Equatable {
    var held: Set<Int64> = []
    var firstHeld: Int64? { held.min() }
}

extension SyncEngine {
    /// Uploads, oldest use first, every blob a pending intent names that the server has
    /// not confirmed: `HEAD` says how much it holds, a `PUT` sends the rest from there.
    ///
    /// One failing upload never stops the others nor the push: a refused or unreadable
    /// blob, or a transfer that broke off three times (each retry continues from where the
    /// server got to), is recorded with its reason and its intents wait. Only when the
    /// server does not answer a `HEAD` at all does uploading stop for this sync (the push
    /// then meets the same dead link and reports it).
    func uploadBlobs(_ transport: any BlobTransport, cache: BlobCache, into report: inout SyncReport) throws {
        var needed: [String] = []
        var seen: Set<String> = []
        for use in try store.pendingBlobUses() {
            for digest in use.digests where seen.insert(digest).inserted { needed.append(digest) }
        }
        var states = try store.blobs(needed)
        // Confirmations are stored together in one transaction at the end (one commit, not
        // one per photo); a sync killed before that only asks the server again next time.
        var confirmed: [(digest: String, size: Int64)] = []
        defer {
            if !confirmed.isEmpty { try? store.confirmBlobs(confirmed, at: now()) }
        }
        for digest in needed {
            if states[digest] == nil {
                // Named by an intent recorded before this device tracked uploads: upload it
                // if the file is here; if not there is nothing to wait for.
                guard cache.holds(digest), let found = BlobCache.describe(cache.path(of: digest)) else { continue }
                try store.addBlob(digest: digest, size: found.size, type: found.type)
                states[digest] = try store.blob(digest)
            }
            guard let state = states[digest], !state.isConfirmed else { continue }
            var attempts = 0
            while true {
                attempts += 1
                do {
                    // A blob never tried before goes straight up from byte 0; after a
                    // failure or a partial upload, HEAD says where to continue.
                    let probe = attempts > 1 || state.uploaded > 0 || state.failure != nil
                    switch try uploadOne(state, probe: probe, transport, cache, into: &report) {
                    case .confirmed(let size): confirmed.append((digest, size))
                    case .partial: break
                    case .failed(let message): report.blobFailures.append(BlobFailure(digest: digest, message: message))
                    }
                    break
                } catch BlobStep.unreachable {
                    return
                } catch SyncError.server(409, let body) where body.error == "upload_offset_mismatch" && attempts < 3 {
                    continue  // another upload moved on meanwhile: ask again how far the server got
                } catch let error as SyncError {
                    if case .server = error {} else if attempts < 3 { continue }  // broke off: resume
                    let message: String
                    if case .server(_, let body) = error { message = "\(body.error): \(body.message)" } else { message = "\(error)" }
                    let uploaded = try store.blob(digest)?.uploaded ?? state.uploaded
                    try store.setBlobProgress(digest, uploaded: uploaded, confirmedAt: nil, failure: message)
                    report.blobFailures.append(BlobFailure(digest: digest, message: message))
                    break
                }
            }
        }
    }

    /// The server did not answer a `HEAD`: no upload can go through now.
    private enum BlobStep: Error { case unreachable }

    /// How one blob's upload ended in this sync.
    private enum UploadOutcome {
        case confirmed(size: Int64)
        case partial
        case failed(String)
    }

    /// One blob: `HEAD` first when `probe`, then a `PUT` of what the server lacks.
    private func uploadOne(
        _ state: BlobState, probe: Bool, _ transport: any BlobTransport, _ cache: BlobCache, into report: inout SyncReport
    ) throws -> UploadOutcome {
        let digest = state.digest
        var held: BlobHeld = .partial(received: 0)
        if probe {
            do {
                held = try transport.blobStatus(digest)
            } catch SyncError.offline {
                throw BlobStep.unreachable
            }
        }
        if case .partial(let received) = held {
            guard cache.holds(digest) else {
                let message = "the local copy of \(digest.prefix(12)) is gone from this device, and the server does not have it: the actions naming it wait; attach the photo again"
                try store.setBlobProgress(digest, uploaded: received, confirmedAt: nil, failure: message)
                return .failed(message)
            }
            progress(.uploading(digest: digest, done: received, total: state.size))
            held = try transport.uploadBlob(digest, file: cache.path(of: digest), size: state.size, from: received)
            report.uploadedBytes += state.size - received
        }
        switch held {
        case .complete(let size):
            report.uploadedBlobs += 1
            progress(.uploading(digest: digest, done: size, total: size))
            return .confirmed(size: size)
        case .partial(let received):
            try store.setBlobProgress(digest, uploaded: received, confirmedAt: nil, failure: nil)
            return .partial
        }
    }

    /// The intents that must wait: each naming a blob known here and not confirmed, and
    /// the later intents of its order.
    func holdPlan() throws -> HoldPlan {
        let uses = try store.pendingBlobUses()
        let states = try store.blobs(uses.lazy.flatMap(\.digests))
        var firstOfOrder: [String: Int64] = [:]
        for use in uses
        where use.digests.contains(where: { states[$0].map { !$0.isConfirmed } ?? false }) {
            firstOfOrder[use.orderId] = min(firstOfOrder[use.orderId] ?? .max, use.deviceSeq)
        }
        guard let first = firstOfOrder.values.min() else { return HoldPlan() }
        var plan = HoldPlan()
        for intent in try store.pendingFrom(first) {
            if let start = firstOfOrder[intent.orderId], intent.seq >= start { plan.held.insert(intent.seq) }
        }
        return plan
    }

    /// When only intents that wait for blobs stand between the server and ready intents
    /// of other orders: asks the server how far it is (`POST /v1/sync/recover`) and, when
    /// it holds nothing from the first waiting number on, moves the waiting intents after
    /// the ready ones, so other orders keep syncing.
    /// - Returns: the new plan, or nil when nothing could move.
    func moveHeldAside(_ plan: HoldPlan, deviceId: String) throws -> HoldPlan? {
        guard let first = plan.firstHeld else { return nil }
        let after = try store.pendingFrom(first)
        guard after.contains(where: { !plan.held.contains($0.seq) }) else { return nil }
        let answer = try transport.recover(RecoverRequest(
            deviceId: deviceId, opIds: Array(after.prefix(RecoverRequest.maxOpIds).map(\.opId))))
        guard answer.known.isEmpty, answer.nextSeq == first else { return nil }
        guard try store.moveHeldLast(from: first, held: plan.held) > 0 else { return nil }
        return try holdPlan()
    }

    /// Deletes local copies of confirmed blobs beyond the budget, oldest confirmation first.
    func pruneBlobs(cache: BlobCache) throws {
        for digest in try store.blobsOverBudget(blobBudgetBytes) {
            cache.remove(digest)
            try store.setBlobPruned(digest, true)
        }
    }
}
