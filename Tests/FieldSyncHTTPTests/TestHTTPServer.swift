import Foundation

#if canImport(Glibc)
import Glibc
private let streamSocket = Int32(SOCK_STREAM.rawValue)
#elseif canImport(Darwin)
import Darwin
private let streamSocket = SOCK_STREAM
#endif

/// One request as the test server parsed it off the wire, so tests can assert what
/// libcurl really sent.
struct RecordedRequest: Sendable {
    var method: String
    /// The request target as sent: path plus `?query`, still percent-encoded.
    var target: String
    /// Header names lowercased, values trimmed, in order.
    var headers: [(String, String)]
    var body: [UInt8]

    var path: String { String(target.prefix { $0 != "?" }) }

    func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.0 == wanted }?.1
    }
}

/// A small HTTP/1.1 server on 127.0.0.1, port chosen by the kernel, a thread per
/// connection, keep-alive, for live tests of the libcurl client.
///
/// Routes:
/// - `/json` → 200 with ``jsonBody``
/// - `/echo` → 200 with the request body byte for byte, and `x-echo-method`,
///   `x-echo-path`, `x-echo-query` (raw, still encoded) headers
/// - `/gzip` → 200 with ``gzipBody`` and `Content-Encoding: gzip` when the client accepts gzip
/// - `/slow` → answers only once ``stop()`` runs, or after 10 s at most (tests wait for
///   its arrival with ``waitForSlowRequests(_:)``)
/// - `/status/503` → 503 with a JSON error; anything else → 404 with a JSON error.
/// Bytes that do not start like an HTTP request (e.g. a TLS ClientHello) get a 400 and the
/// connection is closed.
final class TestHTTPServer: @unchecked Sendable {
    static let jsonBody = Array(#"{"ok":true,"crew":"北区抢修队"}"#.utf8)
    static let notFoundBody = Array(#"{"error":"not_found"}"#.utf8)
    static let unavailableBody = Array(#"{"error":"maintenance"}"#.utf8)
    /// `{"compressed":true,"note":"压缩"}` gzipped (Python `gzip.compress(…, mtime=0)`).
    static let gzipBody: [UInt8] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xab, 0x56, 0x4a, 0xce, 0xcf,
        0x2d, 0x28, 0x4a, 0x2d, 0x2e, 0x4e, 0x4d, 0x51, 0xb2, 0x2a, 0x29, 0x2a, 0x4d, 0xd5, 0x51,
        0xca, 0xcb, 0x2f, 0x49, 0x55, 0xb2, 0x52, 0x7a, 0xda, 0xd7, 0xfd, 0x7c, 0xcf, 0x4a, 0xa5,
        0x5a, 0x00, 0x0a, 0xd2, 0x1d, 0xbc, 0x23, 0x00, 0x00, 0x00,
    ]
    static let gzipPlain = Array(#"{"compressed":true,"note":"压缩"}"#.utf8)

    struct SocketError: Error { var call: String; var errno: Int32 }

    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)" }

    private let listener: Int32
    private let state = NSCondition()
    private var accepted = 0
    private var recorded: [RecordedRequest] = []
    private var slowArrivals = 0
    private var stopped = false
    private var openConnections: Set<Int32> = []

    init() throws {
        let fd = socket(AF_INET, streamSocket, 0)
        guard fd >= 0 else { throw SocketError(call: "socket", errno: errno) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let code = errno
            close(fd)
            throw SocketError(call: "bind/listen", errno: code)
        }
        self.listener = fd
        self.port = try Self.localPort(of: fd)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Releases every `/slow` request, stops accepting and ends every connection.
    func stop() {
        state.lock()
        defer { state.unlock() }
        guard !stopped else { return }
        stopped = true
        state.broadcast()
        shutdown(listener, Int32(SHUT_RDWR))
        for fd in openConnections { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// How many TCP connections the server has accepted.
    var acceptedConnections: Int { state.lock(); defer { state.unlock() }; return accepted }

    /// Every request received so far, in arrival order.
    var requests: [RecordedRequest] { state.lock(); defer { state.unlock() }; return recorded }

    /// Blocks until `count` requests have reached `/slow` (or 10 s passed); returns whether they did.
    func waitForSlowRequests(_ count: Int) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        state.lock()
        defer { state.unlock() }
        while slowArrivals < count {
            if !state.wait(until: deadline) { return slowArrivals >= count }
        }
        return true
    }

    /// A loopback port nobody listens on: bound, then closed again.
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, streamSocket, 0)
        guard fd >= 0 else { throw SocketError(call: "socket", errno: errno) }
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw SocketError(call: "bind", errno: errno) }
        return try localPort(of: fd)
    }

    // MARK: - Sockets

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private static func localPort(of fd: Int32) throws -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw SocketError(call: "getsockname", errno: errno) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                break
            }
            state.lock()
            if stopped {
                state.unlock()
                close(fd)
                break
            }
            accepted += 1
            openConnections.insert(fd)
            state.unlock()
            let thread = Thread { [self] in serve(fd) }
            thread.start()
        }
        close(listener)
    }

    private func serve(_ fd: Int32) {
        defer {
            state.lock()
            openConnections.remove(fd)
            close(fd)
            state.unlock()
        }
        var buffer: [UInt8] = []
        while let request = readRequest(fd, &buffer) {
            state.lock()
            recorded.append(request)
            state.unlock()
            let closeAfter = request.header("connection")?.lowercased() == "close"
            let response = respond(to: request, closing: closeAfter)
            guard writeAll(fd, response), !closeAfter else { return }
        }
    }

    /// Reads one request (head + Content-Length body); nil at end of stream or on garbage.
    private func readRequest(_ fd: Int32, _ buffer: inout [UInt8]) -> RecordedRequest? {
        let separator: [UInt8] = [13, 10, 13, 10]
        while true {
            if let first = buffer.first, !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first) {
                _ = writeAll(fd, Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
                return nil
            }
            if let headEnd = firstRange(of: separator, in: buffer) {
                let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
                var lines = head.components(separatedBy: "\r\n")
                let requestLine = lines.removeFirst().split(separator: " ")
                guard requestLine.count == 3 else { return nil }
                let headers = lines.compactMap { line -> (String, String)? in
                    guard let colon = line.firstIndex(of: ":") else { return nil }
                    return (line[..<colon].lowercased(),
                            line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
                }
                let length = headers.first { $0.0 == "content-length" }.flatMap { Int($0.1) } ?? 0
                let bodyStart = headEnd + separator.count
                while buffer.count < bodyStart + length {
                    guard receive(fd, into: &buffer) else { return nil }
                }
                let request = RecordedRequest(
                    method: String(requestLine[0]), target: String(requestLine[1]),
                    headers: headers, body: Array(buffer[bodyStart..<(bodyStart + length)]))
                buffer.removeFirst(bodyStart + length)
                return request
            }
            guard receive(fd, into: &buffer) else { return nil }
        }
    }

    private func receive(_ fd: Int32, into buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[..<count])
        return true
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    private func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }

    // MARK: - Routes

    private func respond(to request: RecordedRequest, closing: Bool) -> [UInt8] {
        var extra: [(String, String)] = []
        let status: Int
        var body: [UInt8]
        var contentType = "application/json"
        switch request.path {
        case "/json":
            (status, body) = (200, Self.jsonBody)
        case "/echo":
            (status, body) = (200, request.body)
            contentType = request.header("content-type") ?? "application/octet-stream"
            let query = request.target.contains("?")
                ? String(request.target.drop { $0 != "?" }.dropFirst()) : ""
            extra = [("X-Echo-Method", request.method), ("X-Echo-Path", request.path),
                     ("X-Echo-Query", query)]
        case "/gzip":
            if request.header("accept-encoding")?.contains("gzip") == true {
                (status, body) = (200, Self.gzipBody)
                extra = [("Content-Encoding", "gzip")]
            } else {
                (status, body) = (406, [])
            }
        case "/slow":
            state.lock()
            slowArrivals += 1
            state.broadcast()
            // Held until stop(); the 10 s cap only turns a client that fails to give up
            // (broken timeout or cancel) into a failing test instead of a hung one.
            let cap = Date().addingTimeInterval(10)
            while !stopped, state.wait(until: cap) {}
            state.unlock()
            (status, body) = (200, Array(#"{"late":true}"#.utf8))
        case "/status/503":
            (status, body) = (503, Self.unavailableBody)
        default:
            (status, body) = (404, Self.notFoundBody)
        }
        var head = "HTTP/1.1 \(status) \(status == 200 ? "OK" : "Status")\r\n"
        head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
        head += "X-Test-Server: fieldsync-tests\r\n"
        for (name, value) in extra { head += "\(name): \(value)\r\n" }
        head += closing ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n"
        if request.method == "HEAD" { body = [] }
        return Array(head.utf8) + body
    }
}
