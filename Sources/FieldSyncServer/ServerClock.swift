import FieldSyncCore
import Foundation

/// The server's hybrid logical clock, shared by concurrent requests.
///
/// It takes in every accepted intent's timestamp and stamps each response, so a device
/// that receives `serverHLC` orders its next events after everything the server has seen.
/// It holds no state another server instance would need: a fresh clock starts at the wall
/// clock, and timestamps of stored events are at most `now + tolerance`.
final class ServerClock: @unchecked Sendable {
    private let lock = NSLock()
    private var clock = HybridClock(device: "server")

    /// Takes in `timestamps`, then issues a server timestamp after all of them.
    func stamp(receiving timestamps: [HLC], now: Int64) -> HLC {
        lock.lock()
        defer { lock.unlock() }
        for timestamp in timestamps { clock.receive(timestamp, now: now) }
        return clock.tick(now: now)
    }
}
