import FieldSyncCore
import Hummingbird
import Logging

/// The `/v1` JSON API: every route needs a bearer token and answers errors as
/// `APIErrorBody` JSON. What a route did goes on the request's log line
/// (``RequestFacts``) and into ``ServerMetrics``.
struct SyncRoutes {
    let service: SyncService
    let metrics: ServerMetrics
    /// Largest push body; ``PushRequest/maxBytes`` unless a test asks for less.
    var maxPushBytes = PushRequest.maxBytes

    /// Largest body of a conflict resolution.
    static let maxResolveBytes = 64 << 10
    /// Page size when a pull names none.
    static let defaultPullLimit = 200

    func add(to router: Router<BasicRequestContext>) {
        let service = self.service
        let metrics = self.metrics
        let maxPushBytes = self.maxPushBytes
        let v1 = router.group("v1")
        v1.get("me") { request, _ in
            try JSONResponse.make(try await RequestReading.principal(request, service))
        }
        v1.post("sync/push") { request, _ in
            let principal = try await RequestReading.principal(request, service)
            let push = try await RequestReading.decodeBody(
                PushRequest.self, from: request, limit: maxPushBytes, fast: PushRequest.init(json:))
            let response = try await Offload.run { try service.push(push, as: principal) }
            metrics.recordPush(response)
            RequestFacts.current?.add([
                "device": .string(push.deviceId), "intents": .stringConvertible(push.intents.count),
                "nextSeq": .stringConvertible(response.nextSeq),
            ])
            var out = JSONWriter(capacity: 256 * response.outcomes.count)
            response.write(to: &out)
            return JSONResponse.raw(out.bytes)
        }
        v1.post("devices") { request, _ in
            let principal = try await RequestReading.principal(request, service)
            let body = try await RequestReading.decodeBody(
                DeviceRegistration.self, from: request, limit: Self.maxResolveBytes)
            return try JSONResponse.make(try await Offload.run { try service.registerDevice(body, as: principal) })
        }
        v1.post("sync/recover") { request, _ in
            let principal = try await RequestReading.principal(request, service)
            let body = try await RequestReading.decodeBody(
                RecoverRequest.self, from: request, limit: PushRequest.maxBytes)
            let response = try await Offload.run { try service.recover(body, as: principal) }
            RequestFacts.current?.add([
                "device": .string(body.deviceId), "asked": .stringConvertible(body.opIds.count),
                "known": .stringConvertible(response.known.count),
            ])
            return try JSONResponse.make(response)
        }
        v1.get("sync/pull") { request, _ in
            let principal = try await RequestReading.principal(request, service)
            let cursor = try RequestReading.integer("cursor", request, code: "bad_cursor") ?? 0
            if cursor < 0 {
                throw ServiceError.badRequest("bad_cursor", "cursor must be 0 or the cursor of an earlier pull, not \(cursor)")
            }
            let limit = try RequestReading.integer("limit", request, code: "bad_limit")
                .map { Int(clamping: $0) } ?? Self.defaultPullLimit
            let delta = try RequestReading.integer("delta", request, code: "bad_delta") == 1
            let page = try await Offload.run {
                try service.pullJSON(as: principal, cursor: cursor, limit: limit, delta: delta)
            }
            metrics.recordPull(page.counts)
            return JSONResponse.raw(page.json)
        }
        v1.get("orders/:id") { request, context in
            let principal = try await RequestReading.principal(request, service)
            let id = try context.parameters.require("id")
            return try JSONResponse.make(try await Offload.run { try service.order(id: id, as: principal) })
        }
        v1.get("board") { request, _ in
            let principal = try await RequestReading.principal(request, service)
            let query = try RequestReading.boardQuery(request)
            return try JSONResponse.make(try await Offload.run { try service.board(as: principal, query: query) })
        }
        v1.get("technicians") { request, _ in
            let principal = try await RequestReading.principal(request, service)
            let all = RequestReading.flag("all", request)
            return try JSONResponse.make(try await Offload.run { try service.technicians(as: principal, includeDisabled: all) })
        }
        v1.get("conflicts") { request, _ in
            let principal = try await RequestReading.principal(request, service)
            let all = RequestReading.flag("all", request)
            let page = try RequestReading.conflictPage(request)
            return try JSONResponse.make(try await Offload.run {
                try service.conflicts(as: principal, includeResolved: all, page: page)
            })
        }
        v1.post("conflicts/:id/resolve") { request, context in
            let principal = try await RequestReading.principal(request, service)
            let id = try context.parameters.require("id")
            let body = try await RequestReading.decodeBody(
                ResolveRequest.self, from: request, limit: Self.maxResolveBytes)
            let record = try await Offload.run { try service.resolveConflict(id: id, resolution: body.resolution, as: principal) }
            RequestFacts.current?.add(["conflict": .string(id)])
            return try JSONResponse.make(record)
        }
    }
}
