/// A hybrid logical clock timestamp: wall-clock milliseconds, a logical counter and the
/// device that made it.
///
/// Ordering is total: physical time first, then the counter, then the device id as the
/// tie-break, so two replicas that hold the same set of events sort them the same way.
public struct HLC: Codable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since 1970 as the device believed them (never decreases per device).
    public var physical: Int64
    /// Bumped when several events share one physical millisecond or the clock went back.
    public var logical: Int32
    /// The device that issued the timestamp; breaks ties between devices.
    public var device: String

    public init(physical: Int64, logical: Int32 = 0, device: String) {
        self.physical = physical
        self.logical = logical
        self.device = device
    }

    /// The smallest timestamp; used as the starting point of a fresh clock.
    public static let zero = HLC(physical: 0, logical: 0, device: "")

    public static func < (lhs: HLC, rhs: HLC) -> Bool {
        if lhs.physical != rhs.physical { return lhs.physical < rhs.physical }
        if lhs.logical != rhs.logical { return lhs.logical < rhs.logical }
        return lhs.device < rhs.device
    }

    public var description: String { "\(physical).\(logical)@\(device)" }
}

/// The state of one device's hybrid logical clock.
///
/// Time comes in as a value (`now`, milliseconds) so tests drive it; a wall clock that
/// jumps backwards never makes the clock go backwards.
public struct HybridClock: Sendable, Equatable {
    /// The last timestamp issued or received.
    public private(set) var last: HLC
    public let device: String

    public init(device: String, last: HLC? = nil) {
        self.device = device
        self.last = last ?? HLC(physical: 0, logical: 0, device: device)
    }

    /// Issues a timestamp for a local event, strictly greater than every one seen so far.
    public mutating func tick(now: Int64) -> HLC {
        let next: HLC
        if now > last.physical {
            next = HLC(physical: now, logical: 0, device: device)
        } else {
            next = after(physical: last.physical, logical: last.logical)
        }
        last = next
        return next
    }

    /// Takes in a timestamp seen from elsewhere (a pulled event, the server's clock), so
    /// the next local event orders after everything this device has learnt of.
    public mutating func receive(_ remote: HLC, now: Int64) {
        let physical = max(now, last.physical, remote.physical)
        if physical == last.physical && physical == remote.physical {
            last = after(physical: physical, logical: max(last.logical, remote.logical))
        } else if physical == last.physical {
            last = after(physical: physical, logical: last.logical)
        } else if physical == remote.physical {
            last = after(physical: physical, logical: remote.logical)
        } else {
            last = HLC(physical: physical, logical: 0, device: device)
        }
    }

    /// The next stamp after `physical.logical`: the counter plus one, or — when the counter
    /// is full (a corrupt or hostile remote stamp can carry `Int32.max`) — the next
    /// millisecond, so the clock never wraps to a negative counter and sorts backwards.
    /// (A physical time of `Int64.max` is out of reach: the server clamps future times.)
    private func after(physical: Int64, logical: Int32) -> HLC {
        logical == .max
            ? HLC(physical: physical &+ 1, logical: 0, device: device)
            : HLC(physical: physical, logical: logical + 1, device: device)
    }
}
