/// Response deadlines per order kind and urgency. Policy, not constants (DOMAIN.md): the
/// heating seed uses 2 / 4 / 8 hours; complaints answer faster.
public struct DeadlinePolicy: Sendable, Equatable, Codable {
    /// Minutes to respond, by urgency (1 = emergency … 3 = routine).
    public var minutesByUrgency: [Int: Int]
    /// Overrides for a kind, by urgency.
    public var overrides: [OrderKind: [Int: Int]]
    /// Warn when this share of the window or less remains (DOMAIN: warn before breach).
    public var warnShare: Double

    public static let standard = DeadlinePolicy(
        minutesByUrgency: [1: 120, 2: 240, 3: 480],
        overrides: [.complaint: [1: 30, 2: 120, 3: 480]],
        warnShare: 0.25)

    public init(minutesByUrgency: [Int: Int], overrides: [OrderKind: [Int: Int]], warnShare: Double) {
        self.minutesByUrgency = minutesByUrgency
        self.overrides = overrides
        self.warnShare = warnShare
    }

    /// The response deadline of an order opened at `openedAt` (milliseconds).
    public func deadline(kind: OrderKind, urgency: Int, openedAt: Int64) -> Int64 {
        let minutes = overrides[kind]?[urgency] ?? minutesByUrgency[urgency] ?? 480
        return openedAt + Int64(minutes) * 60_000
    }

    /// Where an order stands against its response deadline at `now`.
    public func standing(of order: WorkOrder, now: Int64) -> DeadlineStanding {
        standing(
            responseDeadline: order.responseDeadline, createdAt: order.createdAt,
            onSiteAt: order.onSiteAt, status: order.status, now: now)
    }

    /// From when an order waiting for its crew is due soon (milliseconds): the first `now`
    /// at which ``standing(responseDeadline:createdAt:onSiteAt:status:now:)`` says
    /// `dueSoon` or `overdue`. Nil for an order that is not waiting against a deadline (no
    /// deadline, the crew arrived, or finished). The server keeps it as a column, so the
    /// board finds the orders at risk through an index instead of ranking every open one.
    public func warnAt(responseDeadline: Int64?, createdAt: Int64, onSiteAt: Int64?, status: OrderStatus) -> Int64? {
        guard let deadline = responseDeadline, onSiteAt == nil, !status.isFinished else {
            return nil
        }
        // Due soon while `Double(deadline - now) <= Double(window) * warnShare`; for a
        // whole number of milliseconds left that is `left <= floor(window * warnShare)`.
        let window = max(deadline - createdAt, 1)
        return deadline - Int64((Double(window) * warnShare).rounded(.down))
    }

    /// Where an order stands, from the facts the server keeps in its summary columns:
    /// the same answer as ``standing(of:now:)`` without the whole order.
    public func standing(
        responseDeadline: Int64?, createdAt: Int64, onSiteAt: Int64?, status: OrderStatus, now: Int64
    ) -> DeadlineStanding {
        guard let deadline = responseDeadline else { return .none }
        if let arrived = onSiteAt {
            return arrived <= deadline ? .met : .missed(byMinutes: Int((arrived - deadline) / 60_000))
        }
        if status == .cancelled || status.isFinished { return .none }
        let left = deadline - now
        if left < 0 { return .overdue(byMinutes: Int((-left) / 60_000)) }
        let window = max(deadline - createdAt, 1)
        if Double(left) <= Double(window) * warnShare {
            return .dueSoon(minutesLeft: Int(left / 60_000))
        }
        return .onTime(minutesLeft: Int(left / 60_000))
    }
}

/// An order against its response deadline.
public enum DeadlineStanding: Sendable, Equatable {
    case none
    case onTime(minutesLeft: Int)
    /// Close to the deadline: the board warns before the breach.
    case dueSoon(minutesLeft: Int)
    case overdue(byMinutes: Int)
    /// The crew arrived in time.
    case met
    case missed(byMinutes: Int)

    /// A short label for tables: "2h05 left", "DUE 0h20", "LATE 0h15", "met".
    public var label: String {
        func hm(_ m: Int) -> String { "\(m / 60)h\(m % 60 < 10 ? "0" : "")\(m % 60)" }
        switch self {
        case .none: return "-"
        case .onTime(let m): return "\(hm(m)) left"
        case .dueSoon(let m): return "DUE \(hm(m))"
        case .overdue(let m): return "LATE \(hm(m))"
        case .met: return "met"
        case .missed(let m): return "missed \(hm(m))"
        }
    }

    public var code: String {
        switch self {
        case .none: "none"
        case .onTime: "on_time"
        case .dueSoon: "due_soon"
        case .overdue: "overdue"
        case .met: "met"
        case .missed: "missed"
        }
    }
}
