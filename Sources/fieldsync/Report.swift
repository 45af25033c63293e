import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncStore
import Foundation

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the printable service report (服务报告) of an order as one HTML page (works offline).",
        discussion: """
            The page holds the order, the customer, the times, the work and the property
            boundary, the bill, compensation, the photos, the signature and the content hash
            the customer signed; it prints on A4. Photos whose local copy was deleted after
            upload are fetched from the server when there is a connection.
            """)

    @OptionGroup var options: CommonOptions
    @Argument(help: "The order id, or any unique part of it.") var order: String
    @Option(help: "File to write (default: the standard output).", completion: .file()) var out: String?
    @Option(help: "The utility's name at the top of the page.") var utility: String = ServiceReport.defaultUtility

    func run() throws {
        try guarded {
            let (store, account) = try options.openAccount()
            let id = try store.resolveOrderId(order)
            guard let o = try store.order(id: id) else { throw StoreError.unknownOrder(order) }
            let cache = BlobCache(home: options.homePath)
            let fetched = refetch(o, cache: cache, store: store, account: account)
            let report = ServiceReport(order: o, utility: utility, generatedAt: WallClock.now())
            let handle: FileHandle
            if let out {
                guard FileManager.default.createFile(atPath: out, contents: nil), let h = FileHandle(forWritingAtPath: out) else {
                    throw CLIError("cannot write \(out): check the folder and its permissions")
                }
                handle = h
            } else {
                handle = FileHandle.standardOutput
            }
            var buffer: [UInt8] = []
            func write(_ text: String) throws {
                buffer.append(contentsOf: text.utf8)
                if buffer.count >= 1 << 18 {
                    try handle.write(contentsOf: buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            try report.render(write: write) { digest in
                let path = cache.path(of: digest)
                guard BlobType.isDigest(digest), let type = BlobCache.describe(path)?.type else { return nil }
                return ServiceReport.Image(mimeType: type.mimeType) { out in try Self.base64(path, into: out) }
            }
            try handle.write(contentsOf: buffer)
            if out != nil {
                try handle.close()
                let missing = o.referencedDigests.filter { !cache.holds($0) }.count
                print("report of \(id) written to \(out ?? "")" + (fetched > 0 ? " (\(fetched) image(s) fetched from the server)" : "")
                      + (missing > 0 ? "; \(missing) image(s) are on neither this device nor reachable: they show as missing" : ""))
            }
        }
    }

    /// Fetches images of the order whose local copy is gone (pruned after upload, or taken
    /// on another device); offline it fetches nothing and the page says which are missing.
    func refetch(_ order: WorkOrder, cache: BlobCache, store: ClientDatabase, account: Account) -> Int {
        let missing = order.referencedDigests.filter { BlobType.isDigest($0) && !cache.holds($0) }.sorted()
        guard !missing.isEmpty, let api = try? ServerAPI(server: account.server, token: account.token) else { return 0 }
        try? FileManager.default.createDirectory(atPath: cache.folder, withIntermediateDirectories: true)
        var fetched = 0
        for digest in missing {
            let temp = cache.folder + "/.download-\(digest)"
            do {
                try api.downloadBlob(digest, order: order.id, to: temp)
                // Only bytes that hash to their name join the cache.
                guard Self.sha256(temp) == digest, rename(temp, cache.path(of: digest)) == 0 else {
                    try? FileManager.default.removeItem(atPath: temp)
                    continue
                }
                try? store.setBlobPruned(digest, false)
                fetched += 1
            } catch SyncError.offline {
                try? FileManager.default.removeItem(atPath: temp)
                return fetched
            } catch {
                try? FileManager.default.removeItem(atPath: temp)
            }
        }
        return fetched
    }

    static func sha256(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var hasher = StreamingSHA256()
        while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update($0) }
        }
        return hasher.hexDigest()
    }

    /// Base64 of a file in pieces of 3 × 64 KiB input bytes (so the pieces join).
    static func base64(_ path: String, into write: (String) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 3 * 65_536), !chunk.isEmpty {
            try write(chunk.base64EncodedString())
        }
    }
}

/// The photos and signature of an order this device has not got onto the server yet, one
/// line each, for `show`.
func evidenceUploading(_ order: WorkOrder, store: ClientDatabase) throws -> [String] {
    let blobs = try store.blobs(order.referencedDigests)
    return order.referencedDigests.sorted().compactMap { digest in
        guard let state = blobs[digest], !state.isConfirmed else { return nil }
        return "\(digest.prefix(12)) \(state.type.uppercased()) \(BlobCache.megabytes(state.uploaded)) of \(BlobCache.megabytes(state.size))"
            + (state.failure.map { " (last try: \($0))" } ?? "")
    }
}
