#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FieldSyncCore
import Foundation

/// One HTTP/1.1 connection to a loopback port over a plain socket, for tests that need to
/// hold a request half-sent (the CLI and libcurl always send it whole).
final class RawConnection {
    private let fd: Int32

    /// Connects to 127.0.0.1:`port`; throws when the connection is refused.
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket() failed: errno \(errno)") }
        // A server that never answers fails the test after a minute instead of hanging it.
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw HarnessError("connect to port \(port) failed: errno \(code)")
        }
    }

    deinit { close(fd) }

    /// Sends all of `bytes`.
    func sendAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw HarnessError("send failed: errno \(errno)") }
            offset += sent
        }
    }

    /// The head of a request with a body of `length` bytes.
    static func head(_ method: String, _ path: String, token: String? = nil, length: Int) -> [UInt8] {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(length)\r\n"
        if length > 0 { text += "Content-Type: application/json\r\n" }
        if let token { text += "Authorization: Bearer \(token)\r\n" }
        return Array((text + "\r\n").utf8)
    }

    /// Reads one response: its status, headers (names lowercased) and body (by
    /// `Content-Length`, or to the end of the connection).
    func readResponse() throws -> RawResponse {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        func fill() throws -> Bool {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count >= 0 else { throw HarnessError("recv failed: errno \(errno)") }
            data.append(contentsOf: buffer[..<count])
            return count > 0
        }
        let separator = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            guard try fill() else { throw HarnessError("the connection closed before a response: \(String(decoding: data, as: UTF8.self))") }
            if data.count >= 4 {
                headEnd = (0...(data.count - 4)).first { Array(data[$0..<$0 + 4]) == separator }
            }
        }
        let end = headEnd ?? 0
        let lines = String(decoding: data[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let bodyStart = end + 4
        if let length = headers["content-length"].flatMap({ Int($0) }) {
            while data.count < bodyStart + length {
                guard try fill() else { break }
            }
        } else {
            while try fill() {}
        }
        return RawResponse(status: status, headers: headers, body: Array(data[bodyStart...]))
    }

    /// One whole request on a new connection.
    static func request(
        port: Int, _ method: String, _ path: String, token: String? = nil, body: [UInt8] = []
    ) throws -> RawResponse {
        let connection = try RawConnection(port: port)
        try connection.sendAll(head(method, path, token: token, length: body.count) + body)
        return try connection.readResponse()
    }
}

/// A response read by ``RawConnection``.
struct RawResponse {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A dispatcher's device making push bodies: `count` new orders per push, numbered on.
struct PushMaker {
    let device: String
    let actor: String
    private var seq: Int64 = 1
    private var clock: HybridClock
    private var order = 0

    init(device: String, actor: String) {
        self.device = device
        self.actor = actor
        clock = HybridClock(device: device)
    }

    /// The JSON of a push opening `count` orders.
    mutating func push(creating count: Int) throws -> [UInt8] {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var intents: [Intent] = []
        for _ in 0..<count {
            order += 1
            let fields: [OrderField: String] = [
                .kind: OrderKind.repair.rawValue, .urgency: "2", .customerName: "王女士", .address: "和平路 \(order) 号",
            ]
            intents.append(Intent(
                opId: "\(device)-op\(seq)", deviceId: device, deviceSeq: seq, actor: actor, role: .dispatcher,
                hlc: clock.tick(now: now), occurredAt: now, orderId: "WO-\(device)-\(order)", action: .create(fields: fields)))
            seq += 1
        }
        return Array(try JSONEncoder().encode(PushRequest(deviceId: device, intents: intents)))
    }
}
