import Foundation
import Testing
@testable import FieldSyncHTTP

/// Live tests: the real libcurl client against ``TestHTTPServer`` over loopback TCP.
@Suite struct HTTPClientTests {
    @Test func getReturnsStatusBodyAndHeaders() throws {
        // Given a server and a client
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient(baseURL: server.baseURL)

        // When
        let response = try client.get("/json")

        // Then
        #expect(response.status == 200)
        #expect(response.isSuccess)
        #expect(response.body == TestHTTPServer.jsonBody)
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.header("x-test-server") == "fieldsync-tests")
        #expect(response.headers.contains { $0.0 == "content-length" && $0.1 == "\(TestHTTPServer.jsonBody.count)" })
        #expect(response.headers.allSatisfy { $0.0 == $0.0.lowercased() })
    }

    @Test func clientAndServerErrorsAreResponsesNotThrown() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient(baseURL: server.baseURL)

        let missing = try client.get("/no/such/route")
        let unavailable = try client.post("/status/503", json: Array("{}".utf8))

        #expect(missing.status == 404)
        #expect(!missing.isSuccess)
        #expect(missing.body == TestHTTPServer.notFoundBody)
        #expect(unavailable.status == 503)
        #expect(unavailable.body == TestHTTPServer.unavailableBody)
    }

    @Test func postedJSONArrivesByteExactWithItsHeaders() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient(baseURL: server.baseURL)
        let body = Array(#"{"note":"变压器烧毁，已更换 ✓","labour":1.5,"esc":"\"\\\n"}"#.utf8)

        let response = try client.post("/echo", json: body, bearer: "t0k-42")

        #expect(response.status == 200)
        #expect(response.body == body)
        #expect(response.header("x-echo-method") == "POST")
        let seen = try #require(server.requests.last)
        #expect(seen.body == body)
        #expect(seen.header("content-type") == "application/json")
        #expect(seen.header("content-length") == "\(body.count)")
        #expect(seen.header("authorization") == "Bearer t0k-42")
        #expect(seen.header("user-agent") == "fieldsync/0.1")
        #expect(seen.header("accept-encoding")?.contains("gzip") == true)
        #expect(seen.header("expect") == nil)
    }

    @Test func largeBodyRoundTripsUnchanged() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient(baseURL: server.baseURL)
        // ~600 KB: many write callbacks on the way back, and past libcurl's Expect threshold.
        let body = Array(String(repeating: "抢修记录-line\n", count: 40_000).utf8)

        let response = try client.put("/echo", body: body, bearer: nil)

        #expect(response.status == 200)
        #expect(response.header("x-echo-method") == "PUT")
        #expect(response.header("content-type") == "application/octet-stream")
        #expect(response.body.count == body.count)
        #expect(response.body == body)
    }

    @Test func queryItemsArePercentEncodedAndDecodeBack() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient(baseURL: server.baseURL)
        let query = [("cursor", "42"), ("q", "抢修 & 变压器=坏"), ("名字", "张三"),
                     ("a&b", "c=d?e/f#g+h%"), ("empty", "")]

        let response = try client.get("/echo", query: query)

        let raw = try #require(response.header("x-echo-query"))
        #expect(decodeQuery(raw).map { "\($0.0)=\($0.1)" } == query.map { "\($0.0)=\($0.1)" })
        // Only unreserved characters, escapes and the separators themselves go on the wire.
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%&=")
        #expect(raw.allSatisfy { allowed.contains($0) })
        #expect(raw.filter { $0 == "&" }.count == query.count - 1)
        #expect(response.header("x-echo-path") == "/echo")
    }

    @Test func gzipResponsesAreDecoded() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient(baseURL: server.baseURL)

        let response = try client.get("/gzip")

        #expect(response.status == 200)
        #expect(response.header("content-encoding") == "gzip")
        #expect(response.body == TestHTTPServer.gzipPlain)
    }

    @Test func basePrefixAndPathsAreJoined() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient(baseURL: server.baseURL + "/api//")

        _ = try client.get("v1/orders/" + HTTPClient.percentEncode("WO 7/北"))

        #expect(client.baseURL == server.baseURL + "/api")
        #expect(server.requests.map(\.target) == ["/api/v1/orders/WO%207%2F%E5%8C%97"])
    }

    @Test func headerValuesCannotInjectHeaders() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient(baseURL: server.baseURL)

        _ = try client.send(method: "DELETE", path: "/echo",
                            headers: [("X-Note", "a\r\nEvil: 1"), ("X-Empty", "")])

        let seen = try #require(server.requests.last)
        #expect(seen.method == "DELETE")
        #expect(seen.header("x-note") == "a Evil: 1")  // "\r\n" is one Character
        #expect(seen.header("evil") == nil)
        #expect(seen.header("x-empty") == "")
    }

    @Test func consecutiveRequestsReuseOneConnection() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient(baseURL: server.baseURL)

        let first = try client.get("/json")
        let second = try client.post("/echo", json: Array("[1]".utf8))
        let third = try client.get("/missing")

        #expect([first.status, second.status, third.status] == [Int]([200, 200, 404]))
        #expect(server.requests.count == 3)
        #expect(server.acceptedConnections == 1)
    }

    @Test func refusedConnectionMeansUnreachable() throws {
        let port = try TestHTTPServer.closedPort()
        let client = try HTTPClient(baseURL: "http://127.0.0.1:\(port)")

        let result = Result { () throws(HTTPError) in try client.get("/json") }

        let error = try #require(failure(result))
        guard case .unreachable = error else {
            Issue.record("expected .unreachable, got \(error)")
            return
        }
        #expect(error.isRetryable)
        #expect(error.description.contains("kept"))
    }

    @Test func totalTimeoutEndsASlowRequest() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient(baseURL: server.baseURL, options: .init(totalTimeoutMs: 300))
        let clock = ContinuousClock()

        let start = clock.now
        let result = Result { () throws(HTTPError) in try client.get("/slow") }
        let elapsed = clock.now - start

        let error = try #require(failure(result))
        guard case .timedOut = error else {
            Issue.record("expected .timedOut, got \(error)")
            return
        }
        #expect(elapsed >= .milliseconds(250))
        #expect(elapsed < .seconds(3))
        // The handle recovers: the next request on the same client works.
        #expect(try client.get("/json").status == 200)
    }

    @Test func cancelFromAnotherThreadStopsTheTransfer() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        // The time limit only keeps a broken cancel() from hanging the test: it then fails
        // with .timedOut instead.
        let client = try HTTPClient(baseURL: server.baseURL, options: .init(totalTimeoutMs: 10_000))
        let clock = ContinuousClock()

        // Given a request blocked in /slow on its own thread (a plain thread, not a task:
        // the test must not depend on a free cooperative thread while other suites run)
        let finished = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox()
        Thread {
            outcome.result = Result { () throws(HTTPError) in try client.get("/slow") }
            finished.signal()
        }.start()
        #expect(server.waitForSlowRequests(1))

        // When another thread cancels
        let cancelledAt = clock.now
        Thread { client.cancel() }.start()
        finished.wait()
        let latency = clock.now - cancelledAt

        // Then it ends promptly with .cancelled, and the client stays usable
        #expect(outcome.result.flatMap(failure) == .cancelled)
        #expect(latency < .seconds(2))  // well before the 10 s limit (measured: a few ms)
        #expect(try client.get("/json").status == 200)
    }

    /// Carries a result from the request thread to the test (ordered by the semaphore).
    final class OutcomeBox: @unchecked Sendable {
        var result: Result<HTTPResponse, HTTPError>?
    }

    @Test func cancelWithNothingInFlightDoesNotCancelTheNextRequest() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient(baseURL: server.baseURL)

        client.cancel()
        let response = try client.get("/json")

        #expect(response.status == 200)
    }

    @Test func httpsToAPlainHTTPPortFailsFast() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient(
            baseURL: "https://127.0.0.1:\(server.port)",
            options: .init(connectTimeoutMs: 3_000, totalTimeoutMs: 5_000))
        let clock = ContinuousClock()

        let start = clock.now
        let result = Result { () throws(HTTPError) in try client.get("/json") }
        let elapsed = clock.now - start

        let error = try #require(failure(result))
        switch error {
        case .tls, .transport: break
        default: Issue.record("expected .tls or .transport, got \(error)")
        }
        #expect(elapsed < .seconds(3))
    }

    @Test func missingCAFileIsATLSProblem() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let client = try HTTPClient(
            baseURL: "https://127.0.0.1:\(server.port)",
            options: .init(caFile: "/nonexistent/fieldsync-ca.pem"))

        let result = Result { () throws(HTTPError) in try client.get("/json") }

        let error = try #require(failure(result))
        guard case .tls = error else {
            Issue.record("expected .tls, got \(error)")
            return
        }
        #expect(error.description.contains("--ca-file"))
    }

    @Test(arguments: ["not a url", "ftp://x", "http://", "https://", "", "http:// host",
                      "http://host:99999", "http://host:abc", "http://host:", "http://a:1:2",
                      "http://user@host", "http://host/?x=1", "http://[::1", "//host", "host:80"])
    func invalidBaseURLsAreRejected(_ text: String) {
        #expect(throws: HTTPError.invalidURL(text)) {
            _ = try HTTPClient(baseURL: text)
        }
    }

    @Test(arguments: [
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("HTTPS://dispatch.example.net", "https://dispatch.example.net"),
        ("https://dispatch.example.net/fieldsync/", "https://dispatch.example.net/fieldsync"),
        ("http://[::1]:9000", "http://[::1]:9000"),
        ("http://localhost", "http://localhost"),
    ])
    func validBaseURLsAreNormalised(_ text: String, _ expected: String) throws {
        #expect(try HTTPClient(baseURL: text).baseURL == expected)
    }
}
