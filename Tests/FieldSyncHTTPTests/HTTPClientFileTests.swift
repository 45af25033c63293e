import Foundation
import Testing
@testable import FieldSyncHTTP

/// Files as bodies: streamed from disk by the read callback from an offset, and responses
/// streamed to disk by the write callback.
@Suite struct HTTPClientFileTests {
    static func file(_ bytes: [UInt8]) -> String {
        let path = NSTemporaryDirectory() + "fs-http-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    @Test func aFileIsSentFromItsOffsetAndTheAnswerWrittenToAFile() throws {
        // Given a 1.5 MB file and a server that echoes what it receives
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient(baseURL: server.baseURL)
        let bytes = (0..<1_500_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let source = Self.file(bytes)
        let sink = NSTemporaryDirectory() + "fs-http-out-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: source); try? FileManager.default.removeItem(atPath: sink) }

        // When the part from byte 700,001 on is PUT, the answer going to a file
        let response = try client.transferFile(
            method: "PUT", path: "/echo", headers: [("Upload-Offset", "700001")],
            upload: (source, 700_001, Int64(bytes.count - 700_001)), downloadTo: sink)

        // Then exactly those bytes went, with their length and no Expect round trip
        #expect(response.status == 200)
        let request = try #require(server.requests.last)
        #expect(request.method == "PUT")
        #expect(request.header("content-length") == String(bytes.count - 700_001))
        #expect(request.header("upload-offset") == "700001")
        #expect(request.header("expect") == nil)
        #expect(request.body == Array(bytes[700_001...]))
        // and the echoed answer is in the file, not in memory
        #expect(response.body.isEmpty)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: sink))) == Array(bytes[700_001...]))
    }

    @Test func aMissingFileIsATransportErrorBeforeAnythingIsSent() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient(baseURL: server.baseURL)
        #expect(throws: HTTPError.self) {
            try client.transferFile(method: "PUT", path: "/echo", upload: ("/nonexistent/photo.jpg", 0, 10))
        }
        #expect(server.requests.isEmpty)
    }
}
