import FieldSyncCore
import Foundation

/// Writes a ``ServiceReport`` to a file in 256 KiB pieces, embedding images streamed from
/// their files as base64: neither the page nor any photo is ever held whole in memory.
struct ReportFile {
    /// Renders `report` into `path` (created or replaced), images from `blobs`.
    static func write(_ report: ServiceReport, to path: String, blobs: BlobStore?) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path)
        else {
            throw ServiceError.internalError(POSIXError(.EACCES))
        }
        defer { try? handle.close() }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 18)
        func write(_ text: String) throws {
            buffer.append(contentsOf: text.utf8)
            if buffer.count >= 1 << 18 {
                try handle.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try report.render(write: write) { digest in
            guard let blobs, BlobType.isDigest(digest), let file = blobs.path(of: digest),
                  let type = blobs.type(of: digest)
            else { return nil }
            return ServiceReport.Image(mimeType: type.mimeType) { out in try Base64File.stream(file, into: out) }
        }
        try handle.write(contentsOf: buffer)
    }
}

/// Base64 of a file, produced in pieces (multiples of 3 input bytes, so the pieces join).
enum Base64File {
    static func stream(_ path: String, into write: (String) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 3 * 65_536), !chunk.isEmpty {
            try write(chunk.base64EncodedString())
        }
    }
}
