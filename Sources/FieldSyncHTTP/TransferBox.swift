/// What libcurl's C callbacks write into during one transfer; they reach it through an
/// unretained pointer, and the transfer keeps it alive until libcurl is done.
final class TransferBox {
    var body: [UInt8] = []
    var headers: [(String, String)] = []
    let cancellation: Cancellation
    /// A file streamed as the request body: descriptor, next offset, bytes left.
    var upload: (fd: Int32, offset: Int64, remaining: Int64)?
    /// A file the response body goes to instead of `body`.
    var sink: Int32?
    /// The sink could not be written (disk full): the transfer stops.
    var sinkFailed = false

    init(cancellation: Cancellation) {
        self.cancellation = cancellation
    }

    /// Takes one raw header line as libcurl delivers it (CRLF included).
    ///
    /// A status line starts a new header block (after a `100 Continue` or a redirect), so
    /// only the final response's headers are kept.
    func receiveHeaderLine(_ line: UnsafeRawBufferPointer) {
        if line.starts(with: "HTTP/".utf8) {
            headers.removeAll()
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = Self.trimmed(line[..<colon])
        let value = Self.trimmed(line[(colon + 1)...])
        guard !name.isEmpty else { return }
        headers.append((String(decoding: name, as: UTF8.self).lowercased(),
                        String(decoding: value, as: UTF8.self)))
    }

    private static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        func isSpace(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
                || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
        }
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }
}

/// The cancel request for the transfer in flight, shared by ``HTTPClient/cancel()`` (any
/// thread) and the transfer loop and progress callback (the sending thread).
final class Cancellation: @unchecked Sendable {
    private let lock = Lock()
    private var inFlight = false
    private var requested = false

    /// A transfer starts; a cancel aimed at an earlier one does not carry over.
    func begin() { lock.withLock { inFlight = true; requested = false } }

    /// The transfer is over.
    func end() { lock.withLock { inFlight = false; requested = false } }

    /// Asks the running transfer to stop; false when none runs.
    func request() -> Bool {
        lock.withLock {
            guard inFlight else { return false }
            requested = true
            return true
        }
    }

    var isRequested: Bool { lock.withLock { requested } }
}
