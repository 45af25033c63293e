import FieldSyncClient
import FieldSyncCore
import Foundation
import PropertyBased
import Testing
@testable import FieldSyncServer
@testable import FieldSyncStore

/// The server in process for intents.
final class Loop: SyncTransport {
    let service: SyncService
    let principal: Principal
    var pushes = 0

    init(_ service: SyncService, _ principal: Principal) {
        self.service = service
        self.principal = principal
    }

    func push(_ request: PushRequest) throws -> PushResponse {
        pushes += 1
        return try call { try service.push(request, as: principal) }
    }
    func pull(cursor: Int64, limit: Int) throws -> PullResponse {
        try call { try service.pull(as: principal, cursor: cursor, limit: limit, delta: true) }
    }
    func recover(_ request: RecoverRequest) throws -> RecoverResponse {
        try call { try service.recover(request, as: principal) }
    }
}

/// The server's blob store in process; `failing` digests are refused as a broken link would.
final class LoopBlobs: BlobTransport {
    let store: BlobStore
    var failing: Set<String> = []
    var uploaded: [String] = []

    init(_ store: BlobStore) { self.store = store }

    func blobStatus(_ digest: String) throws -> BlobHeld {
        switch store.held(digest) {
        case .complete(let size): .complete(size: size)
        case .partial(let bytes): .partial(received: bytes)
        case .absent: .partial(received: 0)
        }
    }

    func uploadBlob(_ digest: String, file: String, size: Int64, from offset: Int64) throws -> BlobHeld {
        if failing.contains(digest) { throw SyncError.offline("the link dropped") }
        let upload = try call { try BlobUpload(store: store, digest: digest, offset: offset, total: size) }
        let handle = try #require(FileHandle(forReadingAtPath: file))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        while let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
            try call { try upload.append(Array(chunk)) }
        }
        uploaded.append(digest)
        return try call { try upload.finish() }.map { .complete(size: $0.size) } ?? .partial(received: upload.held)
    }
}

private func call<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ServiceError {
        throw SyncError.server(status: error.status, error: error.body)
    }
}

/// A depot with a blob folder: the desk opens orders for t1, whose tablet takes photos.
struct EvidenceDepot {
    final class Clock: @unchecked Sendable { var now: Int64 = 1_795_000_000_000 }
    let clock = Clock()
    let service: SyncService
    let blobs: BlobStore
    let desk: ClientDatabase
    let tablet: ClientDatabase
    let cache: BlobCache
    let deskLink: Loop
    let tabletLink: Loop
    let blobLink: LoopBlobs
    let home: String

    init() throws {
        let clock = self.clock
        blobs = try BlobStore(root: NSTemporaryDirectory() + "fs-server-blobs-\(UUID().uuidString)")
        service = SyncService(database: try ServerDatabase.inMemory(), blobs: blobs, now: { clock.now })
        _ = try service.addUser(name: "wang", role: .dispatcher)
        _ = try service.addUser(name: "t1", role: .technician)
        desk = try ClientDatabase.inMemory()
        _ = try desk.saveAccount(server: "loop://", user: "wang", role: .dispatcher, token: "-")
        tablet = try ClientDatabase.inMemory()
        _ = try tablet.saveAccount(server: "loop://", user: "t1", role: .technician, token: "-")
        deskLink = Loop(service, Principal(name: "wang", role: .dispatcher))
        tabletLink = Loop(service, Principal(name: "t1", role: .technician))
        blobLink = LoopBlobs(blobs)
        home = NSTemporaryDirectory() + "fs-tablet-\(UUID().uuidString)"
        cache = BlobCache(home: home)
    }

    func sync(_ store: ClientDatabase, _ link: Loop, budget: Int64 = SyncEngine.defaultBlobBudgetBytes) throws -> SyncReport {
        clock.now += 1_000
        let now = clock.now
        var engine = SyncEngine(store: store, transport: link, batchSize: 50, now: { now })
        if link === tabletLink {
            engine.blobTransport = blobLink
            engine.blobCache = cache
            engine.blobBudgetBytes = budget
        }
        return try engine.sync()
    }

