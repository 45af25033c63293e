import Testing
@testable import FieldSyncHTTP

@Suite struct HTTPErrorTests {
    @Test(arguments: [
        (6, "unreachable"), (7, "unreachable"), (5, "unreachable"),
        (28, "timedOut"),
        (35, "tls"), (60, "tls"), (77, "tls"), (58, "tls"), (90, "tls"),
        (42, "cancelled"),
        (3, "invalidURL"),
        (56, "transport"), (52, "transport"), (1, "transport"),
    ])
    func curlCodesMapToTypedErrors(_ code: Int, _ kind: String) {
        let error = HTTPError(curlCode: code, message: "detail", url: "http://h")
        let actual: String
        switch error {
        case .invalidURL: actual = "invalidURL"
        case .unreachable: actual = "unreachable"
        case .timedOut: actual = "timedOut"
        case .tls: actual = "tls"
        case .cancelled: actual = "cancelled"
        case .transport(let c, let m):
            actual = "transport"
            #expect(c == code)
            #expect(m == "detail")
        }
        #expect(actual == kind)
    }

    @Test func descriptionsSayWhatToDo() {
        #expect(HTTPError.invalidURL("x").description
                == "'x' is not a server URL: use http://host:port or https://host")
        let offline = HTTPError.unreachable("Couldn't connect to server").description
        #expect(offline.contains("offline"))
        #expect(offline.contains("kept"))
        #expect(offline.contains("sync again later"))
        #expect(HTTPError.timedOut("t").description.contains("sync again later"))
        #expect(HTTPError.tls("bad cert").description.contains("--ca-file"))
        #expect(HTTPError.transport(code: 56, message: "reset").description.contains("56"))
    }

    @Test func onlyTransientFailuresAreRetryable() {
        #expect(HTTPError.unreachable("").isRetryable)
        #expect(HTTPError.timedOut("").isRetryable)
        #expect(HTTPError.transport(code: 56, message: "").isRetryable)
        #expect(!HTTPError.transport(code: 1, message: "").isRetryable)
        #expect(!HTTPError.tls("").isRetryable)
        #expect(!HTTPError.cancelled.isRetryable)
        #expect(!HTTPError.invalidURL("").isRetryable)
    }
}
