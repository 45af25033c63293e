import FieldSyncCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import FieldSyncServer

/// Keeps `schema/openapi.yaml` and the code in step: the routes the router has, the action
/// kinds, the rejection codes, the error codes the server answers with and the properties
/// of the wire types must all be the ones the document describes.
@Suite("OpenAPI document")
struct OpenAPITests {
    // MARK: - (a) routes

    @Test func everyDocumentedOperationIsARouteOfTheServer() async throws {
        let document = try OpenAPIDocument.load()
        let operations = document.operations
        #expect(operations.count >= 9, "the paths: section did not parse: \(operations)")

        let setup = try Setup()
        let push = try Self.json(Self.openingPush())
        let resolve = try Self.json(ResolveRequest(resolution: "spoke to both crews"))
        try await setup.app.test(.router) { client in
            // The probe below must be able to tell a missing route: an unknown path is 404
            // `not_found`, an unknown method 404 or 405.
            let missing = try await Self.probe(
                client, OpenAPIDocument.Operation(method: "GET", path: "/v1/sync/pulled"), setup: setup)
            #expect(missing.status == .notFound && missing.error == "not_found")
            let wrongMethod = try await Self.probe(
                client, OpenAPIDocument.Operation(method: "DELETE", path: "/v1/me"), setup: setup)
            #expect(Self.isMissingRoute(wrongMethod))

            for operation in operations {
                let body: ByteBuffer? =
                    switch operation.path {
                    case "/v1/sync/push": push
                    case "/v1/devices": try Self.json(DeviceRegistration(deviceId: "disp-1"))
                    case "/v1/sync/recover": try Self.json(RecoverRequest(deviceId: "disp-1", opIds: ["op-1"]))
                    case "/v1/conflicts/{id}/resolve": resolve
                    case "/board/login": ByteBuffer(string: "token=\(setup.dispatcherToken)")
                    default: nil
                    }
                let answer = try await Self.probe(client, operation, setup: setup, body: body)
                #expect(!Self.isMissingRoute(answer), "\(operation) is in openapi.yaml but the server answers \(answer.status) \(answer.error ?? "")")
                #expect(answer.status != .unauthorized, "\(operation) refused the valid token")
            }
        }
    }

    @Test func everyRouteOfTheServerIsDocumented() throws {
        let document = try OpenAPIDocument.load()
        let router = buildRouter(service: try makeService(), logger: Logger(label: "test"))
        let registered = Set(router.routes.map {
            OpenAPIDocument.Operation(method: $0.method.rawValue, path: $0.path.description)
        })
        let documented = Set(document.operations)
        #expect(registered.count >= 9, "the router lists \(registered)")
        for route in registered.sorted() {
            #expect(documented.contains(route), "the server serves \(route) but schema/openapi.yaml does not describe it")
        }
        for operation in documented.sorted() {
            #expect(registered.contains(operation), "schema/openapi.yaml describes \(operation) but the router has no such route")
        }
        // The list of routes as this test knows them, so a renamed route shows up here too.
        let expected: Set<OpenAPIDocument.Operation> = [
            .init(method: "GET", path: "/healthz"), .init(method: "GET", path: "/readyz"),
            .init(method: "GET", path: "/metrics"), .init(method: "GET", path: "/v1/me"),
            .init(method: "POST", path: "/v1/sync/push"), .init(method: "GET", path: "/v1/sync/pull"),
            .init(method: "GET", path: "/v1/orders/{id}"), .init(method: "GET", path: "/v1/board"),
            .init(method: "GET", path: "/v1/conflicts"), .init(method: "POST", path: "/v1/conflicts/{id}/resolve"),
            .init(method: "GET", path: "/v1/technicians"),
            .init(method: "POST", path: "/v1/devices"), .init(method: "POST", path: "/v1/sync/recover"),
            .init(method: "GET", path: "/board"), .init(method: "GET", path: "/board/login"),
            .init(method: "POST", path: "/board/login"), .init(method: "POST", path: "/board/logout"),
            .init(method: "GET", path: "/v1/orders/{id}/report"), .init(method: "HEAD", path: "/v1/blobs/{sha256}"),
            .init(method: "PUT", path: "/v1/blobs/{sha256}"), .init(method: "GET", path: "/v1/blobs/{sha256}"),
        ]
        #expect(registered == expected)
        #expect(documented == expected)
    }

