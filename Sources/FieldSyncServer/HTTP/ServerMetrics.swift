import FieldSyncCore
import Foundation

/// The server's counters, gauges and latency histograms, served on `GET /metrics` in the
/// Prometheus text format (version 0.0.4).
///
/// Hand-written rather than swift-metrics with swift-prometheus: the server exports a
/// dozen fixed series, and these ~150 lines replace two packages (and their build) with
/// a format a test reads line by line. Counters only grow; a restart resets them, which
/// Prometheus' `rate()` expects.
///
/// Labels are bounded: the route is the matched pattern (`/v1/orders/{id}`, never the
/// raw path), `unmatched` for a path no route serves.
public final class ServerMetrics: @unchecked Sendable {
    /// Upper bounds of the latency buckets, in seconds.
    public static let latencyBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// One series of `fieldsync_http_requests_total`.
    struct RequestKey: Hashable, Comparable {
        var route: String
        var method: String
        var status: Int

        static func < (a: Self, b: Self) -> Bool {
            (a.route, a.method, a.status) < (b.route, b.method, b.status)
        }
    }

    private let lock = NSLock()
    private var requests: [RequestKey: Int] = [:]
    private var latency: [String: LatencyHistogram] = [:]
    private var inFlight = 0
    private var pushOutcomes: [String: Int] = Dictionary(uniqueKeysWithValues: ServerMetrics.pushResults.map { ($0, 0) })
    private var pullItems: [String: Int] = ["orders": 0, "events": 0, "revocations": 0]

    /// The `result` labels of `fieldsync_push_outcomes_total`, each outcome counted once:
    /// a retry's stored answer counts as `duplicate`, whatever its first result was.
    static let pushResults = ["applied", "merged", "duplicate", "deferred", "rejected"]

    public init() {}

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// A request reached the server (before routing).
    func requestStarted() {
        locked { inFlight += 1 }
    }

    /// A request was answered: counts it by route, method and status and records its latency.
    func requestFinished(route: String, method: String, status: Int, seconds: Double) {
        locked {
            inFlight -= 1
            requests[RequestKey(route: route, method: method, status: status), default: 0] += 1
            latency[route, default: LatencyHistogram(bounds: Self.latencyBuckets)].record(seconds)
        }
    }

    /// Counts the outcomes of one push answer.
    func recordPush(_ response: PushResponse) {
        locked {
            for outcome in response.outcomes {
                let result = outcome.duplicate ? "duplicate" : outcome.result.rawValue
                pushOutcomes[result, default: 0] += 1
            }
        }
    }

    /// Counts what one pull page sent.
    func recordPull(_ counts: PullPageCounts) {
        locked {
            pullItems["orders", default: 0] += counts.orders
            pullItems["events", default: 0] += counts.events
            pullItems["revocations", default: 0] += counts.revocations
        }
    }

    /// The exposition: every series, sorted, `# HELP` and `# TYPE` before each family.
    func render(database: Offload.Load = Offload.load) -> String {
        locked {
            var out = ""
            func family(_ name: String, _ type: String, _ help: String) {
                out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            }
            family("fieldsync_http_requests_total", "counter", "Requests answered, by matched route, method and status.")
            for key in requests.keys.sorted() {
                out += "fieldsync_http_requests_total{route=\(Self.quoted(key.route)),method=\(Self.quoted(key.method)),status=\"\(key.status)\"} \(requests[key] ?? 0)\n"
            }
            family("fieldsync_http_requests_in_flight", "gauge", "Requests received and not yet answered (a scrape counts itself).")
            out += "fieldsync_http_requests_in_flight \(inFlight)\n"
            family("fieldsync_http_request_duration_seconds", "histogram", "Time from a request's head to its response, by matched route.")
            for route in latency.keys.sorted() {
                guard let histogram = latency[route] else { continue }
                let label = "route=\(Self.quoted(route))"
                for (bound, count) in zip(histogram.bounds, histogram.cumulativeCounts) {
                    out += "fieldsync_http_request_duration_seconds_bucket{\(label),le=\"\(Self.number(bound))\"} \(count)\n"
                }
                out += "fieldsync_http_request_duration_seconds_bucket{\(label),le=\"+Inf\"} \(histogram.count)\n"
                out += "fieldsync_http_request_duration_seconds_sum{\(label)} \(Self.number(histogram.sum))\n"
                out += "fieldsync_http_request_duration_seconds_count{\(label)} \(histogram.count)\n"
            }
            family("fieldsync_push_outcomes_total", "counter", "Pushed intents by outcome (a retry's stored answer counts as duplicate).")
            for result in Self.pushResults {
                out += "fieldsync_push_outcomes_total{result=\"\(result)\"} \(pushOutcomes[result] ?? 0)\n"
            }
            family("fieldsync_pull_items_total", "counter", "What pull pages sent: orders, their events, and revocations.")
            for kind in ["orders", "events", "revocations"] {
                out += "fieldsync_pull_items_total{kind=\"\(kind)\"} \(pullItems[kind] ?? 0)\n"
            }
            family("fieldsync_database_pool_in_flight", "gauge", "Database calls running on the database queue.")
            out += "fieldsync_database_pool_in_flight \(database.running)\n"
            family("fieldsync_database_pool_waiting", "gauge", "Database calls submitted and not yet started.")
            out += "fieldsync_database_pool_waiting \(database.waiting)\n"
            return out
        }
    }

    /// A label value in quotes, with `\`, `"` and newlines escaped as the format asks.
    static func quoted(_ value: String) -> String {
        var out = "\""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out + "\""
    }

    /// A sample value: integers without a fraction, others as Swift prints a `Double`.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
