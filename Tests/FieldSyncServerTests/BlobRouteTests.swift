import FieldSyncCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import HummingbirdTesting
import Testing

@testable import FieldSyncServer

/// A fresh blob folder under the temporary directory.
func makeBlobStore(maxBytes: Int64 = BlobType.defaultMaxBytes) throws -> BlobStore {
    try BlobStore(root: NSTemporaryDirectory() + "fieldsync-blobs-\(UUID().uuidString)", maxBytes: maxBytes)
}

/// A PNG of `size` bytes: the signature, then bytes from `seed`.
func pngBytes(size: Int, seed: UInt8 = 7) -> [UInt8] {
    let magic: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    var bytes = Array(magic.prefix(size))
    var x = UInt32(seed) &* 2_654_435_761 | 1
    while bytes.count < size {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5
        bytes.append(UInt8(truncatingIfNeeded: x))
    }
    return bytes
}

@Suite struct BlobRouteTests {
    static func headers(_ token: String, _ extra: [HTTPField.Name: String] = [:]) -> HTTPFields {
        var fields: HTTPFields = [.authorization: "Bearer \(token)"]
        for (name, value) in extra { fields[name] = value }
        return fields
    }

    static func error(_ response: TestResponse) -> String? {
        try? JSONDecoder().decode(APIErrorBody.self, from: Data(response.body.readableBytesView)).error
    }

    @Test func aBlobIsStoredOnceVerifiedAndServedBack() async throws {
        // Given a server with a blob folder, and a photo
        let store = try makeBlobStore()
        let setup = try Setup(blobs: store)
        let photo = pngBytes(size: 300_000)
        let digest = Digest.sha256Hex(photo)
        try await setup.app.test(.router) { client in
            // When it is not there yet, HEAD says so with offset 0
            let before = try await client.execute(uri: "/v1/blobs/\(digest)", method: .head, headers: Self.headers(setup.technicianToken))
            #expect(before.status == .notFound)
            #expect(before.headers[BlobRoutes.uploadOffset] == "0")
            // When two devices upload the same photo
            let first = try await client.execute(
                uri: "/v1/blobs/\(digest)", method: .put, headers: Self.headers(setup.technicianToken), body: ByteBuffer(bytes: photo))
            let second = try await client.execute(
                uri: "/v1/blobs/\(digest)", method: .put, headers: Self.headers(setup.dispatcherToken), body: ByteBuffer(bytes: photo))
            // Then the first stores it and the second finds it there
            #expect(first.status == .created)
            #expect(second.status == .ok)
            let receipt = try JSONDecoder().decode(BlobReceipt.self, from: Data(second.body.readableBytesView))
            #expect(receipt == BlobReceipt(sha256: digest, size: Int64(photo.count), type: "png", stored: false))
            // And the folder holds one file with those bytes, nothing partial
            let files = try FileManager.default.subpathsOfDirectory(atPath: store.root).filter { !$0.hasSuffix("partial") && $0.count > 3 }
            #expect(files == ["\(digest.prefix(2))/\(digest)"])
            #expect(try Array(Data(contentsOf: URL(fileURLWithPath: store.root + "/" + files[0]))) == photo)
            // And HEAD and a dispatcher's GET answer it
            let head = try await client.execute(uri: "/v1/blobs/\(digest)", method: .head, headers: Self.headers(setup.technicianToken))
            #expect(head.status == .ok)
            #expect(head.headers[BlobRoutes.uploadOffset] == String(photo.count))
            let get = try await client.execute(uri: "/v1/blobs/\(digest)", method: .get, headers: Self.headers(setup.dispatcherToken))
            #expect(get.status == .ok)
            #expect(get.headers[.contentType] == "image/png")
            #expect(get.headers[.contentSecurityPolicy]?.contains("sandbox") == true)
            #expect(Array(get.body.readableBytesView) == photo)
        }
    }

