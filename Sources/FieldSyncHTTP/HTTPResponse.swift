/// What the server answered: any status, 2xx to 5xx, with its body and headers.
///
/// A 4xx or 5xx is a response, not an error, so the caller can read the server's JSON
/// error body and decide (retry, show, give up).
public struct HTTPResponse: Sendable {
    /// The HTTP status code, e.g. 200 or 404.
    public var status: Int
    /// The body as received, after gzip decoding.
    public var body: [UInt8]
    /// Response headers in arrival order; names are lowercased, values trimmed.
    public var headers: [(String, String)]

    /// Creates a response; the client builds these, tests and fakes may too.
    public init(status: Int, body: [UInt8], headers: [(String, String)]) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    /// The first value of the header `name`, compared without regard to case.
    ///
    /// ```swift
    /// response.header("Content-Type")  // "application/json"
    /// ```
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.0 == wanted }?.1
    }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }
}
