import FieldSyncCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `PUT`, `HEAD` and `GET /v1/blobs/{sha256}`: photos and signature images, addressed by
/// the SHA-256 of their bytes, uploaded resumably (sync-protocol.md §11).
///
/// A `PUT` carries the bytes from `Upload-Offset` (default 0) of a file of `Upload-Length`
/// bytes (default: offset + `Content-Length`). The body is streamed to disk; nothing holds
/// the whole file in memory.
struct BlobRoutes {
    let service: SyncService
    let logger: Logger

    static let uploadOffset = HTTPField.Name("Upload-Offset")!
    static let uploadLength = HTTPField.Name("Upload-Length")!

    func add(to router: Router<BasicRequestContext>) {
        let service = self.service
        let logger = self.logger
        let blobs = router.group("v1/blobs")
        blobs.head(":sha256") { request, context in
            _ = try await RequestReading.principal(request, service)
            let store = try Self.store(service)
            let digest = try Self.digest(context)
            var headers = HTTPFields()
            switch try await Offload.run({ store.held(digest) }) {
            case .complete(let size):
                headers[.contentLength] = String(size)
                headers[Self.uploadOffset] = String(size)
                return Response(status: .ok, headers: headers)
            case .partial(let bytes):
                headers[Self.uploadOffset] = String(bytes)
                return Response(status: .notFound, headers: headers)
            case .absent:
                headers[Self.uploadOffset] = "0"
                return Response(status: .notFound, headers: headers)
            }
        }
        blobs.put(":sha256") { request, context in
            let principal = try await RequestReading.principal(request, service)
            let store = try Self.store(service)
            let digest = try Self.digest(context)
            let (offset, total) = try Self.range(request, maxBytes: store.maxBytes)
            if case .complete(let size) = try await Offload.run({ store.held(digest) }) {
                let type = try await Offload.run { store.type(of: digest) }
                return try JSONResponse.make(BlobReceipt(
                    sha256: digest, size: size, type: type?.rawValue ?? "", stored: false))
            }
            let upload = try await Offload.run { try BlobUpload(store: store, digest: digest, offset: offset, total: total) }
            var pending: [UInt8] = []
            pending.reserveCapacity(BlobUpload.flushBytes)
            do {
                for try await buffer in request.body {
                    pending.append(contentsOf: buffer.readableBytesView)
                    if pending.count >= BlobUpload.flushBytes {
                        let bytes = pending
                        try await Offload.run { try upload.append(bytes) }
                        pending.removeAll(keepingCapacity: true)
                    }
                }
            } catch let error as ServiceError {
                throw error
            } catch {
                // The connection broke: keep what arrived, for the next PUT to continue.
                let bytes = pending
                try? await Offload.run { try upload.append(bytes) }
                _ = try? await Offload.run { try upload.finish() }
                throw error
            }
            let bytes = pending
            let receipt = try await Offload.run { () throws -> BlobReceipt? in
                try upload.append(bytes)
                return try upload.finish()
            }
            guard let receipt else {
                var headers = HTTPFields()
                headers[Self.uploadOffset] = String(upload.held)
                var response = try JSONResponse.make(
                    BlobProgress(sha256: digest, received: upload.held, size: total), status: .accepted)
                response.headers.append(contentsOf: headers)
                return response
            }
            logger.info("blob stored", metadata: [
                "blob": .string(digest), "bytes": .stringConvertible(total), "user": .string(principal.name),
            ])
            return try JSONResponse.make(receipt, status: .created)
        }
        blobs.get(":sha256") { request, context in
            let principal = try await RequestReading.principal(request, service)
            let store = try Self.store(service)
            let digest = try Self.digest(context)
            if principal.role == .technician {
                // A technician sees the blobs his orders name; he says which order.
                let order = request.uri.queryParameters["order"].map(String.init) ?? ""
                let named = order.isEmpty ? nil : try? await Offload.run { try service.order(id: order, as: principal) }
                guard named?.referencedDigests.contains(digest) == true else { throw Self.unknownBlob(digest) }
            }
            guard let path = try await Offload.run({ store.path(of: digest) }) else { throw Self.unknownBlob(digest) }
            let type = try await Offload.run { store.type(of: digest) }
            let body = try await FileIO().loadFile(path: path, context: context)
            var headers = HTTPFields()
            headers[.contentType] = type?.mimeType ?? "application/octet-stream"
            headers[.cacheControl] = "private, max-age=31536000, immutable"
            // An SVG opened on its own must not run script on the server's origin.
            headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
            headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
            return Response(status: .ok, headers: headers, body: body)
        }
    }

    static func store(_ service: SyncService) throws(ServiceError) -> BlobStore {
        guard let store = service.blobs else {
            throw ServiceError(
                status: 503, error: "blobs_unavailable",
                message: "this server was started without a blob folder: start it with `fieldsync-server serve --db PATH`")
        }
        return store
    }

    static func digest(_ context: BasicRequestContext) throws -> String {
        let digest = try context.parameters.require("sha256")
        guard BlobType.isDigest(digest) else {
            throw ServiceError.badRequest(
                "bad_digest", "a blob is addressed by the SHA-256 of its bytes, 64 lower-case hex digits, not '\(digest.prefix(80))'")
        }
        return digest
    }

    static func unknownBlob(_ digest: String) -> ServiceError {
        .notFound(
            "unknown_blob",
            "no blob \(digest) here: the device that took it has not uploaded it yet (it uploads at its next `fieldsync sync`), or, for a technician, no order of yours names it (add ?order=ID)")
    }

    /// `Upload-Offset` and `Upload-Length` of a `PUT`, checked against each other, the
    /// body's `Content-Length` and the size limit.
    static func range(_ request: Request, maxBytes: Int64) throws(ServiceError) -> (offset: Int64, total: Int64) {
        func number(_ name: HTTPField.Name) throws(ServiceError) -> Int64? {
            guard let text = request.headers[name] else { return nil }
            guard let value = Int64(text), value >= 0 else {
                throw .badRequest("bad_upload_range", "\(name) must be a whole number of bytes, not '\(text.prefix(40))'")
            }
            return value
        }
        let offset = try number(uploadOffset) ?? 0
        let length = try number(.contentLength)
        guard let total = try number(uploadLength) ?? length.map({ offset + $0 }) else {
            throw .badRequest(
                "bad_upload_range",
                "a blob upload needs Content-Length (or Upload-Length, the whole file's size): send the file with its length")
        }
        if total > maxBytes {
            throw ServiceError(
                status: 413, error: "blob_too_large",
                message: "the file is \(total) bytes; this server keeps files of at most \(maxBytes) bytes (\(maxBytes >> 20) MB): take the photo at a lower resolution")
        }
        if offset > total || (length.map { offset + $0 > total } ?? false) {
            throw .badRequest(
                "bad_upload_range",
                "Upload-Offset \(offset) plus Content-Length \(length ?? 0) runs past Upload-Length \(total): send the bytes from the offset HEAD gives to the end of the file")
        }
        return (offset, total)
    }
}
