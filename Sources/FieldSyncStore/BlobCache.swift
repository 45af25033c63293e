import FieldSyncCore
import Foundation

/// Photos and signature images on the device, content-addressed by SHA-256 and kept until
/// the server confirms them (then pruned within a size budget).
///
/// Files are read and copied in 1 MiB pieces: a 20 MB photo is never held in memory.
public struct BlobCache: Sendable {
    public let folder: String

    public init(home: String) { folder = home + "/blobs" }

    /// Where the blob `digest` lives (whether or not it is there).
    public func path(of digest: String) -> String { folder + "/" + digest }

    /// Whether the local copy is there.
    public func holds(_ digest: String) -> Bool { FileManager.default.fileExists(atPath: path(of: digest)) }

    /// Deletes the local copy (the server holds it).
    public func remove(_ digest: String) { try? FileManager.default.removeItem(atPath: path(of: digest)) }

    /// What ``ingest(_:purpose:maxBytes:)`` found.
    public struct Ingested: Sendable, Equatable {
        public var digest: String
        public var size: Int64
        public var type: BlobType
    }

    /// Checks the file at `source` (size, type by content), copies it into the cache under
    /// its SHA-256, and says what it is; nothing is kept when it is refused.
    ///
    /// - Throws: ``BlobError`` naming the problem and the fix.
    public func ingest(_ source: String, purpose: BlobType.Purpose, maxBytes: Int64 = BlobType.defaultMaxBytes) throws -> Ingested {
        guard let input = FileHandle(forReadingAtPath: source) else {
            throw BlobError(code: "unreadable_file", message: "cannot read the \(purpose.rawValue) file \(source): check the path")
        }
        defer { try? input.close() }
        let size = Int64((try? input.seekToEnd()) ?? 0)
        try? input.seek(toOffset: 0)
        if size > maxBytes {
            throw BlobError(
                code: "file_too_large",
                message: "the \(purpose.rawValue) file is \(Self.megabytes(size)), more than the \(Self.megabytes(maxBytes)) allowed: take it at a lower resolution or export a smaller file")
        }
        let head = (try? input.read(upToCount: BlobType.sniffLength)) ?? Data()
        let type = BlobType.sniff(head)
        guard let type, purpose.allowed.contains(type) else {
            throw BlobError(code: "unsupported_type", message: purpose.refusal(found: type))
        }
        try? input.seek(toOffset: 0)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw BlobError(code: "cache_unwritable", message: "cannot create \(folder): \(error)")
        }
        let temp = folder + "/.incoming-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: temp, contents: nil), let output = FileHandle(forWritingAtPath: temp) else {
            throw BlobError(code: "cache_unwritable", message: "cannot write into \(folder): check free space and permissions")
        }
        var hasher = StreamingSHA256()
        var copied: Int64 = 0
        do {
            defer { try? output.close() }
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                chunk.withUnsafeBytes { hasher.update($0) }
                try output.write(contentsOf: chunk)
                copied += Int64(chunk.count)
            }
            try output.synchronize()
        } catch {
            try? FileManager.default.removeItem(atPath: temp)
            throw BlobError(code: "cache_unwritable", message: "cannot copy the \(purpose.rawValue) into \(folder) (\(error)): check free space")
        }
        let digest = hasher.hexDigest()
        let final = path(of: digest)
        if FileManager.default.fileExists(atPath: final) {
            try? FileManager.default.removeItem(atPath: temp)
        } else if rename(temp, final) != 0 {
            try? FileManager.default.removeItem(atPath: temp)
            throw BlobError(code: "cache_unwritable", message: "cannot keep the \(purpose.rawValue) in \(folder): check free space")
        }
        return Ingested(digest: digest, size: copied, type: type)
    }

    /// Size and type (by content) of a file, or nil when unreadable or of no known type.
    public static func describe(_ path: String) -> (size: Int64, type: BlobType)? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: BlobType.sniffLength), let type = BlobType.sniff(head),
              let size = try? handle.seekToEnd()
        else { return nil }
        return (Int64(size), type)
    }

    /// "2.0 MB".
    public static func megabytes(_ bytes: Int64) -> String {
        let tenths = (bytes * 10 + (1 << 19)) >> 20
        return "\(tenths / 10).\(tenths % 10) MB"
    }
}

/// A photo or signature file the device refuses, or cannot keep.
public struct BlobError: Error, CustomStringConvertible, Equatable {
    /// A stable code: `file_too_large`, `unsupported_type`, `unreadable_file`, `cache_unwritable`.
    public var code: String
    /// What is wrong and what to do.
    public var message: String

    public var description: String { message }
}
