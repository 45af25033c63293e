/// Why a request produced no HTTP response.
///
/// Only transport problems are errors: a server that answers 4xx or 5xx returns an
/// ``HTTPResponse`` with that status, because the sync engine decides what a status means.
/// Each case's ``description`` tells the technician what to do; none of them carries a
/// request body or query, so no customer data leaks into logs.
public enum HTTPError: Error, Equatable, CustomStringConvertible {
    /// The base URL is not `http://host[:port][/prefix]` or `https://…`; carries the text given.
    case invalidURL(String)
    /// The server could not be reached at all (refused, DNS failure, no route): the device is
    /// offline or the server is down. Carries curl's detail.
    case unreachable(String)
    /// The connect or total time limit passed before the answer arrived. Carries curl's detail.
    case timedOut(String)
    /// The TLS handshake or certificate check failed. Carries curl's detail.
    case tls(String)
    /// ``HTTPClient/cancel()`` stopped the transfer.
    case cancelled
    /// Any other libcurl failure, with its `CURLcode` and message.
    case transport(code: Int, message: String)

    /// A sentence for the technician: what happened and what to do next.
    public var description: String {
        switch self {
        case .invalidURL(let text):
            return "'\(text)' is not a server URL: use http://host:port or https://host"
        case .unreachable(let detail):
            return "cannot reach the server (\(detail)): you are offline or the server is down. "
                + "Your work is kept on this device; sync again later."
        case .timedOut(let detail):
            return "the server did not answer in time (\(detail)). "
                + "Your work is kept on this device; sync again later."
        case .tls(let detail):
            return "secure connection to the server failed (\(detail)). If the server uses a "
                + "private certificate authority, pass its certificate with --ca-file."
        case .cancelled:
            return "the request was cancelled"
        case .transport(let code, let message):
            return "network error (curl \(code)): \(message)"
        }
    }

    /// Whether trying the same request again later may succeed without anyone changing
    /// anything: true for offline, timeouts and connections dropped mid-transfer.
    ///
    /// The sync engine uses this to choose between backing off and reporting a failure.
    public var isRetryable: Bool {
        switch self {
        case .unreachable, .timedOut:
            return true
        case .transport(let code, _):
            return Self.retryableTransportCodes.contains(code)
        case .invalidURL, .tls, .cancelled:
            return false
        }
    }

    // CURLE_GOT_NOTHING (52), CURLE_SEND_ERROR (55), CURLE_RECV_ERROR (56),
    // CURLE_PARTIAL_FILE (18), CURLE_HTTP2 (16), CURLE_HTTP2_STREAM (92).
    private static let retryableTransportCodes: Set<Int> = [16, 18, 52, 55, 56, 92]

    /// Classifies a libcurl result code (`CURLcode`) that is not `CURLE_OK`.
    ///
    /// Kept on plain integers so the table is testable without a transfer and no CCurl type
    /// appears outside this module.
    init(curlCode code: Int, message: String, url: String) {
        switch code {
        case 3:  // CURLE_URL_MALFORMAT
            self = .invalidURL(url)
        case 5, 6, 7:  // COULDNT_RESOLVE_PROXY, COULDNT_RESOLVE_HOST, COULDNT_CONNECT
            self = .unreachable(message)
        case 28:  // OPERATION_TIMEDOUT (connect or total)
            self = .timedOut(message)
        case 42:  // ABORTED_BY_CALLBACK
            self = .cancelled
        case 35,  // SSL_CONNECT_ERROR
            51,  // PEER_FAILED_VERIFICATION (old number)
            53, 54,  // SSL_ENGINE_NOTFOUND, SSL_ENGINE_SETFAILED
            58, 59,  // SSL_CERTPROBLEM, SSL_CIPHER
            60,  // PEER_FAILED_VERIFICATION
            64,  // USE_SSL_FAILED
            66,  // SSL_ENGINE_INITFAILED
            77,  // SSL_CACERT_BADFILE
            80,  // SSL_SHUTDOWN_FAILED
            82, 83,  // SSL_CRL_BADFILE, SSL_ISSUER_ERROR
            90, 91,  // SSL_PINNEDPUBKEYNOTMATCH, SSL_INVALIDCERTSTATUS
            98:  // SSL_CLIENTCERT
            self = .tls(message)
        default:
            self = .transport(code: code, message: message)
        }
    }
}
