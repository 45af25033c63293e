import FieldSyncCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import FieldSyncServer

@Suite("Metrics")
struct MetricsTests {
    private static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    private static func json<T: Encodable>(_ value: T) throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONEncoder().encode(value))
    }

    /// The samples of an exposition by series (`name{labels}`), and the problems of its format.
    static func parse(_ text: String) -> (samples: [String: Double], problems: [String]) {
        var samples: [String: Double] = [:]
        var problems: [String] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                problems.append("not a sample: \(line)")
                continue
            }
            let series = String(line[..<space])
            if samples[series] != nil { problems.append("twice: \(series)") }
            samples[series] = value
        }
        return (samples, problems)
    }

    /// Scrapes `/metrics` and checks its content type.
    static func scrape(_ client: some TestClientProtocol) async throws -> [String: Double] {
        let response = try await client.execute(uri: "/metrics", method: .get)
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
        let (samples, problems) = parse(String(buffer: response.body))
        #expect(problems.isEmpty, "\(problems)")
        return samples
    }

    @Test func requestsPushOutcomesAndPullItemsAreCountedExactly() async throws {
        // Given a server with its own metrics
        let setup = try Setup()
        let metrics = ServerMetrics()
        let app = buildApplication(
            service: setup.service, host: "127.0.0.1", port: 0, logger: Logger(label: "test"), metrics: metrics)
        var desk = TestDevice("disp-1", dispatcher)
        let opening = PushRequest(deviceId: "disp-1", intents: [
            desk.intent("WO-1", .create(fields: orderFields())),
            desk.intent("WO-1", .assign(technician: "alice")),
        ])
        let reassign = PushRequest(deviceId: "disp-1", intents: [desk.intent("WO-1", .assign(technician: "bob"))])
        var gap = desk
        gap.seq += 5
        let early = PushRequest(deviceId: "disp-1", intents: [gap.intent("WO-2", .create(fields: orderFields()))])

        try await app.test(.router) { client in
            // When: 2 health checks, a bad token, an unknown path, 4 pushes, an order, 3 pulls
            // (alice before and after she loses WO-1 to bob, the dispatcher)
            for _ in 0..<2 { #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok) }
            #expect(try await client.execute(uri: "/v1/me", method: .get, headers: Self.bearer("nope")).status == .unauthorized)
            #expect(try await client.execute(uri: "/v1/nope/42", method: .get).status == .notFound)
            func push(_ push: PushRequest) async throws {
                let answer = try await client.execute(
                    uri: "/v1/sync/push", method: .post, headers: Self.bearer(setup.dispatcherToken), body: try Self.json(push))
                #expect(answer.status == .ok)
            }
            var pages: [PullResponse] = []
            func pull(_ token: String, from cursor: Int64) async throws {
                let pulled = try await client.execute(
                    uri: "/v1/sync/pull?cursor=\(cursor)", method: .get, headers: Self.bearer(token))
                #expect(pulled.status == .ok)
                pages.append(try JSONDecoder().decode(PullResponse.self, from: Data(pulled.body.readableBytesView)))
            }
            for body in [opening, opening, early] { try await push(body) }
            try await pull(setup.technicianToken, from: 0)
            try await push(reassign)
            try await pull(setup.technicianToken, from: pages[0].cursor)
            try await pull(setup.dispatcherToken, from: 0)
            #expect(try await client.execute(
                uri: "/v1/orders/WO-1", method: .get, headers: Self.bearer(setup.dispatcherToken)).status == .ok)

            // Then every counter moved by exactly what was sent
            let samples = try await Self.scrape(client)
            func requests(_ route: String, _ method: String, _ status: Int) -> Double? {
                samples["fieldsync_http_requests_total{route=\"\(route)\",method=\"\(method)\",status=\"\(status)\"}"]
            }
            #expect(requests("/healthz", "GET", 200) == 2)
            #expect(requests("/v1/me", "GET", 401) == 1)
            #expect(requests("unmatched", "GET", 404) == 1)
            #expect(requests("/v1/sync/push", "POST", 200) == 4)
            #expect(requests("/v1/orders/{id}", "GET", 200) == 1)
            #expect(requests("/v1/sync/pull", "GET", 200) == 3)
            #expect(requests("/metrics", "GET", 200) == nil, "a scrape is counted once answered")
            #expect(samples.keys.filter { $0.hasPrefix("fieldsync_http_requests_total") }.count == 6)
            #expect(samples["fieldsync_http_requests_in_flight"] == 1, "the scrape itself")

            #expect(samples["fieldsync_push_outcomes_total{result=\"applied\"}"] == 3)
            #expect(samples["fieldsync_push_outcomes_total{result=\"duplicate\"}"] == 2)
            #expect(samples["fieldsync_push_outcomes_total{result=\"deferred\"}"] == 1)
            #expect(samples["fieldsync_push_outcomes_total{result=\"merged\"}"] == 0)
            #expect(samples["fieldsync_push_outcomes_total{result=\"rejected\"}"] == 0)

            let orders = pages.map(\.orders.count).reduce(0, +)
            let events = pages.flatMap(\.orders).map(\.events.count).reduce(0, +)
            let revoked = pages.map(\.revoked.count).reduce(0, +)
            #expect(orders >= 1 && events >= 3 && revoked == 1, "alice lost WO-1 to bob: \(pages)")
            #expect(samples["fieldsync_pull_items_total{kind=\"orders\"}"] == Double(orders))
            #expect(samples["fieldsync_pull_items_total{kind=\"events\"}"] == Double(events))
            #expect(samples["fieldsync_pull_items_total{kind=\"revocations\"}"] == Double(revoked))

            let push = "route=\"/v1/sync/push\""
            #expect(samples["fieldsync_http_request_duration_seconds_count{\(push)}"] == 4)
            #expect(samples["fieldsync_http_request_duration_seconds_bucket{\(push),le=\"+Inf\"}"] == 4)
            let buckets = ServerMetrics.latencyBuckets.map {
                samples["fieldsync_http_request_duration_seconds_bucket{\(push),le=\"\(ServerMetrics.number($0))\"}"] ?? -1
            }
            #expect(buckets.allSatisfy { $0 >= 0 } && buckets == buckets.sorted(), "cumulative: \(buckets)")
            #expect((samples["fieldsync_http_request_duration_seconds_sum{\(push)}"] ?? 0) > 0)
            #expect(samples["fieldsync_database_pool_in_flight"] != nil && samples["fieldsync_database_pool_waiting"] != nil)

            // and the next scrape counts the first one
            let again = try await Self.scrape(client)
            #expect(again["fieldsync_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"200\"}"] == 1)
            #expect(again["fieldsync_push_outcomes_total{result=\"applied\"}"] == 3)
        }
    }

    @Test func aPullPagesCountsAreWhatItsJSONCarries() throws {
        // Given alice holds WO-1…WO-4; then WO-1 and WO-2 change, WO-3 goes to bob, WO-4 is
        // completed and archived 31 days on, and WO-5 joins her scope and changes after
        let clock = MovableClock(testNow)
        let service = SyncService(database: try makeStore(), now: { clock.now })
        for technician in [alice, bob] { _ = try service.addUser(name: technician.name, role: .technician) }
        var desk = TestDevice("desk", dispatcher)
        func applied(_ response: PushResponse) -> PushResponse {
            #expect(response.outcomes.allSatisfy { $0.result == .applied }, "\(response.outcomes)")
            return response
        }
        desk.sync(applied(try openOrders(["WO-1", "WO-2", "WO-3", "WO-4", "WO-5"], device: &desk, service: service)))
        desk.sync(applied(try desk.push(["WO-1", "WO-2", "WO-3", "WO-4"].map { desk.intent($0, .assign(technician: "alice")) }, to: service)))
        let held = try #require(try pullDeltas(service, as: alice, from: 0).last).cursor
        var tablet = TestDevice("tab", alice)
        tablet.sync(applied(try tablet.push([.accepted, .onSite, .working, .completed].enumerated().map { step, status in
            tablet.intent("WO-4", .transition(to: status, note: nil), at: testNow + Int64(step + 1) * minute)
        }, to: service)))
        clock.advance(31 * 86_400_000)
        desk.sync(applied(try desk.push([
            desk.intent("WO-1", .setField(field: .address, value: "新地址 1 号", base: nil)),
            desk.intent("WO-3", .assign(technician: "bob")),
            desk.intent("WO-5", .assign(technician: "alice")),
            desk.intent("WO-5", .setField(field: .customerTier, value: "vip", base: nil)),
            desk.intent("WO-2", .setField(field: .specialNeeds, value: "轮椅", base: nil)),
            desk.intent("WO-5", .setField(field: .address, value: "新地址 5 号", base: nil)),
        ], to: service)))

        // When every page is asked as the route's JSON, from the start and from where alice
        // held her orders, with and without deltas, a few items a page or all at once
        var seen = PullPageCounts(), archived = 0, deltas = 0, pages = 0
        for (principal, start) in [(alice, held), (alice, 0), (dispatcher, 0), (bob, 0)] {
            for delta in [true, false] {
                for limit in [1, 2, 500] {
                    var cursor = start
                    var more = true
                    while more && pages < 1000 {
                        let (json, counts) = try service.pullJSON(as: principal, cursor: cursor, limit: limit, delta: delta)
                        let page = try JSONDecoder().decode(PullResponse.self, from: Data(json))

                        // Then its counts are exactly the orders, events and revoked ids it carries
                        // (archived ids are not revocations)
                        let carried = PullPageCounts(
                            orders: page.orders.count, events: page.orders.map(\.events.count).reduce(0, +),
                            revocations: page.revoked.count)
                        #expect(counts == carried, "\(principal.name) from \(start), delta \(delta), limit \(limit), cursor \(cursor)")
                        seen.orders += counts.orders
                        seen.events += counts.events
                        seen.revocations += counts.revocations
                        archived += page.archived.count
                        deltas += page.orders.filter { $0.after != nil }.count
                        pages += 1
                        (cursor, more) = (page.cursor, page.hasMore)
                    }
                }
            }
        }
        // and the pages had each kind of item: orders, events beyond one per order, revoked,
        // archived, and held orders' new events
        #expect(seen.events > seen.orders && seen.revocations > 0 && archived > 0 && deltas > 0, "\(seen), \(archived), \(deltas)")
    }

    @Test func theDatabasePoolRunsAsManyBlockingCallsAtOnceAsItHasThreads() async throws {
        // Given a pool of 16 threads and 16 jobs that each hold their thread until all have started
        let count = 16
        let pool = BlockingPool(threads: count, name: "test.pool")
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        for _ in 0..<count {
            pool.submit {
                started.signal()
                release.wait()
                finished.signal()
            }
        }
        // Then all 16 start (a queue of a few threads would leave most waiting: the wait times
        // out), and all finish once released. (Watched from a thread of its own: the test's
        // cooperative thread may wait long while other suites block theirs.)
        let (allStarted, load, allFinished) = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let allStarted = (0..<count).allSatisfy { _ in started.wait(timeout: .now() + 10) == .success }
                let load = pool.load
                for _ in 0..<count { release.signal() }
                let allFinished = (0..<count).allSatisfy { _ in finished.wait(timeout: .now() + 10) == .success }
                continuation.resume(returning: (allStarted, load, allFinished))
            }
        }
        #expect(allStarted, "fewer than \(count) jobs ran at once")
        #expect(load == BlockingPool.Load(waiting: 0, running: count))
        #expect(allFinished)
        #expect(Offload.threads >= 16, "the server's pool must outnumber the database connections")
    }

    @Test func theDatabasePoolGaugeCountsRunningCalls() async throws {
        // Given a database call that holds until released
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let call = Task { try await Offload.run { started.signal(); release.wait() } }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { started.wait(); continuation.resume() }
        }
        // Then it is counted while it runs (other suites may run calls of their own)
        #expect(Offload.load.running >= 1)
        #expect((Self.parse(ServerMetrics().render()).samples["fieldsync_database_pool_in_flight"] ?? 0) >= 1)
        release.signal()
        try await call.value
    }
}
