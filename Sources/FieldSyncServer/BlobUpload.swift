import FieldSyncCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One `PUT` of (part of) a blob: appends to the partial file from `offset`, hashing as it
/// goes, and on the last byte verifies and moves the file into place.
///
/// Blocking file calls: the route calls it from ``Offload``. Bytes are written as they
/// arrive (in pieces of at most ``BlobUpload/flushBytes``), so a cut connection keeps
/// everything received and the next `PUT` continues from there.
final class BlobUpload: @unchecked Sendable {
    let store: BlobStore
    let digest: String
    let total: Int64
    private(set) var held: Int64
    private let handle: FileHandle
    /// Hashing from byte 0 in this request; nil when continuing (the file is hashed again
    /// at the end, streamed from disk).
    private var hasher: StreamingSHA256?
    private var typeChecked: Bool

    /// Bytes buffered before a write to disk.
    static let flushBytes = 1 << 20

    /// Opens the partial file of `digest` for bytes from `offset` of a `total`-byte blob.
    ///
    /// - Throws: 409 `upload_busy` when another upload of the blob runs;
    ///   409 `upload_offset_mismatch` when `offset` is not what the server holds (0
    ///   restarts an upload from scratch).
    init(store: BlobStore, digest: String, offset: Int64, total: Int64) throws(ServiceError) {
        self.store = store
        self.digest = digest
        self.total = total
        let path = store.partialPath(digest)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .internalError(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw .conflict(
                "upload_busy",
                "another upload of blob \(digest) is running (another device sends the same file): try again in a minute; it will be there or continue where that one stopped")
        }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var info = stat()
        fstat(fd, &info)
        let size = Int64(info.st_size)
        if offset == 0 {
            ftruncate(fd, 0)
        } else if offset != size {
            throw ServiceError(
                status: 409, error: "upload_offset_mismatch",
                message: "the server holds \(size) bytes of blob \(digest), not \(offset): send the rest from Upload-Offset \(size) (HEAD tells it), or from 0 to start again")
        }
        if size > total {
            ftruncate(fd, 0)
            throw .badRequest(
                "bad_upload_range",
                "the server held \(size) bytes of an upload of blob \(digest) but Upload-Length says \(total): upload the whole file again from byte 0")
        }
        held = offset
        lseek(fd, off_t(offset), SEEK_SET)
        hasher = offset == 0 ? StreamingSHA256() : nil
        typeChecked = offset > 0
    }

    deinit { flock(handle.fileDescriptor, LOCK_UN) }

    /// Writes the next bytes of the body.
    ///
    /// - Throws: 400 `bad_upload_range` when the body carries more than `Upload-Length`;
    ///   415 `unsupported_type` when the first bytes are no photo or signature type (the
    ///   partial file is dropped).
    func append(_ bytes: [UInt8]) throws(ServiceError) {
        guard !bytes.isEmpty else { return }
        if held + Int64(bytes.count) > total {
            throw .badRequest(
                "bad_upload_range",
                "the body carries more than Upload-Length \(total) bytes of blob \(digest): send exactly the file's bytes from Upload-Offset")
        }
        if !typeChecked {
            try checkType(bytes)
            typeChecked = true
        }
        hasher?.update(bytes)
        do {
            try handle.write(contentsOf: bytes)
        } catch {
            throw .internalError(error)
        }
        held += Int64(bytes.count)
    }

    /// Ends this request: when every byte is there, verifies the hash and the type, and
    /// moves the file into place.
    ///
    /// - Returns: the receipt, or nil when bytes are still missing (the answer is `202`).
    /// - Throws: 422 `digest_mismatch` (the partial file is dropped: nothing is kept).
    func finish() throws(ServiceError) -> BlobReceipt? {
        guard held == total else {
            try? handle.synchronize()
            return nil
        }
        if !typeChecked {  // an empty blob
            try checkType([])
        }
        let actual: String
        do {
            if let hasher {
                actual = hasher.hexDigest()
            } else {
                actual = try Self.hashFile(handle)
            }
        } catch {
            throw .internalError(error)
        }
        let partial = store.partialPath(digest)
        guard actual == digest else {
            unlink(partial)
            throw ServiceError(
                status: 422, error: "digest_mismatch",
                message: "the bytes received hash to \(actual), not to \(digest): the file changed or was damaged on the way; upload it again from byte 0")
        }
        guard let type = store.type(ofFileAt: partial), BlobStore.accepted.contains(type) else {
            unlink(partial)
            throw Self.unsupported(nil)
        }
        do {
            try handle.synchronize()
            let final = store.finalPath(digest)
            try FileManager.default.createDirectory(
                atPath: (final as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard rename(partial, final) == 0 else {
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
        } catch {
            throw .internalError(error)
        }
        return BlobReceipt(sha256: digest, size: total, type: type.rawValue, stored: true)
    }

    private func checkType(_ first: [UInt8]) throws(ServiceError) {
        let type = BlobType.sniff(first)
        guard let type, BlobStore.accepted.contains(type) else {
            unlink(store.partialPath(digest))
            throw Self.unsupported(type)
        }
    }

    static func unsupported(_ type: BlobType?) -> ServiceError {
        ServiceError(
            status: 415, error: "unsupported_type",
            message: "a blob must be a JPEG, PNG, HEIC or PDF photo or a PNG or SVG signature (checked by its first bytes); this is \(type.map { $0.rawValue.uppercased() } ?? "none of them"): export the file in one of those types")
    }

    /// SHA-256 of the file from byte 0, read in 1 MiB pieces.
    static func hashFile(_ handle: FileHandle) throws -> String {
        try handle.seek(toOffset: 0)
        var hasher = StreamingSHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update($0) }
        }
        return hasher.hexDigest()
    }
}

extension BlobStore {
    /// The type of any file, from its first bytes.
    func type(ofFileAt path: String) -> BlobType? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return BlobType.sniff((try? handle.read(upToCount: BlobType.sniffLength)) ?? Data())
    }
}