    @Test func aCorruptedUploadIsRefusedAndNothingIsKept() async throws {
        let store = try makeBlobStore()
        let setup = try Setup(blobs: store)
        let photo = pngBytes(size: 50_000)
        let digest = Digest.sha256Hex(photo)
        var copy = photo
        copy[40_000] ^= 0xFF
        let damaged = copy
        try await setup.app.test(.router) { client in
            // When the bytes do not hash to the address
            let answer = try await client.execute(
                uri: "/v1/blobs/\(digest)", method: .put, headers: Self.headers(setup.technicianToken), body: ByteBuffer(bytes: damaged))
            // Then it is refused, naming the fix, and nothing is held
            #expect(answer.status == .unprocessableContent)
            #expect(Self.error(answer) == "digest_mismatch")
            #expect(String(buffer: answer.body).contains("upload it again from byte 0"))
            #expect(store.held(digest) == .absent)
        }
    }

    @Test func sizeTypeAndRangeLimitsAreRefusedBeforeAnythingIsKept() async throws {
        let store = try makeBlobStore(maxBytes: 100_000)
        let setup = try Setup(blobs: store)
        let token = setup.technicianToken
        try await setup.app.test(.router) { client in
            // Over the limit: 413 before the body is read
            let big = pngBytes(size: 100_001)
            let tooBig = try await client.execute(
                uri: "/v1/blobs/\(Digest.sha256Hex(big))", method: .put, headers: Self.headers(token), body: ByteBuffer(bytes: big))
            #expect(tooBig.status == .contentTooLarge)
            #expect(Self.error(tooBig) == "blob_too_large")
            #expect(store.held(Digest.sha256Hex(big)) == .absent)
            // Exactly the limit is fine
            let edge = pngBytes(size: 100_000)
            let atLimit = try await client.execute(
                uri: "/v1/blobs/\(Digest.sha256Hex(edge))", method: .put, headers: Self.headers(token), body: ByteBuffer(bytes: edge))
            #expect(atLimit.status == .created)
            // Not an image: 415 by content, whatever it claims to be
            let exe = Array("MZ\u{90}\u{0} this is not a photo".utf8) + [UInt8](repeating: 1, count: 1_000)
            let wrongType = try await client.execute(
                uri: "/v1/blobs/\(Digest.sha256Hex(exe))", method: .put,
                headers: Self.headers(token, [.contentType: "image/jpeg"]), body: ByteBuffer(bytes: exe))
            #expect(wrongType.status == .unsupportedMediaType)
            #expect(Self.error(wrongType) == "unsupported_type")
            #expect(store.held(Digest.sha256Hex(exe)) == .absent)
            // A bad address, and offsets that run past the length
            let badDigest = try await client.execute(uri: "/v1/blobs/XYZ", method: .put, headers: Self.headers(token), body: ByteBuffer(bytes: edge))
            #expect(Self.error(badDigest) == "bad_digest")
            let small = pngBytes(size: 1_000, seed: 3)
            let pastEnd = try await client.execute(
                uri: "/v1/blobs/\(Digest.sha256Hex(small))", method: .put,
                headers: Self.headers(token, [BlobRoutes.uploadOffset: "10", BlobRoutes.uploadLength: "500"]),
                body: ByteBuffer(bytes: small))
            #expect(pastEnd.status == .badRequest)
            #expect(Self.error(pastEnd) == "bad_upload_range")
            let notNumber = try await client.execute(
                uri: "/v1/blobs/\(Digest.sha256Hex(small))", method: .put,
                headers: Self.headers(token, [BlobRoutes.uploadOffset: "ten"]), body: ByteBuffer(bytes: small))
            #expect(Self.error(notNumber) == "bad_upload_range")
            #expect(store.held(Digest.sha256Hex(small)) == .absent)
        }
    }

