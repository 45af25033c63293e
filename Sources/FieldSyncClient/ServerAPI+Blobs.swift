import FieldSyncCore
import FieldSyncHTTP
import Foundation

extension ServerAPI: BlobTransport {
    /// `HEAD /v1/blobs/{sha256}`: 200 when the server holds the blob, else 404 with
    /// `Upload-Offset`, the bytes of an upload that stopped.
    public func blobStatus(_ digest: String) throws -> BlobHeld {
        let response = try transfer { (http: HTTPClient) throws(HTTPError) -> HTTPResponse in
            try http.send(method: "HEAD", path: "/v1/blobs/\(digest)", headers: [("Authorization", "Bearer \(token)")])
        }
        let offset = response.header("Upload-Offset").flatMap { Int64($0) }
        switch response.status {
        case 200:
            return .complete(size: offset ?? response.header("Content-Length").flatMap { Int64($0) } ?? 0)
        case 404:
            return .partial(received: offset ?? 0)
        default:
            throw Self.failure(response)
        }
    }

    /// `PUT /v1/blobs/{sha256}` of the file's bytes from `offset`, streamed from disk.
    public func uploadBlob(_ digest: String, file: String, size: Int64, from offset: Int64) throws -> BlobHeld {
        let response = try transfer { (http: HTTPClient) throws(HTTPError) -> HTTPResponse in
            try http.transferFile(
                method: "PUT", path: "/v1/blobs/\(digest)",
                headers: [
                    ("Authorization", "Bearer \(token)"), ("Upload-Offset", String(offset)),
                    ("Upload-Length", String(size)),
                ],
                upload: (file, offset, size - offset))
        }
        switch response.status {
        case 200, 201:
            let receipt = try? JSONDecoder().decode(BlobReceipt.self, from: Data(response.body))
            return .complete(size: receipt?.size ?? size)
        case 202:
            let progress = try? JSONDecoder().decode(BlobProgress.self, from: Data(response.body))
            return .partial(received: progress?.received ?? 0)
        default:
            throw Self.failure(response)
        }
    }

    /// `GET /v1/blobs/{sha256}` into `file` (streamed); `order` names the order that refers
    /// to it (technicians must say which).
    public func downloadBlob(_ digest: String, order: String?, to file: String) throws {
        let response = try transfer { (http: HTTPClient) throws(HTTPError) -> HTTPResponse in
            try http.transferFile(
                method: "GET", path: "/v1/blobs/\(digest)", query: order.map { [("order", $0)] } ?? [],
                headers: [("Authorization", "Bearer \(token)")], downloadTo: file)
        }
        guard response.status == 200 else {
            let body = (try? Data(contentsOf: URL(fileURLWithPath: file))).map { Array($0.prefix(4_096)) } ?? []
            try? FileManager.default.removeItem(atPath: file)
            throw Self.failure(HTTPResponse(status: response.status, body: body, headers: response.headers))
        }
    }

    private func transfer(_ body: (HTTPClient) throws(HTTPError) -> HTTPResponse) throws -> HTTPResponse {
        do {
            return try body(http)
        } catch {
            switch error {
            case .unreachable(let detail), .timedOut(let detail):
                throw SyncError.offline("cannot reach the server at \(http.baseURL) (\(detail))")
            default:
                throw SyncError.offline("the transfer to \(http.baseURL) broke off (\(error))")
            }
        }
    }

    static func failure(_ response: HTTPResponse) -> SyncError {
        let data = Data(response.body)
        let body = (try? JSONDecoder().decode(APIErrorBody.self, from: data))
            ?? APIErrorBody(error: "http_\(response.status)", message: String(decoding: data.prefix(200), as: UTF8.self))
        return .server(status: response.status, error: body)
    }
}
