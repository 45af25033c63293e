import FieldSyncCore
import GRDB

/// A photo or signature image the device took, and how far it is on its way to the server.
public struct BlobState: Sendable, Equatable {
    public var digest: String
    public var size: Int64
    public var type: String
    /// Bytes the server held when last asked (or after the last upload).
    public var uploaded: Int64
    /// When the server confirmed the whole blob; nil while it is not there.
    public var confirmedAt: Int64?
    /// Why the last upload failed, if it did.
    public var failure: String?
    /// The local copy was deleted after the server confirmed it.
    public var pruned: Bool

    public var isConfirmed: Bool { confirmedAt != nil }

    init(row: Row) {
        digest = row["digest"]
        size = row["size"]
        type = row["type"]
        uploaded = row["uploaded"]
        confirmedAt = row["confirmed_at"]
        failure = row["failure"]
        pruned = row["pruned"]
    }
}

/// A pending intent and the blobs it names.
public struct PendingBlobUse: Sendable, Equatable {
    public var deviceSeq: Int64
    public var opId: String
    public var orderId: String
    public var digests: [String]
}

extension ClientDatabase {
    /// Notes a blob the device took (before the intent that names it is recorded); a blob
    /// known already keeps its state.
    public func addBlob(digest: String, size: Int64, type: BlobType) throws {
        try writer.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO blob (digest, size, type) VALUES (?, ?, ?)",
                arguments: [digest, size, type.rawValue])
        }
    }

    /// The bytes of confirmed photos and signatures to keep on the device, as last set with
    /// `sync --keep-blobs-mb`; nil when never set.
    public func blobBudget() throws -> Int64? {
        try writer.read { db in try Self.meta(db, "blob_budget_bytes").flatMap { Int64($0) } }
    }

    /// Remembers the budget for later syncs.
    public func setBlobBudget(_ bytes: Int64) throws {
        try writer.write { db in try Self.setMeta(db, "blob_budget_bytes", String(bytes)) }
    }

    /// The states of the blobs among `digests` that the store knows, by digest: what a
    /// command or a sync needs, read by key, whatever number of photos the device has
    /// recorded over the year (it read every row, at every `sync` and `show`).
    public func blobs<S: Sequence<String>>(_ digests: S) throws -> [String: BlobState] {
        let wanted = Array(Set(digests))
        guard !wanted.isEmpty else { return [:] }
        return try writer.read { db in
            var out: [String: BlobState] = [:]
            for start in stride(from: 0, to: wanted.count, by: 500) {
                let chunk = wanted[start..<min(start + 500, wanted.count)]
                let marks = repeatElement("?", count: chunk.count).joined(separator: ", ")
                for row in try Row.fetchAll(
                    db, sql: "SELECT * FROM blob WHERE digest IN (\(marks))", arguments: StatementArguments(Array(chunk)))
                {
                    let state = BlobState(row: row)
                    out[state.digest] = state
                }
            }
            return out
        }
    }

    /// One blob's state, or nil.
    public func blob(_ digest: String) throws -> BlobState? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM blob WHERE digest = ?", arguments: [digest]).map(BlobState.init)
        }
    }

    /// Records what the server holds of a blob after a `HEAD` or an upload.
    public func setBlobProgress(_ digest: String, uploaded: Int64, confirmedAt: Int64?, failure: String?) throws {
        try writer.write { db in
            try db.execute(
                sql: """
                    UPDATE blob SET uploaded = ?, confirmed_at = COALESCE(confirmed_at, ?), failure = ?
                    WHERE digest = ?
                    """,
                arguments: [uploaded, confirmedAt, failure, digest])
        }
    }

    /// The server confirmed these blobs whole: one transaction for all of them.
    public func confirmBlobs(_ blobs: [(digest: String, size: Int64)], at now: Int64) throws {
        try writer.write { db in
            for blob in blobs {
                try db.execute(
                    sql: "UPDATE blob SET uploaded = ?, confirmed_at = COALESCE(confirmed_at, ?), failure = NULL WHERE digest = ?",
                    arguments: [blob.size, now, blob.digest])
            }
        }
    }

    /// The local copy of a confirmed blob is gone (pruned) or back (fetched for a report).
    public func setBlobPruned(_ digest: String, _ pruned: Bool) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE blob SET pruned = ? WHERE digest = ?", arguments: [pruned, digest])
        }
    }

    /// Confirmed blobs still on the device beyond `budget` bytes, oldest confirmation
    /// first: the ones to delete so the cache fits the budget. Unconfirmed blobs are never
    /// listed.
    public func blobsOverBudget(_ budget: Int64) throws -> [String] {
        try writer.read { db in
            let unconfirmed = try Int64.fetchOne(
                db, sql: "SELECT COALESCE(SUM(size), 0) FROM blob WHERE confirmed_at IS NULL") ?? 0
            var total = unconfirmed
            var kept: [(String, Int64)] = []
            // Newest confirmations are kept first: a recent photo is the likeliest to be
            // printed again.
            for row in try Row.fetchAll(
                db, sql: "SELECT digest, size FROM blob WHERE confirmed_at IS NOT NULL AND pruned = 0 ORDER BY confirmed_at DESC, digest")
            {
                kept.append((row["digest"], row["size"]))
            }
            var drop: [String] = []
            for (digest, size) in kept {
                if total + size <= budget {
                    total += size
                } else {
                    drop.append(digest)
                }
            }
            return drop
        }
    }

    /// The pending intents that name blobs, in device order.
    public func pendingBlobUses() throws -> [PendingBlobUse] {
        try writer.read { db in
            // Only appends and sign-offs name blobs; the LIKE spares decoding the rest.
            try Row.fetchAll(
                db, sql: """
                    SELECT device_seq, op_id, order_id, body FROM outbox
                    WHERE state = 'pending' AND (body LIKE '%"digest"%' OR body LIKE '%"signatureDigest"%')
                    ORDER BY device_seq
                    """
            ).compactMap { row in
                let intent = try Self.decodeIntent(row["body"])
                let digests = intent.action.blobDigests
                guard !digests.isEmpty else { return nil }
                return PendingBlobUse(deviceSeq: row["device_seq"], opId: row["op_id"], orderId: row["order_id"], digests: digests)
            }
        }
    }

    /// The pending intents from device number `from` on: `(seq, opId, orderId)`.
    public func pendingFrom(_ from: Int64) throws -> [(seq: Int64, opId: String, orderId: String)] {
        try writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT device_seq, op_id, order_id FROM outbox WHERE state = 'pending' AND device_seq >= ? ORDER BY device_seq",
                arguments: [from]
            ).map { ($0["device_seq"], $0["op_id"], $0["order_id"]) }
        }
    }

    /// Moves the intents `held` (waiting for their blobs) after every other pending intent
    /// from number `from` on, keeping the order within each group, in one transaction.
    ///
    /// Only safe when the server holds nothing from `from` on (its `nextSeq` is `from`):
    /// the numbers are gap-free and nothing sent is renumbered. The view does not change
    /// (it folds by HLC, not by number).
    /// - Returns: how many intents moved ahead of the held ones.
    @discardableResult
    public func moveHeldLast(from: Int64, held: Set<Int64>) throws -> Int {
        try writer.write { db in
            let rejectedAfter = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM outbox WHERE state != 'pending' AND device_seq >= ?", arguments: [from]) ?? 0
            guard rejectedAfter == 0 else { return 0 }
            let rows = try Row.fetchAll(
                db, sql: "SELECT device_seq, body FROM outbox WHERE state = 'pending' AND device_seq >= ? ORDER BY device_seq",
                arguments: [from])
            let ready = rows.filter { !held.contains($0["device_seq"]) }
            let waiting = rows.filter { held.contains($0["device_seq"]) }
            guard !ready.isEmpty, !waiting.isEmpty else { return 0 }
            try db.execute(sql: "UPDATE outbox SET device_seq = -device_seq WHERE state = 'pending' AND device_seq >= ?", arguments: [from])
            var seq = from
            for row in ready + waiting {
                var intent = try Self.decodeIntent(row["body"])
                let old: Int64 = row["device_seq"]
                intent.deviceSeq = seq
                try db.execute(
                    sql: "UPDATE outbox SET device_seq = ?, body = ? WHERE device_seq = ?",
                    arguments: [seq, Self.encode(intent), -old])
                seq += 1
            }
            return ready.count
        }
    }
}
