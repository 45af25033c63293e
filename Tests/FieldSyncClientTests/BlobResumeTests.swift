import FieldSyncClient
import FieldSyncCore
import Foundation
import PropertyBased
import Testing
@testable import FieldSyncServer

#if canImport(Glibc)
import Glibc
#endif

/// Sends the head of a `PUT` of `bytes[offset..<total]` and only `bytes[offset..<cut]` of
/// its body, then drops the connection: a transfer cut mid-file, as a tunnel or a dead
/// battery does it.
private func cutUpload(port: Int, token: String, digest: String, bytes: [UInt8], offset: Int, cut: Int) throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw SimFailure("no socket") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw SimFailure("cannot connect to the live server") }
    let head = "PUT /v1/blobs/\(digest) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
        + "Upload-Offset: \(offset)\r\nUpload-Length: \(bytes.count)\r\nContent-Length: \(bytes.count - offset)\r\n"
        + "Content-Type: application/octet-stream\r\n\r\n"
    let out = Array(head.utf8) + bytes[offset..<cut]
    let total = out.count
    var sent = 0
    while sent < total {
        let n = out.withUnsafeBytes { send(fd, $0.baseAddress! + sent, total - sent, Int32(MSG_NOSIGNAL)) }
        guard n > 0 else { break }  // the server may refuse early (offset held moved on)
        sent += n
    }
}

@Suite(.serialized) struct BlobResumeTests {
    static let cases = zip(Gen.uint64(), Gen.int(in: 1...3)).withoutShrink()

    @Test("property: an upload cut at random byte offsets and resumed gives a byte-identical file")
    func resumedUploadsAreByteIdentical() async throws {
        // Given a live server with a blob folder
        let root = NSTemporaryDirectory() + "fs-resume-\(UUID().uuidString)"
        let blobs = try BlobStore(root: root)
        let service = SyncService(database: try ServerDatabase.inMemory(), blobs: blobs, now: { 1_795_000_000_000 })
        let token = try service.addUser(name: "t1", role: .technician)
        // Started and stopped from a thread of its own: both block until the server, which
        // runs on the cooperative pool, has answered (see LiveServer).
        let started: Result<LiveServer, any Error> = await onOwnThread {
            Result { try LiveServer(service: service, maxPushBytes: PushRequest.maxBytes) }
        }
        let server = try started.get()
        let port = server.port

        await propertyCheck(count: 30, input: Self.cases) { seed, cutCount in
            let failure: String? = await onOwnThread {
                do {
                    let api = try ServerAPI(server: "http://127.0.0.1:\(port)", token: token)
                    // A photo of random size (some over the server's 1 MiB write buffer),
                    // cut at `cutCount` random offsets
                    var rng = SplitMix64(state: seed)
                    let size = Int.random(in: 16...2_600_000, using: &rng)
                    let bytes = pngBytes(size: size, seed: UInt8(truncatingIfNeeded: seed))
                    let digest = Digest.sha256Hex(bytes)
                    let cuts = (0..<cutCount).map { _ in Int.random(in: 1..<size, using: &rng) }.sorted()
                    let file = root + "-src-\(digest)"
                    FileManager.default.createFile(atPath: file, contents: Data(bytes))
                    defer { try? FileManager.default.removeItem(atPath: file) }

                    // When each piece's connection drops mid-body, and the client then
                    // continues from what HEAD reports, as the sync engine does
                    for cut in cuts {
                        guard case .partial(let held) = try api.blobStatus(digest), Int(held) < cut else { continue }
                        try cutUpload(port: port, token: token, digest: digest, bytes: bytes, offset: Int(held), cut: cut)
                    }
                    var result: BlobHeld = .partial(received: 0)
                    var tries = 0
                    while case .partial = result {
                        tries += 1
                        if tries > 10_000 { return "the upload never finished" }
                        do {
                            switch try api.blobStatus(digest) {
                            case .complete(let size): result = .complete(size: size)
                            case .partial(let held): result = try api.uploadBlob(digest, file: file, size: Int64(size), from: held)
                            }
                        } catch SyncError.server(409, _) {
                            continue  // the cut request still held the file, or moved on: ask again
                        }
                    }
                    // Then the server holds exactly the original bytes
                    guard result == .complete(size: Int64(size)) else { return "ended as \(result)" }
                    guard let path = blobs.path(of: digest) else { return "no final file" }
                    let stored = try Data(contentsOf: URL(fileURLWithPath: path))
                    guard stored == Data(bytes) else { return "stored bytes differ (size \(stored.count) of \(size), cuts \(cuts))" }
                    guard BlobStore.size(at: blobs.partialPath(digest)) == nil else { return "a partial file was left" }
                    return nil
                } catch {
                    return "\(error)"
                }
            }
            #expect(failure == nil, "seed \(seed), \(cutCount) cut(s): \(failure ?? "")")
        }
        await onOwnThread { server.stop() }
    }
}

/// A small, seedable generator (the same as the core property tests').
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