    func open(_ ids: [String]) throws {
        for id in ids {
            clock.now += 1_000
            try desk.record(orderId: id, now: clock.now) { _ in
                .create(fields: [.kind: "repair", .urgency: "1", .customerName: "王女士", .address: "解放路 18 号"])
            }
            try desk.record(orderId: id, now: clock.now) { _ in .assign(technician: "t1") }
        }
        _ = try sync(desk, deskLink)
        _ = try sync(tablet, tabletLink)
    }

    /// Takes a photo of `size` bytes on the tablet, as `fieldsync photo` does.
    func photo(_ order: String, size: Int, seed: UInt8) throws -> String {
        let file = home + "-src-\(seed).png"
        FileManager.default.createFile(atPath: file, contents: Data(pngBytes(size: size, seed: seed)))
        let blob = try cache.ingest(file, purpose: .photo)
        clock.now += 1_000
        try tablet.record(orderId: order, now: clock.now) { _ in
            .append(ChildEntry(id: "P-\(seed)", kind: .photo, text: "阀门 \(seed)", digest: blob.digest))
        }
        try tablet.addBlob(digest: blob.digest, size: blob.size, type: blob.type)
        return blob.digest
    }

    func log(_ order: String, _ text: String) throws {
        clock.now += 1_000
        try tablet.record(orderId: order, now: clock.now) { _ in .append(ChildEntry(id: UUID().uuidString, kind: .log, text: text)) }
    }

    func serverOrder(_ id: String) throws -> WorkOrder {
        try service.order(id: id, as: Principal(name: "wang", role: .dispatcher))
    }
}

/// A PNG of `size` bytes: the signature, then bytes from `seed`.
func pngBytes(size: Int, seed: UInt8) -> [UInt8] {
    let magic: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    var bytes = Array(magic.prefix(size))
    var x = UInt32(seed) &* 2_654_435_761 | 1
    while bytes.count < size {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5
        bytes.append(UInt8(truncatingIfNeeded: x))
    }
    return bytes
}

@Suite struct BlobSyncTests {
    @Test func anIntentWaitsForItsBlobWhileOtherOrdersSyncAndIsAppliedWhenItArrives() throws {
        // Given t1 photographs WO-1, then logs on WO-1 and on WO-2, and the photo's upload fails
        let depot = try EvidenceDepot()
        try depot.open(["WO-1", "WO-2"])
        let digest = try depot.photo("WO-1", size: 300_000, seed: 1)
        try depot.log("WO-1", "等配件")
        try depot.log("WO-2", "到达现场")
        depot.blobLink.failing = [digest]

        // When the tablet syncs
        let first = try depot.sync(depot.tablet, depot.tabletLink)

        // Then WO-2's line went through, and WO-1's photo and the log after it wait
        #expect(first.pushFailure == nil)
        #expect(first.applied == 1)
        #expect(first.waitingForBlobs == 2)
        #expect(try depot.serverOrder("WO-2").children.count == 1)
        #expect(try depot.serverOrder("WO-1").children.isEmpty)
        #expect(try depot.tablet.pendingCount() == 2)
        #expect(try depot.tablet.blob(digest)?.isConfirmed == false)
        // and the local view still shows both (nothing is dropped)
        #expect(try depot.tablet.order(id: "WO-1")?.children.count == 2)

        // When the link comes back
        depot.blobLink.failing = []
        let second = try depot.sync(depot.tablet, depot.tabletLink)

        // Then the blob is on the server and the waiting intents are applied, in order
        #expect(second.uploadedBlobs == 1)
        #expect(second.applied == 2)
        #expect(second.waitingForBlobs == 0)
        #expect(try depot.tablet.pendingCount() == 0)
        #expect(depot.blobs.held(digest) == .complete(size: 300_000))
        let order = try depot.serverOrder("WO-1")
        #expect(order.children.map(\.entry.kind) == [.photo, .log])
        #expect(try depot.tablet.blob(digest)?.isConfirmed == true)
    }

