import FieldSyncCore

/// What a dispatcher asks the board for (`GET /v1/board` query parameters): filters, a
/// page size and where the previous page ended.
public struct BoardQuery: Sendable, Equatable {
    /// Page size when none is given, and the most one page holds.
    public static let defaultLimit = 100
    public static let maxLimit = 500

    /// Finished orders too (`all=1`); an explicit `status` shows that status either way.
    public var includeFinished: Bool
    /// Only orders at this status (`status=`).
    public var status: OrderStatus?
    /// Only orders assigned to this technician (`crew=`).
    public var crew: String?
    /// Only orders overdue or due soon (`at_risk=1`).
    public var atRisk: Bool
    /// Only overdue orders (`overdue=1`).
    public var overdue: Bool
    /// Rows per page, 1 to ``maxLimit`` (values outside are clamped).
    public var limit: Int
    /// ``Board/nextAfter`` of the previous page, or nil for the first.
    public var after: String?

    public init(
        includeFinished: Bool = false, status: OrderStatus? = nil, crew: String? = nil,
        atRisk: Bool = false, overdue: Bool = false, limit: Int = BoardQuery.defaultLimit,
        after: String? = nil
    ) {
        self.includeFinished = includeFinished
        self.status = status
        self.crew = crew
        self.atRisk = atRisk
        self.overdue = overdue
        self.limit = min(max(limit, 1), Self.maxLimit)
        self.after = after
    }
}

/// Where a board page ended: the sort key of its last row, and the `now` the listing
/// started at, so every page of one listing ranks orders against the same clock and no
/// order moves between pages as time passes. Written as `b1.now.rank.urgency.deadline.id`.
struct BoardCursor: Equatable {
    var now: Int64
    /// 0 overdue, 1 due soon, 2 the rest.
    var rank: Int
    var urgency: Int
    /// The response deadline, `Int64.max` for none (sorts last).
    var deadline: Int64
    var id: String

    var text: String { "b1.\(now).\(rank).\(urgency).\(deadline).\(id)" }

    init(now: Int64, rank: Int, urgency: Int, deadline: Int64, id: String) {
        self.now = now
        self.rank = rank
        self.urgency = urgency
        self.deadline = deadline
        self.id = id
    }

    /// Nil for text this server did not write.
    init?(text: String) {
        let parts = text.split(separator: ".", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "b1",
              let now = Int64(parts[1]), let rank = Int(parts[2]), (0...2).contains(rank),
              let urgency = Int(parts[3]), let deadline = Int64(parts[4]), !parts[5].isEmpty
        else { return nil }
        self.init(now: now, rank: rank, urgency: urgency, deadline: deadline, id: String(parts[5]))
    }
}
