import FieldSyncCore
import Foundation

/// Photos and signature images, content-addressed by SHA-256 and kept on the device until
/// the server confirms them.
public struct BlobCache: Sendable {
    public let folder: String

    public init(home: String) { folder = home + "/blobs" }

    /// Keeps `bytes` under their digest; writing the same blob twice is harmless.
    public func keep(_ bytes: [UInt8], digest: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + digest
        if FileManager.default.fileExists(atPath: path) { return }
        let temp = path + ".part"
        guard FileManager.default.createFile(atPath: temp, contents: Data(bytes)) else {
            throw StoreError.unreadable(path: temp, cause: "cannot write the blob")
        }
        try FileManager.default.moveItem(atPath: temp, toPath: path)
    }
}