    @Test func theSamePhotoOnTwoOrdersIsUploadedOnce() throws {
        let depot = try EvidenceDepot()
        try depot.open(["WO-1", "WO-2"])
        let a = try depot.photo("WO-1", size: 10_000, seed: 2)
        let b = try depot.photo("WO-2", size: 10_000, seed: 2)
        #expect(a == b)
        let report = try depot.sync(depot.tablet, depot.tabletLink)
        #expect(report.applied == 2)
        #expect(depot.blobLink.uploaded == [a])
    }

    @Test func confirmedCopiesArePrunedWithinTheBudgetUnconfirmedNever() throws {
        // Given three photos, one of which cannot upload yet
        let depot = try EvidenceDepot()
        try depot.open(["WO-1", "WO-2"])
        let old = try depot.photo("WO-1", size: 400_000, seed: 3)
        _ = try depot.sync(depot.tablet, depot.tabletLink)
        let recent = try depot.photo("WO-1", size: 400_000, seed: 4)
        let stuck = try depot.photo("WO-2", size: 400_000, seed: 5)
        depot.blobLink.failing = [stuck]
        // When a sync runs with room for 900 kB
        _ = try depot.sync(depot.tablet, depot.tabletLink, budget: 900_000)
        // Then the oldest confirmed copy goes, the recent one and the unconfirmed one stay
        #expect(!depot.cache.holds(old))
        #expect(depot.cache.holds(recent))
        #expect(depot.cache.holds(stuck))
        #expect(try depot.tablet.blob(old)?.pruned == true)
        #expect(try depot.tablet.blob(stuck)?.isConfirmed == false)
    }

    @Test func aSignOffWaitsForItsSignatureAndIsAppliedAfterIt() throws {
        let depot = try EvidenceDepot()
        try depot.open(["WO-1"])
        for status in [OrderStatus.accepted, .onSite, .completed] {
            depot.clock.now += 1_000
            try depot.tablet.record(orderId: "WO-1", now: depot.clock.now) { _ in .transition(to: status, note: nil) }
        }
        _ = try depot.sync(depot.tablet, depot.tabletLink)
        let file = depot.home + "-sig.svg"
        FileManager.default.createFile(atPath: file, contents: Data(#"<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L9 9"/></svg>"#.utf8))
        let signature = try depot.cache.ingest(file, purpose: .signature)
        depot.clock.now += 1_000
        try depot.tablet.record(orderId: "WO-1", now: depot.clock.now) { view in
            .signOff(SignOff(
                signerName: "王女士", signerRole: "customer", signatureDigest: signature.digest, rating: 5,
                comment: nil, signedAt: depot.clock.now, contentHash: SignOffContent.hash(of: view!)))
        }
        try depot.tablet.addBlob(digest: signature.digest, size: signature.size, type: signature.type)
        depot.blobLink.failing = [signature.digest]
        let waiting = try depot.sync(depot.tablet, depot.tabletLink)
        #expect(waiting.waitingForBlobs == 1)
        #expect(waiting.rejected.isEmpty)
        #expect(try depot.serverOrder("WO-1").status == .completed)
        depot.blobLink.failing = []
        let done = try depot.sync(depot.tablet, depot.tabletLink)
        #expect(done.rejected.isEmpty)
        #expect(done.applied == 1)
        #expect(try depot.serverOrder("WO-1").status == .signedOff)
    }

    @Test func refusedFilesAreRefusedBeforeAnythingIsKept() throws {
        let home = NSTemporaryDirectory() + "fs-refuse-\(UUID().uuidString)"
        let cache = BlobCache(home: home)
        let big = home + "-big.png"
        FileManager.default.createFile(atPath: big, contents: Data(pngBytes(size: 2_000, seed: 1)))
        #expect(throws: BlobError.self) { try cache.ingest(big, purpose: .photo, maxBytes: 1_999) }
        let text = home + "-note.jpg"
        FileManager.default.createFile(atPath: text, contents: Data("not a photo at all".utf8))
        let refused = #expect(throws: BlobError.self) { try cache.ingest(text, purpose: .photo) }
        #expect(refused?.code == "unsupported_type")
        let jpeg = home + "-sig.jpg"
        FileManager.default.createFile(atPath: jpeg, contents: Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]))
        #expect(throws: BlobError.self) { try cache.ingest(jpeg, purpose: .signature) }
        #expect((try? FileManager.default.contentsOfDirectory(atPath: cache.folder))?.filter { !$0.hasPrefix(".") } ?? [] == [])
    }
}

