import FieldSyncCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import FieldSyncServer

/// Log lines kept in memory, for tests.
final class CapturedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var _lines: [String] = []

    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return _lines
    }

    func append(_ line: String) {
        lock.lock()
        _lines.append(line)
        lock.unlock()
    }

    /// A logger whose lines (JSON, see ``JSONLogHandler``) land here.
    func logger(level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: "test") { label in JSONLogHandler(label: label) { self.append($0) } }
        logger.logLevel = level
        return logger
    }

    /// Every line parsed as a JSON object (a line that does not parse fails the test).
    func objects() -> [[String: Any]] {
        lines.compactMap { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object != nil, "not a JSON object: \(line)")
            return object
        }
    }
}

@Suite("Request log")
struct RequestLogTests {
    @Test func theJSONHandlerWritesOneParsableObjectPerLine() throws {
        // Given a handler at a fixed time
        let captured = CapturedLines()
        var logger = Logger(label: "fieldsync-server") { label in
            JSONLogHandler(label: label, now: { Date(timeIntervalSince1970: 1_777_624_200.123) }) { captured.append($0) }
        }
        logger[metadataKey: "instance"] = "a"
        // When it logs awkward text and every kind of metadata value
        logger.info(
            "line \"one\"\nstill one",
            metadata: [
                "status": .stringConvertible(200), "ms": .stringConvertible(1.5), "user": "王\u{1}",
                "nested": ["k": "v"], "list": ["x", .stringConvertible(2)], "level": "not the level",
                "flag": .stringConvertible(true),
            ])
        logger.debug("below the level")

        // Then one line, ending in a newline, that parses with the expected keys and types
        #expect(captured.lines.count == 1)
        #expect(captured.lines.allSatisfy { $0.hasSuffix("}\n") && $0.dropLast().allSatisfy { $0 != "\n" } })
        let object = try #require(captured.objects().first)
        #expect(Set(object.keys) == ["time", "level", "label", "message", "instance", "status", "ms", "user", "nested", "list", "meta.level", "flag"])
        #expect(object["time"] as? String == "2026-05-01T08:30:00.123Z")
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "fieldsync-server")
        #expect(object["message"] as? String == "line \"one\"\nstill one")
        #expect(object["status"] as? Int == 200)
        #expect(object["ms"] as? Double == 1.5)
        #expect(object["user"] as? String == "王\u{1}")
        #expect(object["nested"] as? [String: String] == ["k": "v"])
        #expect((object["list"] as? [Any])?.count == 2)
        #expect(object["meta.level"] as? String == "not the level")
        #expect(object["flag"] as? String == "true")
        #expect(object["instance"] as? String == "a")
    }

    @Test func aRequestGetsOneLineWithItsId() async throws {
        // Given a server logging to memory
        let setup = try Setup()
        let captured = CapturedLines()
        let app = buildApplication(service: setup.service, host: "127.0.0.1", port: 0, logger: captured.logger())
        try await app.test(.router) { client in
            // When a client sends its own request id
            let me = try await client.execute(
                uri: "/v1/me", method: .get,
                headers: [.authorization: "Bearer \(setup.technicianToken)", OperationsMiddleware<BasicRequestContext>.requestIdField: "req-42.a:b"])
            // Then it is echoed, and one line names it with the route, status, user and time
            #expect(me.status == .ok)
            #expect(me.headers[OperationsMiddleware<BasicRequestContext>.requestIdField] == "req-42.a:b")
            let lines = captured.objects().filter { $0["request"] as? String == "req-42.a:b" }
            #expect(lines.count == 1)
            let line = try #require(lines.first)
            #expect(line["message"] as? String == "request")
            #expect(line["method"] as? String == "GET")
            #expect(line["route"] as? String == "/v1/me")
            #expect(line["status"] as? Int == 200)
            #expect(line["user"] as? String == "alice")
            #expect((line["ms"] as? Double).map { $0 >= 0 } == true)

            // When the id is not sane, or missing, the server makes one
            for given in ["has space", String(repeating: "x", count: 129), "", nil] {
                var headers: HTTPFields = [:]
                if let given { headers[OperationsMiddleware<BasicRequestContext>.requestIdField] = given }
                let answer = try await client.execute(uri: "/v1/orders/WO-9", method: .get, headers: headers)
                #expect(answer.status == .unauthorized)
                let made = try #require(answer.headers[OperationsMiddleware<BasicRequestContext>.requestIdField])
                #expect(made.count == 32 && made.allSatisfy(\.isHexDigit), "\(made)")
                let line = captured.objects().filter { $0["request"] as? String == made }
                #expect(line.count == 1)
                #expect(line.first?["route"] as? String == "/v1/orders/{id}")
                #expect(line.first?["status"] as? Int == 401)
                #expect(line.first?["user"] == nil)
            }
        }
        // And every request made exactly one line, nothing else was logged
        #expect(captured.lines.count == 5)
    }

    @Test func aPushLineCarriesTheDeviceAndAServerErrorItsCause() async throws {
        // Given a server logging to memory whose users table then disappears
        let setup = try Setup()
        let captured = CapturedLines()
        let app = buildApplication(service: setup.service, host: "127.0.0.1", port: 0, logger: captured.logger())
        var desk = TestDevice("disp-1", dispatcher)
        let push = PushRequest(deviceId: "disp-1", intents: [desk.intent("WO-1", .create(fields: orderFields()))])
        try await app.test(.router) { client in
            let pushed = try await client.execute(
                uri: "/v1/sync/push", method: .post, headers: [.authorization: "Bearer \(setup.dispatcherToken)"],
                body: ByteBuffer(bytes: try JSONEncoder().encode(push)))
            #expect(pushed.status == .ok)
            try setup.service.database.write { db in try db.execute("DROP TABLE users") }
            let failed = try await client.execute(uri: "/v1/me", method: .get, headers: [.authorization: "Bearer \(setup.dispatcherToken)"])
            #expect(failed.status.code >= 500)
        }
        // Then two lines: the push with its device, the failure at error with its cause
        let lines = captured.objects()
        #expect(lines.count == 2)
        #expect(lines.first?["device"] as? String == "disp-1")
        #expect(lines.first?["intents"] as? Int == 1)
        #expect(lines.first?["user"] as? String == "zhang")
        #expect(lines.last?["level"] as? String == "error")
        #expect((lines.last?["error"] as? String)?.isEmpty == false)
    }
}
