import FieldSyncCore
import Foundation
import Hummingbird

/// A ``ServiceError`` as an HTTP answer: its precise status and an `APIErrorBody` JSON
/// body. (`ServiceError.status` is the plain code, so the conformance lives here.)
public struct APIError: HTTPResponseError {
    /// The error being answered.
    public var error: ServiceError

    /// Wraps `error` for Hummingbird.
    public init(_ error: ServiceError) { self.error = error }

    /// The error's status code as an HTTP status.
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: error.status) }

    /// The `APIErrorBody` JSON answer.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try JSONResponse.make(error.body, status: status)
    }
}

/// JSON answers: UTF-8, sorted keys, times as plain Int64 milliseconds.
enum JSONResponse {
    static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A 200 whose body is JSON the caller wrote already.
    static func raw(_ bytes: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
