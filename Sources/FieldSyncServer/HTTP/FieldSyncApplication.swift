import FieldSyncCore
import Hummingbird
import Logging

/// The routes of the central server over `service`: `/healthz`, `/readyz`, `/metrics`, the
/// `/v1` JSON API and the `/board` HTML page with its sign-in (``BoardSession``). Errors
/// become `APIErrorBody` JSON with a precise status.
///
/// Every request gets one log line on `logger` and is counted in `metrics`
/// (``OperationsMiddleware``). `maxPushBytes` bounds a push body (413 `body_too_large`
/// above it); tests pass a small value so real 413s make the sync engine split its batches.
public func buildRouter(
    service: SyncService, logger: Logger, maxPushBytes: Int = PushRequest.maxBytes,
    metrics: ServerMetrics = ServerMetrics()
) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.addMiddleware {
        OperationsMiddleware(logger: logger, metrics: metrics)
        APIErrorMiddleware(logger: logger)
    }
    // Liveness: the process answers. Readiness: the database answers too (a load
    // balancer sends no traffic to an instance whose database is gone).
    router.get("healthz") { _, _ in
        try JSONResponse.make(["ok": true])
    }
    router.get("readyz") { _, _ in
        try await Offload.run { try service.checkDatabase() }
        return try JSONResponse.make(["ok": true])
    }
    // For the monitoring system, without a token: keep it off the public side of the proxy.
    router.get("metrics") { _, _ in
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render())))
    }
    SyncRoutes(service: service, metrics: metrics, maxPushBytes: maxPushBytes).add(to: router)
    BoardSession(service: service).add(to: router)
    BlobRoutes(service: service, logger: logger).add(to: router)
    ReportRoutes(service: service).add(to: router)
    return router
}

/// The server application: ``buildRouter(service:logger:maxPushBytes:metrics:)`` bound to `host:port`.
///
/// `onListening` runs once the socket listens, with the actual port (so port 0 picks a
/// free one and the caller learns which). Run it with `runService()` for graceful
/// shutdown on SIGTERM/SIGINT, or test it with `app.test(.router)` / `.live`.
public func buildApplication(
    service: SyncService, host: String = "127.0.0.1", port: Int = 8080, logger: Logger,
    maxPushBytes: Int = PushRequest.maxBytes, metrics: ServerMetrics = ServerMetrics(),
    onListening: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(service: service, logger: logger, maxPushBytes: maxPushBytes, metrics: metrics),
        configuration: ApplicationConfiguration(
            address: .hostname(host, port: port), serverName: "fieldsync-server"),
        onServerRunning: { channel in
            await onListening(host, channel.localAddress?.port ?? port)
        },
        logger: logger)
}