    @Test func anUploadInPiecesContinuesFromTheOffsetTheServerHolds() async throws {
        let store = try makeBlobStore()
        let setup = try Setup(blobs: store)
        let photo = pngBytes(size: 2_500_000, seed: 9)
        let digest = Digest.sha256Hex(photo)
        let token = setup.technicianToken
        try await setup.app.test(.router) { client in
            // When the first piece arrives with the whole length announced
            let first = try await client.execute(
                uri: "/v1/blobs/\(digest)", method: .put,
                headers: Self.headers(token, [BlobRoutes.uploadLength: String(photo.count)]),
                body: ByteBuffer(bytes: photo[0..<1_300_000]))
            // Then the server holds that much and says so
            #expect(first.status == .accepted)
            #expect(first.headers[BlobRoutes.uploadOffset] == "1300000")
            let head = try await client.execute(uri: "/v1/blobs/\(digest)", method: .head, headers: Self.headers(token))
            #expect(head.status == .notFound)
            #expect(head.headers[BlobRoutes.uploadOffset] == "1300000")
            // A continuation from the wrong offset is refused with the right one
            let wrong = try await client.execute(
                uri: "/v1/blobs/\(digest)", method: .put,
                headers: Self.headers(token, [BlobRoutes.uploadOffset: "1000", BlobRoutes.uploadLength: String(photo.count)]),
                body: ByteBuffer(bytes: photo[1_000...]))
            #expect(wrong.status == .conflict)
            #expect(Self.error(wrong) == "upload_offset_mismatch")
            #expect(String(buffer: wrong.body).contains("1300000"))
            // When the rest follows from the offset held
            let rest = try await client.execute(
                uri: "/v1/blobs/\(digest)", method: .put,
                headers: Self.headers(token, [BlobRoutes.uploadOffset: "1300000", BlobRoutes.uploadLength: String(photo.count)]),
                body: ByteBuffer(bytes: photo[1_300_000...]))
            // Then the blob is whole and byte-identical
            #expect(rest.status == .created)
            let path = try #require(store.path(of: digest))
            #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == photo)
            #expect(store.held(digest) == .complete(size: Int64(photo.count)))
        }
    }

    @Test func aTechnicianGetsOnlyBlobsHisOrdersName() async throws {
        let store = try makeBlobStore()
        let setup = try Setup(blobs: store)
        let photo = pngBytes(size: 5_000)
        let digest = Digest.sha256Hex(photo)
        var desk = TestDevice("desk-1", dispatcher)
        try openOrders(["WO-1", "WO-2"], assignedTo: "alice", device: &desk, service: setup.service)
        var crew = TestDevice("tab-1", alice)
        _ = try crew.push([crew.intent("WO-1", .append(ChildEntry(id: "P1", kind: .photo, text: "valve", digest: digest)))], to: setup.service)
        try await setup.app.test(.router) { client in
            _ = try await client.execute(uri: "/v1/blobs/\(digest)", method: .put, headers: Self.headers(setup.technicianToken), body: ByteBuffer(bytes: photo))
            let named = try await client.execute(uri: "/v1/blobs/\(digest)?order=WO-1", method: .get, headers: Self.headers(setup.technicianToken))
            #expect(named.status == .ok)
            #expect(Array(named.body.readableBytesView) == photo)
            // Another of his orders that does not name it, or no order: the same 404
            let other = try await client.execute(uri: "/v1/blobs/\(digest)?order=WO-2", method: .get, headers: Self.headers(setup.technicianToken))
            #expect(other.status == .notFound)
            #expect(Self.error(other) == "unknown_blob")
            let none = try await client.execute(uri: "/v1/blobs/\(digest)", method: .get, headers: Self.headers(setup.technicianToken))
            #expect(Self.error(none) == "unknown_blob")
        }
    }

    @Test func partialUploadsLeftForTwoWeeksAreSweptRunningOnesAreNot() throws {
        // Given an old partial upload, a fresh one, and an old one whose upload runs now
        let store = try makeBlobStore()
        let old = String(repeating: "a", count: 64), fresh = String(repeating: "b", count: 64), running = String(repeating: "c", count: 64)
        for digest in [old, fresh, running] {
            FileManager.default.createFile(atPath: store.partialPath(digest), contents: Data(pngBytes(size: 100)))
        }
        let now = Int64(Date().timeIntervalSince1970)
        let longAgo = Date(timeIntervalSince1970: TimeInterval(now - BlobStore.partialRetentionSeconds - 60))
        try FileManager.default.setAttributes([.modificationDate: longAgo], ofItemAtPath: store.partialPath(old))
        try FileManager.default.setAttributes([.modificationDate: longAgo], ofItemAtPath: store.partialPath(running))
        let upload = try BlobUpload(store: store, digest: running, offset: 100, total: 1_000)
        // When the server sweeps
        let deleted = store.sweepPartials(now: now)
        // Then only the old, idle one is gone
        #expect(deleted == 1)
        #expect(store.held(old) == .absent)
        #expect(store.held(fresh) == .partial(bytes: 100))
        #expect(store.held(running) == .partial(bytes: 100))
        _ = upload
    }
}
