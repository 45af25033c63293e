/// A Prometheus histogram of latencies: counts per upper bound, their sum and count.
///
/// Not thread-safe on its own; ``ServerMetrics`` holds it under its lock.
struct LatencyHistogram: Sendable {
    /// Upper bounds, ascending, in seconds.
    let bounds: [Double]
    /// Observations at or below each bound (not cumulative; see ``cumulativeCounts``).
    private var counts: [Int]
    private(set) var sum = 0.0
    private(set) var count = 0

    init(bounds: [Double]) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count)
    }

    mutating func record(_ seconds: Double) {
        if let index = bounds.firstIndex(where: { seconds <= $0 }) { counts[index] += 1 }
        sum += seconds
        count += 1
    }

    /// Observations at or below each bound, as `_bucket{le=…}` series carry them.
    var cumulativeCounts: [Int] {
        var total = 0
        return counts.map { total += $0; return total }
    }
}
