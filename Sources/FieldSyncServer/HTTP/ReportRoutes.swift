import FieldSyncCore
import Foundation
import Hummingbird

/// `GET /v1/orders/{id}/report`: the printable service report of an order, for
/// dispatchers (the same page `fieldsync report` makes on a device).
struct ReportRoutes {
    let service: SyncService
    var utility = ServiceReport.defaultUtility

    func add(to router: Router<BasicRequestContext>) {
        let service = self.service
        let utility = self.utility
        router.get("v1/orders/:id/report") { request, context in
            let principal = try await RequestReading.principal(request, service)
            guard principal.role == .dispatcher else { throw ServiceError.dispatcherOnly("the service report") }
            let id = try context.parameters.require("id")
            let order = try await Offload.run { try service.order(id: id, as: principal) }
            let path = NSTemporaryDirectory() + "fieldsync-report-\(UUID().uuidString).html"
            let report = ServiceReport(order: order, utility: utility, generatedAt: service.now())
            let size = try await Offload.run { () throws -> Int64 in
                try ReportFile.write(report, to: path, blobs: service.blobs)
                return BlobStore.size(at: path) ?? 0
            }
            // Opened, then unlinked at once: the open file stays readable until the body is
            // written, and nothing is left behind even if the client goes away first.
            guard let handle = FileHandle(forReadingAtPath: path) else {
                unlink(path)
                throw ServiceError.internalError(POSIXError(.EIO))
            }
            unlink(path)
            let reader = ReportReader(handle: handle)
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            let body = ResponseBody(contentLength: Int(size)) { writer in
                while true {
                    let chunk = try await Offload.run { try reader.next() }
                    if chunk.isEmpty { break }
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: headers, body: body)
        }
    }
}

/// The report file, read in 256 KiB pieces off the event loop; closed when released.
private final class ReportReader: @unchecked Sendable {
    let handle: FileHandle
    init(handle: FileHandle) { self.handle = handle }
    func next() throws -> Data { try handle.read(upToCount: 1 << 18) ?? Data() }
    deinit { try? handle.close() }
}
