/// The lifecycle of a work order (工单), from the dispatcher's assignment to closure.
///
/// The status of an order is never stored as the truth: it is derived by folding the
/// order's status events through ``OrderStatus/canMove(to:)`` in HLC order.
public enum OrderStatus: String, Codable, Sendable, CaseIterable {
    case open
    case assigned
    case accepted
    case enRoute = "en_route"
    case onSite = "on_site"
    case working
    case paused
    case completed
    case signedOff = "signed_off"
    case followedUp = "followed_up"
    case closed
    case cancelled
    case couldNotComplete = "could_not_complete"

    /// The Chinese term crews and dispatchers use (DOMAIN.md).
    public var chinese: String {
        switch self {
        case .open: "待派单"
        case .assigned: "已派单"
        case .accepted: "已接单"
        case .enRoute: "出发"
        case .onSite: "到达现场"
        case .working: "处理中"
        case .paused: "暂停"
        case .completed: "已完成"
        case .signedOff: "客户签字"
        case .followedUp: "已回访"
        case .closed: "已关闭"
        case .cancelled: "已取消"
        case .couldNotComplete: "无法完成"
        }
    }

    /// The role that may move an order into this status.
    public var owner: Role {
        switch self {
        case .open, .assigned, .followedUp, .closed, .cancelled: .dispatcher
        case .accepted, .enRoute, .onSite, .working, .paused, .completed, .signedOff,
             .couldNotComplete: .technician
        }
    }

    /// Statuses in which the crew has been on site: work that a cancel must not erase.
    public var isWorkOnSite: Bool {
        switch self {
        case .onSite, .working, .paused, .completed: true
        default: false
        }
    }

    /// Statuses at which the lifecycle rests; only a dispatcher's reopen leaves them.
    public var isFinished: Bool {
        switch self {
        case .completed, .signedOff, .followedUp, .closed, .cancelled: true
        default: false
        }
    }

    /// The statuses reachable from this one in a single step.
    public var next: [OrderStatus] {
        switch self {
        case .open: [.assigned, .cancelled]
        case .assigned: [.assigned, .accepted, .couldNotComplete, .cancelled]
        case .accepted: [.assigned, .enRoute, .onSite, .couldNotComplete, .cancelled]
        case .enRoute: [.assigned, .onSite, .couldNotComplete, .cancelled]
        case .onSite: [.working, .paused, .completed, .couldNotComplete]
        case .working: [.paused, .completed, .couldNotComplete]
        case .paused: [.working, .completed, .couldNotComplete]
        case .completed: [.signedOff, .followedUp, .closed]
        case .signedOff: [.followedUp, .closed]
        case .followedUp: [.closed]
        case .closed: []
        case .cancelled: []
        case .couldNotComplete: [.assigned, .cancelled]
        }
    }

    /// Whether the state machine allows the step `self → target`.
    public func canMove(to target: OrderStatus) -> Bool { next.contains(target) }

    /// Statuses from which a dispatcher may reopen an order (voiding a sign-off).
    public var canReopen: Bool {
        switch self {
        case .completed, .signedOff, .followedUp, .closed: true
        default: false
        }
    }

    /// Parses what a person types: `on_site`, `on-site`, `onsite`, `On Site` or `到达现场`.
    public init?(spoken text: String) {
        let folded = text.lowercased().filter { $0.isLetter }
        for status in OrderStatus.allCases {
            if status.rawValue.filter({ $0.isLetter }) == folded || status.chinese == text {
                self = status
                return
            }
        }
        switch folded {
        case "accept": self = .accepted
        case "enroute", "travelling", "traveling", "depart": self = .enRoute
        case "arrived", "arrive": self = .onSite
        case "start", "resume": self = .working
        case "pause": self = .paused
        case "complete", "done", "finished": self = .completed
        case "cannotcomplete", "couldnotfinish", "failed": self = .couldNotComplete
        default: return nil
        }
    }
}
