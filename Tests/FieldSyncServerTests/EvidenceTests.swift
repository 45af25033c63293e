import FieldSyncCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import HummingbirdTesting
import Testing

@testable import FieldSyncServer

/// A sign-off waits for its evidence; the service report.
@Suite struct EvidenceTests {
    /// Alice's completed WO-1 with one photo; returns the service, her tablet and the order.
    static func completedWithPhoto(_ photo: [UInt8], blobs: BlobStore) throws -> (SyncService, TestDevice, WorkOrder) {
        let service = SyncService(database: try makeStore(), blobs: blobs, now: { testNow })
        for technician in [alice, bob] { _ = try service.addUser(name: technician.name, role: .technician) }
        var desk = TestDevice("disp-1", dispatcher)
        try openOrders(["WO-1"], assignedTo: "alice", device: &desk, service: service)
        var tablet = TestDevice("tab-alice", alice)
        _ = try tablet.push([
            tablet.intent("WO-1", .transition(to: .accepted, note: nil), at: testNow + minute),
            tablet.intent("WO-1", .transition(to: .onSite, note: nil), at: testNow + 2 * minute),
            tablet.intent("WO-1", .setField(field: .workDone, value: "换阀门", base: nil), at: testNow + 3 * minute),
            tablet.intent("WO-1", .append(ChildEntry(id: "L-part", kind: .part, text: "DN20 球阀", quantity: 2, amountFen: 3_550)), at: testNow + 3 * minute),
            tablet.intent("WO-1", .append(ChildEntry(id: "L-photo", kind: .photo, text: "漏水的阀门", digest: Digest.sha256Hex(photo))), at: testNow + 3 * minute),
            tablet.intent("WO-1", .transition(to: .completed, note: nil), at: testNow + 4 * minute),
        ], to: service)
        return (service, tablet, try service.order(id: "WO-1", as: alice))
    }

    static func put(_ bytes: [UInt8], into store: BlobStore) throws {
        let digest = Digest.sha256Hex(bytes)
        let upload = try BlobUpload(store: store, digest: digest, offset: 0, total: Int64(bytes.count))
        try upload.append(bytes)
        _ = try upload.finish()
    }

    @Test func aSignOffIsRefusedWhileItsPhotoOrSignatureIsMissingAndAppliedOnceTheyArrive() throws {
        // Given a completed order whose photo and signature the server does not hold
        let blobs = try makeBlobStore()
        let photo = pngBytes(size: 20_000, seed: 1)
        let signature = pngBytes(size: 3_000, seed: 2)
        var (service, tablet, order) = try Self.completedWithPhoto(photo, blobs: blobs)
        let signOff = SignOff(
            signerName: "王女士", signerRole: "customer", signatureDigest: Digest.sha256Hex(signature),
            rating: 5, comment: "很好", signedAt: testNow, contentHash: SignOffContent.hash(of: order))

        // When the sign-off arrives with the photo on the server but not the signature
        try Self.put(photo, into: blobs)
        let refused = try tablet.push([tablet.intent("WO-1", .signOff(signOff), at: testNow + 5 * minute)], to: service)
        // Then it is refused, naming what is missing
        #expect(refused.outcomes.first?.rejection?.code == .notAllowedNow)
        #expect(refused.outcomes.first?.rejection?.message.contains("signature \(Digest.sha256Hex(signature).prefix(12))") == true)
        #expect(try service.order(id: "WO-1", as: alice).status == .completed)

        // When the signature arrives and the customer signs again
        try Self.put(signature, into: blobs)
        let applied = try tablet.push([tablet.intent("WO-1", .signOff(signOff), at: testNow + 6 * minute)], to: service)
        // Then it is applied
        #expect(applied.outcomes.first?.result == .applied)
        order = try service.order(id: "WO-1", as: alice)
        #expect(order.status == .signedOff)
    }

