/// The bounds a device's times must fit before an intent is stored (sync-protocol.md §6).
///
/// A device clock can be wrong both ways. Too far ahead, and a crew "arrives" tomorrow;
/// too far behind, and it "arrives" before the order was even opened, so the board says
/// the deadline was met. The server runs ``bound(_:deviceLast:order:now:)`` on every
/// intent it accepts, and the SLA figures use the bounded time.
///
/// Two kinds of time are bounded separately, because they serve different ends:
/// - `occurredAt` is the time the board and the SLA figures show. It may not lie in the
///   server's future beyond the tolerance, before the order was opened, or well before a
///   time its own device had already seen (the intent's HLC shows what that was). Each
///   correction keeps the device's time in `clampedFrom` and flags the event.
/// - `hlc` only orders events. A physical part in the server's future is brought back to
///   now, and every intent of a device sorts after that device's previous one. An HLC that
///   was once far ahead is therefore no evidence of anything: it does not move a correct
///   `occurredAt`, so a device whose clock was wrong once is not punished for ever.
public struct ClockBounds: Sendable {
    /// How far a device time may stray before it is corrected (default 5 minutes).
    public var toleranceMs: Int64

    /// The default used by the server and the client.
    public static let standard = ClockBounds(toleranceMs: 300_000)

    public init(toleranceMs: Int64) {
        self.toleranceMs = toleranceMs
    }

    /// The intent as the server stores it.
    ///
    /// - Parameters:
    ///   - deviceLast: the last HLC the server stored for the intent's device.
    ///   - order: the order as the server holds it (nil for a `create`).
    ///   - now: the server's wall clock, ms.
    public func bound(_ intent: Intent, deviceLast: HLC?, order: WorkOrder?, now: Int64) -> Intent {
        var stored = intent
        stored.clampedFrom = nil  // set here only
        let future = now &+ toleranceMs
        let device = intent.hlc.device

        var hlc = intent.hlc
        let hlcPlausible = hlc.physical <= future
        if !hlcPlausible {
            hlc = HLC(physical: now, logical: 0, device: device)
            // It still sorts after the order's events its (future) stamp claimed to follow.
            if let last = order?.lastHLC, hlc <= last { hlc = Self.after(last, device: device) }
        }
        if let deviceLast, hlc <= deviceLast { hlc = Self.after(deviceLast, device: device) }
        stored.hlc = hlc

        var at = intent.occurredAt
        if at > future {
            at = now
        } else {
            // What the device had already seen when it recorded this: its HLC's physical
            // part, when that is plausible at all.
            if hlcPlausible, at < intent.hlc.physical &- toleranceMs {
                at = min(intent.hlc.physical, now)
            }
            if let opened = order?.createdAt, at < opened { at = opened }
        }
        if at != intent.occurredAt {
            stored.clampedFrom = intent.occurredAt
            stored.occurredAt = at
        }
        return stored
    }

    private static func after(_ stamp: HLC, device: String) -> HLC {
        stamp.logical == .max
            ? HLC(physical: stamp.physical &+ 1, logical: 0, device: device)
            : HLC(physical: stamp.physical, logical: stamp.logical + 1, device: device)
    }
}