/// Random work on three orders while uploads fail and heal: nothing lost or doubled, an
/// order's lines reach the server in the order they were recorded, a line never arrives
/// before its photo, and once the links heal everything is on the server.
@Suite struct BlobHoldPropertyTests {
    @Test("property: held intents wait, others go on, nothing is lost, doubled or reordered")
    func heldIntentsKeepOrderAndArriveOnce() async {
        await propertyCheck(count: 40, input: Gen.uint64().withoutShrink()) { seed in
            do {
                var rng = SplitMix64(state: seed)
                let depot = try EvidenceDepot()
                let orders = ["WO-1", "WO-2", "WO-3"]
                try depot.open(orders)
                var recorded: [String: [String]] = [:]  // order → line ids in recording order
                var photoOf: [String: String] = [:]      // line id → digest
                var failing: Set<String> = []
                var seedByte: UInt8 = 10
                for _ in 0..<Int.random(in: 5...25, using: &rng) {
                    let order = orders.randomElement(using: &rng)!
                    switch Int.random(in: 0..<10, using: &rng) {
                    case 0..<4:
                        seedByte &+= 1
                        let digest = try depot.photo(order, size: Int.random(in: 100...40_000, using: &rng), seed: seedByte)
                        recorded[order, default: []].append("P-\(seedByte)")
                        photoOf["P-\(seedByte)"] = digest
                        if Bool.random(using: &rng) { failing.insert(digest) }
                    case 4..<7:
                        let id = "L-\(UUID().uuidString.prefix(8))"
                        depot.clock.now += 1_000
                        try depot.tablet.record(orderId: order, now: depot.clock.now) { _ in .append(ChildEntry(id: id, kind: .log, text: id)) }
                        recorded[order, default: []].append(id)
                    case 7:
                        if let healed = failing.randomElement(using: &rng) { failing.remove(healed) }
                    default:
                        depot.blobLink.failing = failing
                        _ = try depot.sync(depot.tablet, depot.tabletLink)
                        try Self.check(depot, recorded: recorded, photoOf: photoOf, complete: false)
                    }
                }
                // When every link heals
                depot.blobLink.failing = []
                _ = try depot.sync(depot.tablet, depot.tabletLink)
                _ = try depot.sync(depot.tablet, depot.tabletLink)
                // Then everything is on the server, once, in order
                #expect(try depot.tablet.pendingCount() == 0, "seed \(seed)")
                try Self.check(depot, recorded: recorded, photoOf: photoOf, complete: true)
            } catch {
                Issue.record("seed \(seed): \(error)")
            }
        }
    }

    static func check(_ depot: EvidenceDepot, recorded: [String: [String]], photoOf: [String: String], complete: Bool) throws {
        for (order, ids) in recorded {
            let onServer = try depot.serverOrder(order).children.map(\.entry.id)
            // Once each, in recording order: what arrived is a prefix of what was recorded
            #expect(Set(onServer).count == onServer.count, "\(order) holds a line twice: \(onServer)")
            #expect(Array(ids.prefix(onServer.count)) == onServer, "\(order): recorded \(ids), server \(onServer)")
            if complete { #expect(onServer == ids, "\(order): recorded \(ids), server \(onServer)") }
            // Upload first: every photo line on the server has its blob there
            for id in onServer {
                if let digest = photoOf[id] {
                    #expect(depot.blobs.path(of: digest) != nil, "\(order): line \(id) arrived before its photo")
                }
            }
        }
        // The device's numbers stay gap-free: the server expects the first pending one next
        let pending = try depot.tablet.pendingBatch(limit: 1)
        if let first = pending.first {
            let known = try depot.service.recover(
                RecoverRequest(deviceId: first.deviceId, opIds: []), as: Principal(name: "t1", role: .technician))
            #expect(known.nextSeq == first.deviceSeq)
        }
    }
}