    @Test func aSignOffIsRefusedWhileACoveredPhotoIsMissing() throws {
        let blobs = try makeBlobStore()
        let photo = pngBytes(size: 20_000, seed: 4)
        let signature = pngBytes(size: 3_000, seed: 5)
        var (service, tablet, order) = try Self.completedWithPhoto(photo, blobs: blobs)
        try Self.put(signature, into: blobs)
        let signOff = SignOff(
            signerName: "王女士", signerRole: "customer", signatureDigest: Digest.sha256Hex(signature),
            rating: 4, comment: nil, signedAt: testNow, contentHash: SignOffContent.hash(of: order))
        let refused = try tablet.push([tablet.intent("WO-1", .signOff(signOff), at: testNow + 5 * minute)], to: service)
        #expect(refused.outcomes.first?.rejection?.code == .notAllowedNow)
        #expect(refused.outcomes.first?.rejection?.message.contains("photo \(Digest.sha256Hex(photo).prefix(12))") == true)
        order = try service.order(id: "WO-1", as: alice)
        #expect(order.signOff == nil)
    }

    @Test func aSignatureThatIsAJPEGIsRefused() throws {
        let blobs = try makeBlobStore()
        let photo = pngBytes(size: 20_000, seed: 6)
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + pngBytes(size: 2_000, seed: 8).dropFirst(8)
        let (service, tablet0, order) = try Self.completedWithPhoto(photo, blobs: blobs)
        var tablet = tablet0
        try Self.put(photo, into: blobs)
        try Self.put(jpeg, into: blobs)
        let signOff = SignOff(
            signerName: "王女士", signerRole: "customer", signatureDigest: Digest.sha256Hex(jpeg),
            rating: 4, comment: nil, signedAt: testNow, contentHash: SignOffContent.hash(of: order))
        let refused = try tablet.push([tablet.intent("WO-1", .signOff(signOff), at: testNow + 5 * minute)], to: service)
        #expect(refused.outcomes.first?.rejection?.code == .invalidValue)
        #expect(refused.outcomes.first?.rejection?.message.contains("PNG, SVG") == true)
    }

    @Test func theReportRouteServesThePageWithImagesToDispatchersOnly() async throws {
        let blobs = try makeBlobStore()
        let photo = pngBytes(size: 400_000, seed: 3)
        let signature = Array(#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>"#.utf8)
        var (service, tablet, order) = try Self.completedWithPhoto(photo, blobs: blobs)
        try Self.put(photo, into: blobs)
        try Self.put(signature, into: blobs)
        let signOff = SignOff(
            signerName: "王女士", signerRole: "customer", signatureDigest: Digest.sha256Hex(signature),
            rating: 5, comment: "师傅很专业", signedAt: testNow + 5 * minute, contentHash: SignOffContent.hash(of: order))
        #expect(try tablet.push([tablet.intent("WO-1", .signOff(signOff), at: testNow + 5 * minute)], to: service).outcomes.first?.result == .applied)
        order = try service.order(id: "WO-1", as: dispatcher)
        let dispatcherToken = try service.addUser(name: "zhang", role: .dispatcher)
        let aliceToken = try service.addUser(name: "alice2", role: .technician)
        let app = buildApplication(service: service, logger: .init(label: "test"))
        try await app.test(.router) { client in
            let page = try await client.execute(uri: "/v1/orders/WO-1/report", method: .get, headers: [.authorization: "Bearer \(dispatcherToken)"])
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let html = String(buffer: page.body)
            #expect(html.contains("王女士"))
            #expect(html.contains("¥71.00"))
            #expect(html.contains(signOff.contentHash))
            #expect(html.contains("师傅很专业"))
            #expect(html.contains("data:image/png;base64," + Data(photo).base64EncodedString()))
            #expect(html.contains("data:image/svg+xml;base64," + Data(signature).base64EncodedString()))
            let refused = try await client.execute(uri: "/v1/orders/WO-1/report", method: .get, headers: [.authorization: "Bearer \(aliceToken)"])
            #expect(refused.status == .forbidden)
            // and the page's temporary file is gone
            let left = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("fieldsync-report-") }
            #expect(left.isEmpty)
        }
    }
}
