#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock milliseconds and local-time formatting without ICU (start-up cost matters:
/// MEASURED.md shows an ICU formatter adds ~2 ms to every command).
public enum WallClock {
    /// Milliseconds since 1970 from the system clock.
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// "2026-11-23 14:05" in the machine's local time zone.
    public static func format(_ ms: Int64?, seconds: Bool = false) -> String {
        guard let ms else { return "-" }
        var t = time_t(ms / 1000)
        var parts = tm()
        localtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let date = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
        let time = "\(two(parts.tm_hour)):\(two(parts.tm_min))" + (seconds ? ":\(two(parts.tm_sec))" : "")
        return "\(date) \(time)"
    }

    /// "14:05" when `ms` is today, else the date and time.
    public static func short(_ ms: Int64?, now: Int64) -> String {
        guard let ms else { return "-" }
        let full = format(ms)
        return full.prefix(10) == format(now).prefix(10) ? String(full.suffix(5)) : full
    }
}
