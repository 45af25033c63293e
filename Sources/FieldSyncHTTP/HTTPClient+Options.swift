extension HTTPClient {
    /// Settings applied to every request of one client.
    public struct Options: Sendable {
        /// Longest time to establish the TCP (and TLS) connection, in milliseconds.
        public var connectTimeoutMs: Int
        /// Longest time for a whole request, connect included, in milliseconds; 0 means none.
        public var totalTimeoutMs: Int
        /// A PEM file of certificate authorities to trust instead of the system's
        /// (the CLI's `--ca-file`), for servers with a private CA.
        public var caFile: String?
        /// Whether to verify the server's certificate and host name. Keep it on: turning it
        /// off lets anyone on the network read and change the crew's data.
        public var verifyTLS: Bool
        /// The `User-Agent` header sent with every request.
        public var userAgent: String

        /// Creates options; the defaults suit a field device on a slow mobile link.
        public init(
            connectTimeoutMs: Int = 5_000,
            totalTimeoutMs: Int = 30_000,
            caFile: String? = nil,
            verifyTLS: Bool = true,
            userAgent: String = "fieldsync/0.1"
        ) {
            self.connectTimeoutMs = connectTimeoutMs
            self.totalTimeoutMs = totalTimeoutMs
            self.caFile = caFile
            self.verifyTLS = verifyTLS
            self.userAgent = userAgent
        }
    }
}
