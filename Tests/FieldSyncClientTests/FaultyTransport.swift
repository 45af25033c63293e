import FieldSyncClient
import FieldSyncCore
import FieldSyncServer
import Foundation

/// The faults a transport injects, as probabilities per request.
struct Faults {
    var dropBeforeServer = 0.0
    var dropAfterServer = 0.0
    /// Chance to send a request twice and hand the engine the second answer (pushes and
    /// pulls alike).
    var duplicate = 0.0
    /// Chance to keep a copy of a push and deliver it again later, out of order.
    var stash = 0.0
    var replayStashed = 0.0

    static let none = Faults()
    static let harsh = Faults(dropBeforeServer: 0.15, dropAfterServer: 0.15, duplicate: 0.15, stash: 0.2, replayStashed: 0.3)
}

extension SyncError {
    /// Marks the failures a ``FaultyTransport`` makes up, so a simulation can tell them
    /// from every other error, which must fail the schedule.
    static let injectedMarker = "[injected]"

    static func injected(_ why: String) -> SyncError { .offline("\(injectedMarker) \(why)") }

    /// Whether this is a network failure the simulation injected.
    var isInjected: Bool {
        if case .offline(let why) = self { return why.hasPrefix(Self.injectedMarker) }
        return false
    }
}

/// The server behind a network that drops, duplicates and reorders requests: in process
/// (``SimWire/inProcess``) or over a real socket through `ServerAPI` (``SimWire/http``).
///
/// Only the faults it injects are `SyncError.offline` with ``SyncError/injectedMarker``;
/// everything the server or libcurl answers is passed on untouched.
final class FaultyTransport: SyncTransport {
    let server: SimServer
    let principal: Principal
    var rng: SplitMix
    var faults: Faults
    var stashed: [PushRequest] = []
    /// The device's store was replaced by an older copy: a stale copy of a push sent
    /// before may now reuse numbers (409 `sequence_reused`), which is no fault of anyone.
    var restored = false
    /// Real `413 body_too_large` answers (HTTP only).
    private(set) var tooLarge = 0
    /// Answers to stale copies that no correct server gives.
    private(set) var problems: [String] = []
    private var clients: [String: ServerAPI] = [:]

    init(server: SimServer, principal: Principal, seed: UInt64, faults: Faults) {
        self.server = server
        self.principal = principal
        rng = SplitMix(seed: seed)
        self.faults = faults
    }

    func push(_ request: PushRequest) throws -> PushResponse {
        replayOldRequest()
        if rng.chance(faults.stash) { stashed.append(request) }
        if rng.chance(faults.dropBeforeServer) { throw SyncError.injected("dropped before the server") }
        var response = try send(request)
        if rng.chance(faults.duplicate) { response = try send(request) }
        if rng.chance(faults.dropAfterServer) { throw SyncError.injected("dropped after the server applied it") }
        return response
    }

    func pull(cursor: Int64, limit: Int) throws -> PullResponse {
        replayOldRequest()
        if rng.chance(faults.dropBeforeServer) { throw SyncError.injected("dropped before the server") }
        var response = try fetch(cursor: cursor, limit: limit)
        // The same request again (a retrying proxy): the engine gets the second answer.
        if rng.chance(faults.duplicate) { response = try fetch(cursor: cursor, limit: limit) }
        if rng.chance(faults.dropAfterServer) { throw SyncError.injected("dropped after the server answered") }
        return response
    }

    func recover(_ request: RecoverRequest) throws -> RecoverResponse {
        if rng.chance(faults.dropBeforeServer) { throw SyncError.injected("dropped before the server") }
        let response: RecoverResponse
        switch server.wire {
        case .inProcess: response = try call { try server.service.recover(request, as: principal) }
        case .http: response = try client().recover(request)
        }
        if rng.chance(faults.dropAfterServer) { throw SyncError.injected("dropped after the server answered") }
        return response
    }

    /// Registers the device and returns its number, as `fieldsync login` does.
    func register(_ deviceId: String) throws -> Int64 {
        let registration = DeviceRegistration(deviceId: deviceId)
        switch server.wire {
        case .inProcess: return try call { try server.service.registerDevice(registration, as: principal) }.number
        case .http: return try client().registerDevice(deviceId).number
        }
    }

    private func send(_ request: PushRequest) throws -> PushResponse {
        switch server.wire {
        case .inProcess:
            return try call { try server.service.push(request, as: principal) }
        case .http:
            do {
                return try client().push(request)
            } catch SyncError.server(413, let body) {
                tooLarge += 1
                throw SyncError.server(status: 413, error: body)
            }
        }
    }

    private func fetch(cursor: Int64, limit: Int) throws -> PullResponse {
        switch server.wire {
        case .inProcess: try call { try server.service.pull(as: principal, cursor: cursor, limit: limit, delta: true) }
        case .http: try client().pull(cursor: cursor, limit: limit)
        }
    }

    /// Delivers a stale copy of an earlier push: its answer goes nowhere, as on a real
    /// network where the client gave up on it long ago. Only two refusals are expected of
    /// it: `413` (the original was too large as well) and `409 sequence_reused` after the
    /// device's store was restored (the numbers were given again); anything else is a
    /// problem.
    private func replayOldRequest() {
        guard !stashed.isEmpty, rng.chance(faults.replayStashed) else { return }
        let old = stashed.remove(at: Int(rng.next() % UInt64(stashed.count)))
        do {
            _ = try send(old)
        } catch SyncError.server(413, _) {
        } catch SyncError.server(409, let body) where body.error == "sequence_reused" && restored {
        } catch {
            problems.append("a stale copy of \(principal.name)'s push of \(old.intents.map(\.deviceSeq)) got \(error)")
        }
    }

    /// Closes the connection to the live server (before it stops: a graceful shutdown
    /// waits for open connections).
    func disconnect() { clients = [:] }

    /// The client of the current live server (a restart gives it a new port).
    /// A client of one live instance, picked at random for each request when there are
    /// several (a load balancer without stickiness).
    private func client() throws -> ServerAPI {
        let urls = server.baseURLs
        guard !urls.isEmpty else { throw SimFailure("the live server is not running") }
        let url = urls[urls.count == 1 ? 0 : rng.pick(urls.count)]
        if let client = clients[url] { return client }
        let client = try ServerAPI(server: url, token: server.tokens[principal.name] ?? "")
        clients[url] = client
        return client
    }

    private func call<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ServiceError {
            throw SyncError.server(status: error.status, error: error.body)
        }
    }
}
