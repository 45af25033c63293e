import FieldSyncCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Photos and signature images on the server: a folder of files named by the SHA-256 of
/// their bytes (sync-protocol.md §11).
///
/// Beside the SQLite file it is `<db>.blobs/`; with PostgreSQL and several instances it is
/// one folder all of them mount. A finished blob lives at `ab/abcdef…` (the first two hex
/// digits fan the folder out) and never changes: it is written to `partial/<digest>`
/// first, verified (hash, type, size) and only then renamed into place, so a reader never
/// sees half a file and a crash leaves at most a partial upload that the next `PUT`
/// continues. Concurrent uploads of one blob (two devices, two instances) are kept apart
/// by an exclusive `flock` on the partial file.
public struct BlobStore: Sendable {
    /// The folder.
    public let root: String
    /// The largest blob accepted, in bytes.
    public let maxBytes: Int64

    /// The types a blob may have: anything a photo or a signature may be.
    public static let accepted: Set<BlobType> = Set(BlobType.Purpose.photo.allowed + BlobType.Purpose.signature.allowed)

    /// Opens (creating it if needed) the blob folder `root`.
    /// - Throws: when the folder cannot be created.
    public init(root: String, maxBytes: Int64 = BlobType.defaultMaxBytes) throws {
        self.root = root
        self.maxBytes = maxBytes
        try FileManager.default.createDirectory(atPath: root + "/partial", withIntermediateDirectories: true)
    }

    /// The folder beside a SQLite database file: `<db>.blobs`.
    public static func folder(besideDatabase path: String) -> String { path + ".blobs" }

    /// How much of a blob the store holds.
    public enum Held: Equatable, Sendable {
        /// Verified and in place, `size` bytes.
        case complete(size: Int64)
        /// An upload stopped after `bytes` bytes.
        case partial(bytes: Int64)
        /// Nothing.
        case absent
    }

    /// What the store holds of `digest`.
    public func held(_ digest: String) -> Held {
        if let size = Self.size(at: finalPath(digest)) { return .complete(size: size) }
        if let size = Self.size(at: partialPath(digest)) { return .partial(bytes: size) }
        return .absent
    }

    /// The file of a complete blob, or nil.
    public func path(of digest: String) -> String? {
        let path = finalPath(digest)
        return Self.size(at: path) == nil ? nil : path
    }

    /// The type of a complete blob, read from its first bytes; nil when absent or unknown.
    public func type(of digest: String) -> BlobType? {
        guard let path = path(of: digest), let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: BlobType.sniffLength)) ?? Data()
        return BlobType.sniff(head)
    }

    func finalPath(_ digest: String) -> String { "\(root)/\(digest.prefix(2))/\(digest)" }
    func partialPath(_ digest: String) -> String { "\(root)/partial/\(digest)" }

    static func size(at path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }
}

extension BlobStore {
    /// How long an upload that stopped may wait for its device to continue it.
    public static let partialRetentionSeconds: Int64 = 14 * 86_400

    /// Deletes partial uploads untouched for `retentionSeconds` (a tablet lost mid-upload
    /// never comes back for them); an upload running now (its `flock` held) is left alone.
    /// - Returns: how many were deleted.
    @discardableResult
    public func sweepPartials(now: Int64, retentionSeconds: Int64 = BlobStore.partialRetentionSeconds) -> Int {
        let folder = root + "/partial"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return 0 }
        var deleted = 0
        for name in names {
            let path = folder + "/" + name
            var info = stat()
            guard stat(path, &info) == 0, Int64(info.st_mtim.tv_sec) < now - retentionSeconds else { continue }
            let fd = open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }
            if unlink(path) == 0 { deleted += 1 }
        }
        return deleted
    }
}
