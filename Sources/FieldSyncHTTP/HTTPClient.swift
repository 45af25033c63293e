internal import CCurlLoader

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libcurl is loaded on the first request, not at process start (offline commands never
/// pay for it), then `curl_global_init` runs once. A global `let` is initialised exactly
/// once, thread-safely, on first use. Nil when ready, else what went wrong.
private let curlLoadProblem: String? = {
    if let problem = fs_curl_load() { return String(cString: problem) }
    let code = fs_global_init()
    return code == CURLE_OK ? nil : "libcurl could not be initialised (code \(code.rawValue))"
}()

/// A blocking HTTP/1.1 client over libcurl, one per server.
///
/// It keeps one easy handle (and the multi handle that owns its connection cache) for its
/// whole life, so consecutive requests reuse one TCP/TLS connection; a lock serialises
/// requests on it. Every option is set again on each request after `curl_easy_reset`,
/// which keeps the connections. A 4xx/5xx answer is returned, not thrown: only transport
/// problems become an ``HTTPError``.
///
/// ```swift
/// let client = try HTTPClient(baseURL: "https://dispatch.example.net")
/// let response = try client.post("/v1/sync/push", json: body, bearer: token)
/// if response.status == 409 { … }
/// ```
///
/// Call it from a thread that may block (not from inside a cooperative-pool task for long
/// transfers); ``cancel()`` may be called from any thread.
public final class HTTPClient: @unchecked Sendable {
    /// The validated server URL, scheme lowercased, without a trailing `/`.
    public let baseURL: String
    /// The settings applied to every request.
    public let options: Options

    // Owned for the client's whole life; only touched with `transferLock` held, except
    // `curl_multi_wakeup`, which libcurl documents as callable from any thread.
    private let easy: UnsafeMutableRawPointer
    private let multi: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let transferLock = Lock()
    private let cancellation = Cancellation()

    /// Checks `baseURL` and prepares the libcurl handles; no connection is made yet.
    ///
    /// Throws ``HTTPError/invalidURL(_:)`` unless the URL is `http://host[:port]` or
    /// `https://host[:port]`, optionally followed by a path prefix.
    public init(baseURL: String, options: Options = .init()) throws(HTTPError) {
        self.baseURL = try ServerURL.validatedBase(baseURL)
        self.options = options
        if let problem = curlLoadProblem {
            throw .transport(code: Int(CURLE_FAILED_INIT.rawValue), message: problem)
        }
        guard let easy = fs_easy_init() else {
            throw .transport(code: Int(CURLE_FAILED_INIT.rawValue), message: "libcurl could not create a handle")
        }
        guard let multi = fs_multi_init() else {
            fs_easy_cleanup(easy)
            throw .transport(code: Int(CURLE_FAILED_INIT.rawValue), message: "libcurl could not create a handle")
        }
        self.easy = easy
        self.multi = multi
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        fs_easy_cleanup(easy)
        fs_multi_cleanup(multi)
        errorBuffer.deallocate()
    }

    /// Sends one request and waits for the whole answer.
    ///
    /// - Parameters:
    ///   - method: `GET`, `POST`, `PUT`, `DELETE`, `HEAD`, …
    ///   - path: appended to ``baseURL``; used as given, so percent-encode dynamic path
    ///     segments with ``percentEncode(_:)``.
    ///   - query: items percent-encoded (RFC 3986, UTF-8) and appended in order.
    ///   - headers: extra request headers; CR and LF in them are replaced by spaces.
    ///   - body: sent with `Content-Length`; `application/octet-stream` unless `headers`
    ///     names a `Content-Type`.
    /// - Returns: the response, whatever its status.
    /// - Throws: ``HTTPError`` when no response arrived (offline, timeout, TLS, cancelled).
    public func send(
        method: String,
        path: String,
        query: [(String, String)] = [],
        headers: [(String, String)] = [],
        body: [UInt8]? = nil
    ) throws(HTTPError) -> HTTPResponse {
        let url = ServerURL.join(base: baseURL, path: path, query: query)
        return try transferLock.withLock { () throws(HTTPError) -> HTTPResponse in
            cancellation.begin()
            defer { cancellation.end() }
            return try perform(method: method.uppercased(), url: url, headers: headers, body: body)
        }
    }

    /// Sends `length` bytes of the file at `path` from byte `offset` as the body of a `PUT`
    /// (or `method`), read from disk as libcurl asks for them: a 20 MB photo never sits in
    /// memory. With `downloadTo`, the response body goes to that file instead (`GET`).
    ///
    /// No total time limit applies to these transfers; a transfer that moves less than one
    /// byte a second for ``Options/connectTimeoutMs`` × 6 is abandoned as timed out.
    ///
    /// - Throws: ``HTTPError`` when no response arrived; `.transport` when the file cannot
    ///   be read or written.
    public func transferFile(
        method: String,
        path: String,
        query: [(String, String)] = [],
        headers: [(String, String)] = [],
        upload: (path: String, offset: Int64, length: Int64)? = nil,
        downloadTo: String? = nil
    ) throws(HTTPError) -> HTTPResponse {
        let url = ServerURL.join(base: baseURL, path: path, query: query)
        var uploadFD: Int32 = -1
        var sinkFD: Int32 = -1
        defer {
            if uploadFD >= 0 { close(uploadFD) }
            if sinkFD >= 0 { close(sinkFD) }
        }
        if let upload {
            uploadFD = open(upload.path, O_RDONLY | O_CLOEXEC)
            guard uploadFD >= 0 else {
                throw .transport(code: Int(CURLE_READ_ERROR.rawValue), message: "cannot read \(upload.path): \(String(cString: strerror(errno)))")
            }
        }
        if let downloadTo {
            sinkFD = open(downloadTo, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard sinkFD >= 0 else {
                throw .transport(code: Int(CURLE_WRITE_ERROR.rawValue), message: "cannot write \(downloadTo): \(String(cString: strerror(errno)))")
            }
        }
        let files = (upload: upload.map { (uploadFD, $0.offset, $0.length) }, sink: downloadTo == nil ? nil : sinkFD)
        return try transferLock.withLock { () throws(HTTPError) -> HTTPResponse in
            cancellation.begin()
            defer { cancellation.end() }
            return try perform(method: method.uppercased(), url: url, headers: headers, body: nil, files: files)
        }
    }

    /// Stops the transfer in flight, which then throws ``HTTPError/cancelled``; does nothing
    /// when no request is running.
    ///
    /// Safe from any thread (e.g. a SIGINT handler's queue). It wakes libcurl's wait at once
    /// rather than at the next progress tick, so the request ends promptly.
    public func cancel() {
        if cancellation.request() {
            fs_multi_wakeup(multi)
        }
    }

    /// RFC 3986 percent-encoding of `text`'s UTF-8 bytes, for a dynamic path segment
    /// such as a blob digest or an order id.
    public static func percentEncode(_ text: String) -> String {
        ServerURL.percentEncode(text)
    }

    // MARK: - One transfer

    private func perform(
        method: String, url: String, headers: [(String, String)], body: [UInt8]?,
        files: (upload: (Int32, Int64, Int64)?, sink: Int32?) = (nil, nil)
    ) throws(HTTPError) -> HTTPResponse {
        fs_easy_reset(easy)
        errorBuffer[0] = 0
        let box = TransferBox(cancellation: cancellation)
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { fs_slist_free_all(headerList) }

        var setup = OptionSetter(easy: easy)
        configure(&setup, url: url, box: box)
        if files.upload != nil || files.sink != nil {
            configureFiles(&setup, box: box, upload: files.upload, sink: files.sink, method: method)
        } else {
            configureMethod(&setup, method: method, body: body)
        }
        for line in Self.headerLines(headers, hasBody: body != nil || files.upload != nil) {
            guard let extended = fs_slist_append(headerList, line) else {
                throw .transport(code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "out of memory")
            }
            headerList = extended
        }
        setup.code(fs_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList))
        if let failed = setup.firstFailure {
            throw HTTPError(curlCode: Int(failed.rawValue), message: message(for: failed), url: url)
        }

        let code = try withExtendedLifetime(box) { () throws(HTTPError) -> CURLcode in try run() }
        if box.sinkFailed {
            throw .transport(code: Int(CURLE_WRITE_ERROR.rawValue), message: "cannot write the downloaded file: \(String(cString: strerror(errno)))")
        }
        guard code == CURLE_OK else {
            throw HTTPError(curlCode: Int(code.rawValue), message: message(for: code), url: url)
        }
        var status = 0
        fs_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, body: box.body, headers: box.headers)
    }

    /// Drives the transfer through the multi handle until done or cancelled.
    private func run() throws(HTTPError) -> CURLcode {
        let added = fs_multi_add_handle(multi, easy)
        guard added == CURLM_OK else { throw multiError(added) }
        defer { fs_multi_remove_handle(multi, easy) }

        var running: Int32 = 0
        while true {
            let performed = fs_multi_perform(multi, &running)
            guard performed == CURLM_OK else { throw multiError(performed) }
            var queued: Int32 = 0
            while let message = fs_multi_info_read(multi, &queued) {
                if message.pointee.msg == CURLMSG_DONE {
                    return message.pointee.data.result
                }
            }
            if running == 0 {
                return CURLE_GOT_NOTHING  // finished without a DONE message: should not happen
            }
            if cancellation.isRequested {
                return CURLE_ABORTED_BY_CALLBACK
            }
            // Wakes on socket activity, a libcurl timer (timeouts), or cancel()'s wakeup.
            let polled = fs_multi_poll(multi, nil, 0, 1_000, nil)
            guard polled == CURLM_OK else { throw multiError(polled) }
        }
    }

    private func configure(_ setup: inout OptionSetter, url: String, box: TransferBox) {
        setup.string(CURLOPT_URL, url)
        setup.long(CURLOPT_NOSIGNAL, 1)
        setup.code(fs_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        setup.string(CURLOPT_PROTOCOLS_STR, "http,https")
        setup.long(CURLOPT_CONNECTTIMEOUT_MS, options.connectTimeoutMs)
        setup.long(CURLOPT_TIMEOUT_MS, options.totalTimeoutMs)
        setup.long(CURLOPT_TCP_KEEPALIVE, 1)
        setup.string(CURLOPT_ACCEPT_ENCODING, "")  // every encoding libcurl decodes, gzip included
        setup.string(CURLOPT_USERAGENT, options.userAgent)
        setup.long(CURLOPT_SSL_VERIFYPEER, options.verifyTLS ? 1 : 0)
        setup.long(CURLOPT_SSL_VERIFYHOST, options.verifyTLS ? 2 : 0)
        if let caFile = options.caFile {
            setup.string(CURLOPT_CAINFO, caFile)
        }

        let context = Unmanaged.passUnretained(box).toOpaque()
        setup.code(fs_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let length = size * count
            guard length > 0, let data, let context else { return length }
            let box = Unmanaged<TransferBox>.fromOpaque(context).takeUnretainedValue()
            box.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
            return length
        })
        setup.code(fs_setopt_pointer(easy, CURLOPT_WRITEDATA, context))
        setup.code(fs_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            let length = size * count
            guard length > 0, let data, let context else { return length }
            let box = Unmanaged<TransferBox>.fromOpaque(context).takeUnretainedValue()
            box.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: length))
            return length
        })
        setup.code(fs_setopt_pointer(easy, CURLOPT_HEADERDATA, context))
        setup.long(CURLOPT_NOPROGRESS, 0)
        setup.code(fs_setopt_xferinfo_callback(easy) { context, _, _, _, _ in
            guard let context else { return 0 }
            let box = Unmanaged<TransferBox>.fromOpaque(context).takeUnretainedValue()
            return box.cancellation.isRequested ? 1 : 0
        })
        setup.code(fs_setopt_pointer(easy, CURLOPT_XFERINFODATA, context))
    }

    /// A body read from a file by a read callback, and/or a response body written to one.
    private func configureFiles(
        _ setup: inout OptionSetter, box: TransferBox, upload: (Int32, Int64, Int64)?, sink: Int32?, method: String
    ) {
        let context = Unmanaged.passUnretained(box).toOpaque()
        // Slow links: no total limit, but a stalled transfer ends.
        setup.long(CURLOPT_TIMEOUT_MS, 0)
        setup.long(CURLOPT_LOW_SPEED_LIMIT, 1)
        setup.long(CURLOPT_LOW_SPEED_TIME, max(1, options.connectTimeoutMs * 6 / 1_000))
        if let (fd, offset, length) = upload {
            box.upload = (fd, offset, length)
            setup.long(CURLOPT_UPLOAD, 1)
            setup.long(CURLOPT_UPLOAD_BUFFERSIZE, 512 * 1024)
            setup.code(fs_setopt_off_t(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(length)))
            setup.code(fs_setopt_data_callback(easy, CURLOPT_READFUNCTION) { buffer, size, count, context in
                guard let buffer, let context else { return 0 }
                let box = Unmanaged<TransferBox>.fromOpaque(context).takeUnretainedValue()
                guard let (fd, offset, remaining) = box.upload, remaining > 0 else { return 0 }
                let wanted = min(size * count, Int(remaining))
                let got = pread(fd, buffer, wanted, off_t(offset))
                guard got > 0 else { return Int(CURL_READFUNC_ABORT) }
                box.upload = (fd, offset + Int64(got), remaining - Int64(got))
                return got
            })
            setup.code(fs_setopt_pointer(easy, CURLOPT_READDATA, context))
            if method != "PUT" { setup.string(CURLOPT_CUSTOMREQUEST, method) }
        } else if method == "HEAD" {
            setup.long(CURLOPT_NOBODY, 1)
        } else if method != "GET" {
            setup.string(CURLOPT_CUSTOMREQUEST, method)
        } else {
            setup.long(CURLOPT_HTTPGET, 1)
        }
        if let sink {
            box.sink = sink
            setup.code(fs_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION) { data, size, count, context in
                let length = size * count
                guard length > 0, let data, let context else { return length }
                let box = Unmanaged<TransferBox>.fromOpaque(context).takeUnretainedValue()
                guard let fd = box.sink else { return 0 }
                var done = 0
                while done < length {
                    let wrote = write(fd, data + done, length - done)
                    if wrote <= 0 { box.sinkFailed = true; return 0 }
                    done += wrote
                }
                return length
            })
        }
    }

    private func configureMethod(_ setup: inout OptionSetter, method: String, body: [UInt8]?) {
        switch (method, body) {
        case ("GET", nil):
            setup.long(CURLOPT_HTTPGET, 1)
        case ("HEAD", nil):
            setup.long(CURLOPT_NOBODY, 1)
        case (_, nil) where method != "POST":
            setup.string(CURLOPT_CUSTOMREQUEST, method)
        default:
            let bytes = body ?? []
            setup.code(fs_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count)))
            // COPYPOSTFIELDS copies now, so the array need not outlive this call. It needs
            // a non-null pointer even for an empty body.
            if bytes.isEmpty {
                setup.string(CURLOPT_COPYPOSTFIELDS, "")
            } else {
                bytes.withUnsafeBytes { raw in
                    setup.code(fs_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress)))
                }
            }
            if method != "POST" {
                setup.string(CURLOPT_CUSTOMREQUEST, method)
            }
        }
    }

    /// `Name: value` lines for libcurl, plus the defaults this client insists on.
    static func headerLines(_ headers: [(String, String)], hasBody: Bool) -> [String] {
        func clean(_ text: String) -> String {
            String(text.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" ? " " : $0 })
        }
        var lines: [String] = []
        var hasContentType = false
        for (name, value) in headers {
            let name = clean(name)
            let value = clean(value)
            if name.lowercased() == "content-type" { hasContentType = true }
            // "Name;" is libcurl's way to send a header with an empty value.
            lines.append(value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        if hasBody {
            if !hasContentType { lines.append("Content-Type: application/octet-stream") }
            lines.append("Expect:")  // no 100-continue round trip before larger bodies
        }
        return lines
    }

    private func message(for code: CURLcode) -> String {
        var detail = String(cString: errorBuffer)
        while detail.last == "\n" || detail.last == "\r" { detail.removeLast() }
        if !detail.isEmpty { return detail }
        return String(cString: fs_easy_strerror(code))
    }

    private func multiError(_ code: CURLMcode) -> HTTPError {
        .transport(code: Int(code.rawValue), message: String(cString: fs_multi_strerror(code)))
    }
}

/// Collects the first failing `curl_easy_setopt` result, so configuration reads as a list.
private struct OptionSetter {
    let easy: UnsafeMutableRawPointer
    private(set) var firstFailure: CURLcode?

    init(easy: UnsafeMutableRawPointer) { self.easy = easy }

    mutating func code(_ result: CURLcode) {
        if result != CURLE_OK && firstFailure == nil { firstFailure = result }
    }

    mutating func long(_ option: CURLoption, _ value: Int) {
        code(fs_setopt_long(easy, option, value))
    }

    /// libcurl copies string options, so the C string need not outlive the call.
    mutating func string(_ option: CURLoption, _ value: String) {
        let easy = self.easy
        code(value.withCString { fs_setopt_string(easy, option, $0) })
    }
}