    // MARK: - (b) action kinds

    @Test func everyActionKindIsInTheDiscriminator() throws {
        let document = try OpenAPIDocument.load()
        let mapping = try #require(document.discriminatorMapping(of: "Action"))
        #expect(Action.kinds.count == 9)
        for kind in Action.kinds {
            #expect(mapping[kind] != nil, "action kind \(kind) is missing from the Action discriminator mapping")
        }
        for kind in mapping.keys.sorted() {
            #expect(Action.kinds.contains(kind), "the Action mapping names \(kind), which the code does not know")
        }
        let oneOf = document.oneOfReferences(of: "Action")
        for (kind, reference) in mapping.sorted(by: { $0.key < $1.key }) {
            let name = String(reference.split(separator: "/").last ?? "")
            #expect(oneOf.contains(reference), "\(reference) is in the mapping but not in Action.oneOf")
            #expect(document.schema(name) != nil, "\(reference) names no schema")
            #expect(
                document.enumValues(of: name, property: "kind") == [kind],
                "\(name).kind must be the single value \(kind)")
        }
    }

    @Test func everyActionEncodesAsItsDocumentedSchema() throws {
        let document = try OpenAPIDocument.load()
        let mapping = try #require(document.discriminatorMapping(of: "Action"))
        let samples = Self.sampleActions()
        #expect(Set(samples.map(\.kind)) == Set(Action.kinds), "a sample per kind")
        for action in samples {
            let name = String(try #require(mapping[action.kind]).split(separator: "/").last ?? "")
            let keys = try Self.encodedKeys(action)
            #expect(keys == document.properties(of: name), "\(action.kind) encodes \(keys.sorted())")
            #expect(document.required(of: name).isSubset(of: keys))
        }
    }

    // MARK: - (c) rejection codes and error codes

    @Test func everyRejectionCodeIsDocumented() throws {
        let document = try OpenAPIDocument.load()
        let codes = Self.allRejectionCodes.map(\.rawValue)
        #expect(codes.count == 13)
        let documented = document.enumValues(of: "Rejection", property: "code")
        for code in codes {
            #expect(documented.contains(code), "Rejection code \(code) is missing from the Rejection schema's code enum")
            #expect(document.text.contains(code))
        }
        for code in documented {
            #expect(Rejection.Code(rawValue: code) != nil, "the document lists Rejection code \(code), which the code does not have")
        }
    }

    /// Every `error` code the server's source can answer with appears in the document (in
    /// backticks, as the operations' error lists write them).
    @Test func everyErrorCodeOfTheServerIsDocumented() throws {
        let document = try OpenAPIDocument.load()
        let codes = try Self.serverErrorCodes()
        // Codes of `SyncService.addUser` and the other user administration, which the admin
        // CLI calls directly, not over HTTP.
        let notServed: Set<String> = ["invalid_name", "user_exists", "unknown_user"]
        let expected: Set<String> = [
            "malformed_body", "unknown_intent_kind", "empty_push", "too_many_intents", "device_mismatch",
            "bad_cursor", "bad_limit", "bad_delta", "bad_status", "bad_after", "missing_resolution", "unauthorized", "wrong_actor", "device_taken",
            "dispatcher_only", "unknown_order", "unknown_conflict", "sequence_reused",
            "body_too_large", "not_found", "method_not_allowed", "internal", "database_unavailable",
            "bad_digest", "bad_upload_range", "upload_offset_mismatch", "upload_busy", "blob_too_large",
            "unsupported_type", "digest_mismatch", "unknown_blob", "blobs_unavailable",
        ]
        #expect(codes.subtracting(notServed) == expected, "the server's error codes changed: \(codes.sorted())")
        for code in codes.subtracting(notServed).sorted() {
            #expect(document.text.contains("`\(code)`"), "error code \(code) is not in schema/openapi.yaml")
        }
    }

    // MARK: - (d) properties of the wire types

    @Test func theWireTypesHaveTheDocumentedProperties() async throws {
        let document = try OpenAPIDocument.load()
        // Kept beside a decoded page by the client, never encoded (see PullResponse).
        let notOnTheWire = ["PullResponse": Set(["eventTexts", "folds"])]
        for (name, value) in try Self.wireSamples() {
            var (all, nonOptional) = Self.storedProperties(of: value)
            all.subtract(notOnTheWire[name] ?? [])
            nonOptional.subtract(notOnTheWire[name] ?? [])
            #expect(!all.isEmpty, "\(name): Mirror saw no properties")
            let properties = document.properties(of: name)
            for property in all.sorted() {
                #expect(properties.contains(property), "\(name).\(property) is missing from schema/openapi.yaml")
            }
            for property in properties.sorted() {
                #expect(all.contains(property), "schema \(name) lists \(property), which the Swift type does not have")
            }
            #expect(
                document.required(of: name) == nonOptional,
                "\(name): `required` must be exactly the non-optional properties \(nonOptional.sorted())")
            // The JSON keys are the property names (no renaming CodingKeys).
            let keys = try Self.encodedKeys(value)
            #expect(keys.isSubset(of: properties), "\(name) encodes \(keys.subtracting(properties).sorted()), not in the document")
        }
    }

    @Test func theEnumerationsHaveTheDocumentedValues() throws {
        let document = try OpenAPIDocument.load()
        #expect(document.enumValues(of: "OrderStatus") == OrderStatus.allCases.map(\.rawValue))
        #expect(document.enumValues(of: "OrderField") == OrderField.allCases.map(\.rawValue))
        #expect(document.enumValues(of: "Role") == Role.allCases.map(\.rawValue))
        #expect(document.enumValues(of: "ChildEntryKind") == ChildEntry.Kind.allCases.map(\.rawValue))
        #expect(document.enumValues(of: "ConflictRule") == Conflict.Rule.allCases.map(\.rawValue))
        #expect(document.enumValues(of: "PushOutcome", property: "result") == Self.allResults.map(\.rawValue))
    }

    // MARK: - Helpers

    struct Answer {
        var status: HTTPResponse.Status
        var error: String?
    }

    /// Sends `operation` with the dispatcher's token (path parameters filled in).
    static func probe(
        _ client: some TestClientProtocol, _ operation: OpenAPIDocument.Operation, setup: Setup,
        body: ByteBuffer? = nil
    ) async throws -> Answer {
        var uri = operation.path.replacingOccurrences(
            of: #"\{[^}/]+\}"#, with: "X-1", options: .regularExpression)
        let response = try await client.execute(
            uri: uri, method: HTTPRequest.Method(rawValue: operation.method) ?? .get,
            headers: [.authorization: "Bearer \(setup.dispatcherToken)"], body: body)
        let error = try? JSONDecoder().decode(APIErrorBody.self, from: Data(response.body.readableBytesView)).error
        return Answer(status: response.status, error: error)
    }

    /// No such route: 404 `not_found` (Hummingbird's own) or 405.
    static func isMissingRoute(_ answer: Answer) -> Bool {
        answer.status == .methodNotAllowed || (answer.status == .notFound && answer.error == "not_found")
    }

    static func json<T: Encodable>(_ value: T) throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONEncoder().encode(value))
    }

    /// The top-level keys of `value`'s JSON encoding.
    static func encodedKeys(_ value: any Encodable) throws -> Set<String> {
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(value))
        return Set((object as? [String: Any])?.keys.map { $0 } ?? [])
    }

    /// The stored properties of a struct, and those that are not optional.
    static func storedProperties(of value: Any) -> (all: Set<String>, nonOptional: Set<String>) {
        var all = Set<String>()
        var nonOptional = Set<String>()
        for child in Mirror(reflecting: value).children {
            guard let label = child.label else { continue }
            all.insert(label)
            if Mirror(reflecting: child.value).displayStyle != .optional { nonOptional.insert(label) }
        }
        return (all, nonOptional)
    }

    /// A valid push of the dispatcher's device, opening WO-1 for alice.
    static func openingPush() -> PushRequest {
        var desk = TestDevice("disp-1", dispatcher)
        return PushRequest(deviceId: "disp-1", intents: [
            desk.intent("WO-1", .create(fields: orderFields())),
            desk.intent("WO-1", .assign(technician: "alice")),
        ])
    }

    static let hlc = HLC(physical: testNow, logical: 1, device: "dev-1")

    static let signOff = SignOff(
        signerName: "王女士", signerRole: "customer", signatureDigest: String(repeating: "a", count: 64),
        rating: 5, comment: "好", signedAt: testNow, contentHash: String(repeating: "b", count: 64))

    static let childEntry = ChildEntry(
        id: "L1", kind: .part, text: "阀门", code: "V-20", quantity: 1, amountFen: 1200,
        digest: String(repeating: "c", count: 64), value: "3.2", unit: "bar")

    /// One action of every kind, every optional field set.
    static func sampleActions() -> [Action] {
        [
            .create(fields: orderFields()), .assign(technician: "alice"),
            .transition(to: .enRoute, note: "leaving the depot"),
            .setField(field: .diagnosis, value: "valve", base: hlc),
            .append(childEntry), .void(childId: "L1", reason: "typo"), .signOff(signOff),
            .requestCompensation(id: "C1", amountFen: 5000, reason: "flooded floor"),
            .reopen(reason: "customer called back"),
        ]
    }

    /// Every `Rejection.Code`, in declaration order. The switch is exhaustive, so a new code
    /// does not compile until it is added to the chain (and then to the document).
    static var allRejectionCodes: [Rejection.Code] {
        func after(_ code: Rejection.Code?) -> Rejection.Code? {
            switch code {
            case nil: .unknownOrder
            case .unknownOrder: .orderExists
            case .orderExists: .notOwner
            case .notOwner: .invalidValue
            case .invalidValue: .signed
            case .signed: .signOffMismatch
            case .signOffMismatch: .unknownChild
            case .unknownChild: .duplicateChild
            case .duplicateChild: .outOfScope
            case .outOfScope: .notAllowedNow
            case .notAllowedNow: .wrongActor
            case .wrongActor: .orderIdTaken
            case .orderIdTaken: .unknownTechnician
            case .unknownTechnician: nil
            }
        }
        var codes: [Rejection.Code] = []
        var code = after(nil)
        while let next = code {
            codes.append(next)
            code = after(next)
        }
        return codes
    }

    /// Every `PushOutcome.Result`, by the same exhaustive chain.
    static var allResults: [PushOutcome.Result] {
        func after(_ result: PushOutcome.Result?) -> PushOutcome.Result? {
            switch result {
            case nil: .applied
            case .applied: .merged
            case .merged: .rejected
            case .rejected: .deferred
            case .deferred: nil
            }
        }
        var results: [PushOutcome.Result] = []
        var result = after(nil)
        while let next = result {
            results.append(next)
            result = after(next)
        }
        return results
    }

    /// A sample of every schema that mirrors a Swift type, by schema name.
    static func wireSamples() throws -> [(String, any Encodable)] {
        let service = try makeService()
        let push = openingPush()
        let pushed = try service.push(push, as: dispatcher)
        let order = try service.order(id: "WO-1", as: dispatcher)
        let board = try service.board(as: dispatcher, includeFinished: true)
        let pull = try service.pull(as: dispatcher, cursor: 0, limit: 10)
        let outcome = try #require(pushed.outcomes.first)
        let snapshot = try #require(pull.orders.first)
        let row = try #require(board.rows.first)
        let intent = try #require(outcome.stored)
        let status = try #require(order.history.first)
        let field = try #require(order.fields.values.first)
        let technicians = try service.technicians(as: dispatcher, includeDisabled: false)

        let side = #"{"actor":"alice","device":"dev-1","opId":"op-1","occurredAt":1,"value":"v"}"#
        let conflict = try decode(Conflict.self, #"""
            {"id":"K1","orderId":"WO-1","field":"diagnosis","rule":"concurrent_edit",
             "winner":\#(side),"loser":\#(side),"at":1,"message":"m"}
            """#)
        let childRecord = try decode(ChildRecord.self, #"""
            {"entry":{"id":"L1","kind":"log","text":"t"},"actor":"alice","opId":"op-1","occurredAt":1,
             "hlc":{"physical":1,"logical":0,"device":"d"},"history":false}
            """#)
        let signOffRecord = try decode(SignOffRecord.self, """
            {"signOff":\(String(decoding: try JSONEncoder().encode(signOff), as: UTF8.self)),
             "actor":"alice","opId":"op-1","occurredAt":1}
            """)
        let compensation = try decode(Compensation.self, """
            {"id":"C1","amountFen":100,"reason":"r","actor":"alice","occurredAt":1,"state":"settled"}
            """)

        return [
            ("PushRequest", push),
            ("DeviceRegistration", DeviceRegistration(deviceId: "dev-1")),
            ("DeviceInfo", DeviceInfo(deviceId: "dev-1", number: 7, nextSeq: 3)),
            ("RecoverRequest", RecoverRequest(deviceId: "dev-1", opIds: ["op-1"])),
            ("RecoverResponse", RecoverResponse(known: [outcome], nextSeq: 3)),
            ("Intent", intent),
            ("HLC", hlc),
            ("ChildEntry", childEntry),
            ("SignOff", signOff),
            ("PushResponse", pushed),
            ("PushOutcome", PushOutcome(
                deviceSeq: 1, opId: "op-1", result: .rejected, duplicate: true,
                rejection: Rejection(.notOwner, "no"), conflicts: ["K1"], stored: intent)),
            ("PushOutcome", outcome),
            ("Rejection", Rejection(.signed, "signed")),
            ("PullResponse", pull),
            ("PullResponse", PullResponse(
                orders: [], revoked: ["WO-9"], cursor: 3, hasMore: true, checksum: "42", serverHLC: hlc)),
            ("OrderSnapshot", snapshot),
            ("WorkOrder", order),
            ("FieldValue", field),
            ("StatusEntry", status),
            ("ChildRecord", childRecord),
            ("SignOffRecord", signOffRecord),
            ("Compensation", compensation),
            ("Board", board),
            ("BoardRow", row),
            ("Conflict", conflict),
            ("ConflictSide", conflict.winner),
            ("ConflictRecord", ConflictRecord(conflict: conflict, resolvedBy: "zhang", resolution: "ok", resolvedAt: 2)),
            ("Principal", dispatcher),
            ("TechnicianList", technicians),
            ("Technician", try #require(technicians.technicians.first)),
            ("ResolveRequest", ResolveRequest(resolution: "ok")),
            ("APIErrorBody", APIErrorBody(error: "unauthorized", message: "log in")),
            ("BlobReceipt", BlobReceipt(sha256: String(repeating: "a", count: 64), size: 3, type: "png", stored: true)),
            ("BlobProgress", BlobProgress(sha256: String(repeating: "a", count: 64), received: 1, size: 3)),
        ]
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    /// The `error` codes written in `Sources/FieldSyncServer`: `.badRequest("code", …)` and
    /// its siblings, `error: "code"` and `code: "code"`.
    static func serverErrorCodes(filePath: String = #filePath) throws -> Set<String> {
        let root = URL(fileURLWithPath: filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let sources = root.appendingPathComponent("Sources/FieldSyncServer")
        let enumerator = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        let files = enumerator.allObjects.compactMap { $0 as? URL }
        let pattern = try NSRegularExpression(
            pattern: #"(?:(?:badRequest|unauthorized|forbidden|notFound|conflict)\(\s*|\b(?:error|code):\s*)"([a-z_]+)""#)
        var codes = Set<String>()
        for url in files where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            let range = NSRange(text.startIndex..., in: text)
            for match in pattern.matches(in: text, range: range) {
                if let code = Range(match.range(at: 1), in: text) { codes.insert(String(text[code])) }
            }
        }
        return codes
    }
}

/// `schema/openapi.yaml`, read by lines: enough YAML for the block style the document is
/// written in (two-space indents, flow lists on one line), without a YAML library.
struct OpenAPIDocument {
    struct Operation: Hashable, Comparable, CustomStringConvertible {
        var method: String
        var path: String

        static func < (a: Operation, b: Operation) -> Bool { (a.path, a.method) < (b.path, b.method) }
        var description: String { "\(method) \(path)" }
    }

    let text: String
    let lines: [Substring]

    /// The document next to this test: `Tests/FieldSyncServerTests/` → `schema/openapi.yaml`.
    static func load(filePath: String = #filePath) throws -> OpenAPIDocument {
        let url = URL(fileURLWithPath: filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("schema/openapi.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        return OpenAPIDocument(text: text, lines: text.split(separator: "\n", omittingEmptySubsequences: false))
    }

    static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// Every `(METHOD, path)` of the `paths:` section.
    var operations: [Operation] {
        var operations: [Operation] = []
        var path: String?
        for line in Self.block("paths", indent: 0, in: lines) {
            guard let key = Self.key(of: line) else { continue }
            switch Self.indent(of: line) {
            case 2: path = key.hasPrefix("/") ? key : nil
            case 4: if let path, Self.methods.contains(key) { operations.append(Operation(method: key.uppercased(), path: path)) }
            default: break
            }
        }
        return operations
    }

    /// The lines of `components.schemas.<name>`, or nil.
    func schema(_ name: String) -> [Substring]? {
        let components = Self.block("components", indent: 0, in: lines)
        let schemas = Self.block("schemas", indent: 2, in: components)
        let schema = Self.block(name, indent: 4, in: schemas)
        return schema.isEmpty ? nil : schema
    }

    /// The names under the schema's `properties:`.
    func properties(of name: String) -> Set<String> {
        let properties = Self.block("properties", indent: 6, in: schema(name) ?? [])
        return Set(properties.filter { Self.indent(of: $0) == 8 }.compactMap(Self.key(of:)))
    }

    /// The schema's `required: [...]`.
    func required(of name: String) -> Set<String> {
        Set(Self.flowList("required", indent: 6, in: schema(name) ?? []))
    }

    /// The `enum: [...]` of a schema, or of one of its properties.
    func enumValues(of name: String, property: String? = nil) -> [String] {
        guard let schema = schema(name) else { return [] }
        guard let property else { return Self.flowList("enum", indent: 6, in: schema) }
        let properties = Self.block("properties", indent: 6, in: schema)
        return Self.flowList("enum", indent: 10, in: Self.block(property, indent: 8, in: properties))
    }

    /// `discriminator.mapping` of a schema: discriminator value → `$ref`.
    func discriminatorMapping(of name: String) -> [String: String]? {
        let discriminator = Self.block("discriminator", indent: 6, in: schema(name) ?? [])
        let mapping = Self.block("mapping", indent: 8, in: discriminator)
        guard !mapping.isEmpty else { return nil }
        var out: [String: String] = [:]
        for line in mapping where Self.indent(of: line) == 10 {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            out[key] = Self.unquote(line[line.index(after: colon)...])
        }
        return out
    }

    /// The `$ref`s of the schema's `oneOf:` list.
    func oneOfReferences(of name: String) -> [String] {
        Self.block("oneOf", indent: 6, in: schema(name) ?? []).compactMap { line in
            let item = line.trimmingCharacters(in: .whitespaces)
            guard item.hasPrefix("- $ref:") else { return nil }
            return Self.unquote(item.dropFirst("- $ref:".count))
        }
    }

    // MARK: Line reading

    static func indent(of line: Substring) -> Int { line.prefix { $0 == " " }.count }

    /// The key of a `key:` or `key: value` line (not a list item or comment), unquoted.
    static func key(of line: Substring) -> String? {
        let text = line.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, !text.hasPrefix("-"), !text.hasPrefix("#"), let colon = text.firstIndex(of: ":") else {
            return nil
        }
        return unquote(text[..<colon])
    }

    /// The lines nested under the `name:` line at `indent` (the first such line), without it.
    static func block(_ name: String, indent: Int, in lines: [Substring]) -> [Substring] {
        guard let start = lines.firstIndex(where: { self.indent(of: $0) == indent && key(of: $0) == name }) else {
            return []
        }
        var out: [Substring] = []
        for line in lines[(start + 1)...] {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            if self.indent(of: line) <= indent { break }
            out.append(line)
        }
        return out
    }

    /// The items of a one-line flow list `name: [a, b, 'c']` at `indent`.
    static func flowList(_ name: String, indent: Int, in lines: [Substring]) -> [String] {
        guard let line = lines.first(where: { self.indent(of: $0) == indent && key(of: $0) == name }),
              let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]"), open < close
        else { return [] }
        return line[line.index(after: open)..<close].split(separator: ",").map { unquote($0) }.filter { !$0.isEmpty }
    }

    static func unquote(_ text: some StringProtocol) -> String {
        text.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
    }
}
