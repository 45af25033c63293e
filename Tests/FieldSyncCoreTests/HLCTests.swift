import FieldSyncCore
import PropertyBased
import Testing

@Suite("Hybrid logical clock")
struct HLCTests {
    @Test("tick strictly increases, within and across milliseconds")
    func tickIncreases() {
        // Given a fresh clock
        var clock = HybridClock(device: "tab-wang")

        // When it issues timestamps at 1000, 1000, 1001 and 1500 ms
        let stamps = [1000, 1000, 1001, 1500].map { clock.tick(now: Int64($0)) }

        // Then each is greater than the last: same millisecond bumps the counter
        #expect(stamps.map(\.physical) == [1000, 1000, 1001, 1500])
        #expect(stamps.map(\.logical) == [0, 1, 0, 0])
        #expect(stamps.allSatisfy { $0.device == "tab-wang" })
        #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $0 < $1 })
        #expect(clock.last == stamps.last)
    }

    @Test("a wall clock going backwards still gives increasing timestamps")
    func backwardsWallClock() {
        // Given a clock that issued a timestamp at 5000 ms
        var clock = HybridClock(device: "tab-wang")
        let first = clock.tick(now: 5000)

        // When the wall clock goes back to 4000, 3000, 3000 and then jumps to 6000
        let later = [4000, 3000, 3000, 6000].map { clock.tick(now: Int64($0)) }

        // Then physical time never goes back; the counter carries the order
        let all = [first] + later
        #expect(all.map(\.physical) == [5000, 5000, 5000, 5000, 6000])
        #expect(all.map(\.logical) == [0, 1, 2, 3, 0])
        #expect(zip(all, all.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test("after receiving a timestamp far ahead, the next tick orders after it")
    func receiveFarAhead() {
        // Given a device clock at 1000 ms and a server stamp an hour ahead
        var clock = HybridClock(device: "tab-wang")
        _ = clock.tick(now: 1000)
        let remote = HLC(physical: 3_601_000, logical: 7, device: "server")

        // When the device receives it and records an event with its own (slow) wall clock
        clock.receive(remote, now: 1001)
        let next = clock.tick(now: 1002)

        // Then the event orders after the remote stamp without losing the remote's time
        #expect(next > remote)
        #expect(next.physical == remote.physical)
        #expect(next.logical == 9)
        #expect(next.device == "tab-wang")
    }

    @Test("receiving an older timestamp keeps the local clock's order")
    func receiveOlder() {
        // Given a clock at 5000.0
        var clock = HybridClock(device: "a")
        let mine = clock.tick(now: 5000)

        // When it receives an old stamp
        clock.receive(HLC(physical: 10, logical: 3, device: "b"), now: 4000)
        let next = clock.tick(now: 4000)

        // Then the next tick still follows its own last one
        #expect(next > mine)
        #expect(next == HLC(physical: 5000, logical: 2, device: "a"))
    }

    @Test("a counter at its maximum carries into the next millisecond")
    func counterOverflow() {
        // Given a remote stamp whose counter is full (a corrupt or hostile device)
        var clock = HybridClock(device: "server")
        let remote = HLC(physical: 2000, logical: .max, device: "tab-x")

        // When the clock receives it and ticks, then ticks again
        clock.receive(remote, now: 1000)
        let first = clock.tick(now: 1000)
        let second = clock.tick(now: 1000)

        // Then the stamps still order after it (no wrap to a negative counter)
        #expect(clock.last >= first)
        #expect(first > remote)
        #expect(second > first)
    }

    @Test("ordering: physical, then counter, then device as the tie-break")
    func ordering() {
        // Given stamps that differ in one component each
        let a = HLC(physical: 100, logical: 0, device: "a")
        let b = HLC(physical: 100, logical: 0, device: "b")
        let a1 = HLC(physical: 100, logical: 1, device: "a")
        let z5 = HLC(physical: 100, logical: 5, device: "z")
        let later = HLC(physical: 101, logical: 0, device: "a")

        // When sorted, Then the order is total and the same whatever the input order
        #expect(a < b)
        #expect(b < a1)
        #expect(a1 < z5)
        #expect(z5 < later)
        #expect(!(a < a) && a == HLC(physical: 100, device: "a"))
        #expect([later, z5, b, a1, a].sorted() == [a, b, a1, z5, later])
        #expect(a.description == "100.0@a")
    }

    /// What a device's clock does next: issue a stamp, or take in a stamp from elsewhere.
    enum ClockStep: Sendable, CustomStringConvertible {
        case tick(now: Int64)
        case receive(HLC, now: Int64)

        var description: String {
            switch self {
            case .tick(let now): "tick(\(now))"
            case .receive(let hlc, let now): "receive(\(hlc), \(now))"
            }
        }
    }

    /// Wall times that wander back and forth in a small window so physical ties are common,
    /// remote stamps from three devices, and now and then a counter near its maximum.
    static let clockSteps = zip(
        Gen.bool, Gen.int64(in: 0...3_000), Gen.int64(in: 0...3_000),
        Gen.int32(in: 0...6), Gen.int(in: 0...9)
    ).map { isTick, now, remotePhysical, logical, pick -> ClockStep in
        if isTick { return .tick(now: now) }
        let device = ["a", "m", "z"][pick % 3]
        let counter = pick == 9 ? Int32.max - logical : logical
        return .receive(HLC(physical: remotePhysical, logical: counter, device: device), now: now)
    }.array(of: 1...80)

    // A failure prints the input and a `.fixedSeed(...)` to add to the @Test to replay it.
    @Test("property: issued timestamps strictly increase and follow everything received")
    func monotonicProperty() async {
        await propertyCheck(count: 500, input: Self.clockSteps) { steps in
            // Given a clock at device "m", When it runs the steps
            var clock = HybridClock(device: "m")
            var issued: [HLC] = []
            var greatestSeen = HLC.zero
            for step in steps {
                switch step {
                case .tick(let now):
                    let stamp = clock.tick(now: now)
                    // Then every stamp follows every stamp issued or received before it
                    #expect(stamp > greatestSeen, "\(stamp) after \(greatestSeen)")
                    #expect(stamp.device == "m")
                    #expect(stamp.physical >= now)
                    issued.append(stamp)
                    greatestSeen = stamp
                case .receive(let remote, let now):
                    clock.receive(remote, now: now)
                    #expect(clock.last > remote)
                    greatestSeen = max(greatestSeen, remote)
                }
            }
            #expect(zip(issued, issued.dropFirst()).allSatisfy { $0 < $1 })
        }
    }
}
