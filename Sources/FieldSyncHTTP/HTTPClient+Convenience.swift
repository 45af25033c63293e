extension HTTPClient {
    /// Sends a `GET`, with an optional bearer token.
    ///
    /// ```swift
    /// let page = try client.get("/v1/sync/pull", query: [("cursor", cursor)], bearer: token)
    /// ```
    public func get(
        _ path: String, query: [(String, String)] = [], bearer: String? = nil
    ) throws(HTTPError) -> HTTPResponse {
        try send(method: "GET", path: path, query: query, headers: Self.authorization(bearer))
    }

    /// Sends a `POST` whose body is JSON (`Content-Type: application/json`).
    public func post(
        _ path: String, query: [(String, String)] = [], json body: [UInt8], bearer: String? = nil
    ) throws(HTTPError) -> HTTPResponse {
        try send(
            method: "POST", path: path, query: query,
            headers: [("Content-Type", "application/json")] + Self.authorization(bearer),
            body: body)
    }

    /// Sends a `PUT` of raw bytes, e.g. a photo to a content-addressed blob URL.
    public func put(
        _ path: String, body: [UInt8], contentType: String = "application/octet-stream",
        bearer: String? = nil
    ) throws(HTTPError) -> HTTPResponse {
        try send(
            method: "PUT", path: path,
            headers: [("Content-Type", contentType)] + Self.authorization(bearer),
            body: body)
    }

    private static func authorization(_ bearer: String?) -> [(String, String)] {
        guard let bearer else { return [] }
        return [("Authorization", "Bearer \(bearer)")]
    }
}
