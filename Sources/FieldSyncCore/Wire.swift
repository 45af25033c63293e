// The HTTP wire types of schema/sync-protocol.md and schema/openapi.yaml. Client and server
// encode and decode exactly these, so the two cannot drift apart.

/// `POST /v1/sync/push`: intents of one device, in device order.
public struct PushRequest: Codable, Sendable, Equatable {
    public var deviceId: String
    public var intents: [Intent]

    public init(deviceId: String, intents: [Intent]) {
        self.deviceId = deviceId
        self.intents = intents
    }

    /// Upper bound of one push body; larger ones get 413 and are split by the client.
    public static let maxBytes = 4 << 20
    /// Upper bound of intents in one push.
    public static let maxIntents = 500
}

/// What became of one pushed intent.
public struct PushOutcome: Codable, Sendable, Equatable {
    public enum Result: String, Codable, Sendable {
        /// Joined the order's events and took effect as written.
        case applied
        /// Joined the order's events; a merge rule picked a loser (see `conflicts`).
        case merged
        /// Refused for good with a typed reason; the sequence number is used up.
        case rejected
        /// Not looked at: an earlier sequence number is missing. Send again from `nextSeq`.
        case deferred
    }

    public var deviceSeq: Int64
    public var opId: String
    public var result: Result
    /// True when this answers a retry: the stored outcome of the first delivery.
    public var duplicate: Bool
    public var rejection: Rejection?
    /// Ids of the conflicts the intent took part in.
    public var conflicts: [String]
    /// The intent as the server stored it (times clamped if the device clock ran ahead).
    public var stored: Intent?

    public init(
        deviceSeq: Int64, opId: String, result: Result, duplicate: Bool = false,
        rejection: Rejection? = nil, conflicts: [String] = [], stored: Intent? = nil
    ) {
        self.deviceSeq = deviceSeq
        self.opId = opId
        self.result = result
        self.duplicate = duplicate
        self.rejection = rejection
        self.conflicts = conflicts
        self.stored = stored
    }
}

public struct PushResponse: Codable, Sendable, Equatable {
    public var outcomes: [PushOutcome]
    /// The next sequence number the server expects from this device.
    public var nextSeq: Int64
    public var serverHLC: HLC

    public init(outcomes: [PushOutcome], nextSeq: Int64, serverHLC: HLC) {
        self.outcomes = outcomes
        self.nextSeq = nextSeq
        self.serverHLC = serverHLC
    }
}

/// One order in a pull page: its accepted events, and the version they make.
public struct OrderSnapshot: Codable, Sendable, Equatable {
    public var id: String
    /// The server sequence number of the order's latest event.
    public var version: Int64
    /// Every event, or with `after` the events after that position only.
    public var events: [Intent]
    /// Set on a delta (a pull with `delta=1` for an order the device holds): `events` are
    /// those after this position; the device holds the earlier ones. Nil: the whole history.
    public var after: Int64?

    public init(id: String, version: Int64, events: [Intent], after: Int64? = nil) {
        self.id = id
        self.version = version
        self.events = events
        self.after = after
    }
}

/// `GET /v1/sync/pull?cursor=N&limit=M`.
public struct PullResponse: Codable, Sendable, Equatable {
    public var orders: [OrderSnapshot]
    /// Orders that left the caller's scope (reassigned to someone else).
    public var revoked: [String]
    /// Orders that left the caller's scope because they were finished longer ago than the
    /// server's retention. Absent from older servers' pages.
    public var archived: [String]
    /// Pass back as `cursor` to get the next page or later changes.
    public var cursor: Int64
    public var hasMore: Bool
    /// On the last page only: the scope checksum (decimal UInt64) to verify against.
    public var checksum: String?
    public var serverHLC: HLC
    /// Not on the wire: each order's events as the server's JSON text, when the client cut
    /// them out of the page (``PullPageDecoder``, or ``PullPageText`` after `JSONDecoder`),
    /// so they are stored without encoding again. Whoever sets it vouches that each text is
    /// its event's own JSON: the store keeps it as the event.
    public var eventTexts: [[String]]?
    /// Not on the wire: each whole order's fold of its events (`WorkOrder.fold(events)`,
    /// nil for a delta), made by ``foldWholeOrders()`` on the thread that read the page, so
    /// the thread storing pages does not fold them. Whoever sets it vouches that each entry
    /// is its order's fold.
    public var folds: [WorkOrder?]?

    public init(
        orders: [OrderSnapshot], revoked: [String], archived: [String] = [], cursor: Int64, hasMore: Bool,
        checksum: String?, serverHLC: HLC
    ) {
        self.orders = orders
        self.revoked = revoked
        self.archived = archived
        self.cursor = cursor
        self.hasMore = hasMore
        self.checksum = checksum
        self.serverHLC = serverHLC
    }
}

extension PullResponse {
    /// Sets ``folds``: the fold of each whole order's events, nil for each delta.
    public mutating func foldWholeOrders() {
        folds = orders.map { $0.after == nil ? WorkOrder.fold($0.events) : nil }
    }

    enum CodingKeys: String, CodingKey {
        case orders, revoked, archived, cursor, hasMore, checksum, serverHLC
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            orders: try c.decode([OrderSnapshot].self, forKey: .orders),
            revoked: try c.decode([String].self, forKey: .revoked),
            archived: try c.decodeIfPresent([String].self, forKey: .archived) ?? [],
            cursor: try c.decode(Int64.self, forKey: .cursor),
            hasMore: try c.decode(Bool.self, forKey: .hasMore),
            checksum: try c.decodeIfPresent(String.self, forKey: .checksum),
            serverHLC: try c.decode(HLC.self, forKey: .serverHLC))
    }
}

/// The JSON body of every 4xx and 5xx answer.
public struct APIErrorBody: Codable, Sendable, Equatable {
    /// A stable machine code, e.g. `malformed_body`, `unauthorized`.
    public var error: String
    /// What went wrong and what to do.
    public var message: String

    public init(error: String, message: String) {
        self.error = error
        self.message = message
    }
}

/// `GET /v1/me`: who the bearer token belongs to.
public struct Principal: Codable, Sendable, Equatable {
    public var name: String
    public var role: Role

    public init(name: String, role: Role) {
        self.name = name
        self.role = role
    }
}

/// A conflict as the server keeps it: the record plus its review by a dispatcher.
public struct ConflictRecord: Codable, Sendable, Equatable {
    public var conflict: Conflict
    public var resolvedBy: String?
    public var resolution: String?
    public var resolvedAt: Int64?

    public init(conflict: Conflict, resolvedBy: String?, resolution: String?, resolvedAt: Int64?) {
        self.conflict = conflict
        self.resolvedBy = resolvedBy
        self.resolution = resolution
        self.resolvedAt = resolvedAt
    }
}

/// `POST /v1/conflicts/{id}/resolve`.
public struct ResolveRequest: Codable, Sendable, Equatable {
    public var resolution: String

    public init(resolution: String) { self.resolution = resolution }
}

/// One line of the dispatcher board.
public struct BoardRow: Codable, Sendable, Equatable {
    public var id: String
    public var kind: String
    public var urgency: Int
    public var status: OrderStatus
    public var customerName: String
    public var address: String
    public var customerTier: String?
    public var specialNeeds: String?
    public var assignee: String?
    public var responseDeadline: Int64?
    /// `on_time`, `due_soon`, `overdue`, `met`, `missed` or `none`.
    public var standing: String
    public var standingLabel: String
    public var onSiteAt: Int64?
    public var completedAt: Int64?
    public var openConflicts: Int
    public var clockClamped: Bool

    public init(order: WorkOrder, policy: DeadlinePolicy, now: Int64, openConflicts: Int) {
        id = order.id
        kind = order[.kind] ?? ""
        urgency = order.urgency
        status = order.status
        customerName = order[.customerName] ?? ""
        address = order[.address] ?? ""
        customerTier = order[.customerTier]
        specialNeeds = order[.specialNeeds]
        assignee = order.assignee
        responseDeadline = order.responseDeadline
        let standing = policy.standing(of: order, now: now)
        self.standing = standing.code
        standingLabel = standing.label
        onSiteAt = order.onSiteAt
        completedAt = order.completedAt
        self.openConflicts = openConflicts
        clockClamped = order.history.contains { $0.clockClamped }
    }

    /// A row from the server's summary columns; `standing` as the policy computed it from
    /// the same facts (``DeadlinePolicy/standing(responseDeadline:createdAt:onSiteAt:status:now:)``).
    public init(
        id: String, kind: String, urgency: Int, status: OrderStatus, customerName: String,
        address: String, customerTier: String?, specialNeeds: String?, assignee: String?,
        responseDeadline: Int64?, standing: DeadlineStanding, onSiteAt: Int64?,
        completedAt: Int64?, openConflicts: Int, clockClamped: Bool
    ) {
        self.id = id
        self.kind = kind
        self.urgency = urgency
        self.status = status
        self.customerName = customerName
        self.address = address
        self.customerTier = customerTier
        self.specialNeeds = specialNeeds
        self.assignee = assignee
        self.responseDeadline = responseDeadline
        self.standing = standing.code
        standingLabel = standing.label
        self.onSiteAt = onSiteAt
        self.completedAt = completedAt
        self.openConflicts = openConflicts
        self.clockClamped = clockClamped
    }
}

/// `GET /v1/board`: one page of the open orders, most urgent first, with the KPIs of
/// DOMAIN.md over all orders.
public struct Board: Codable, Sendable, Equatable {
    /// The `now` the standings were computed at; later pages of the same listing keep it.
    public var generatedAt: Int64
    public var rows: [BoardRow]
    /// Orders whose crew arrived by the deadline, of those with an arrival or a breach (%).
    public var timelinessPercent: Double?
    /// Satisfied sign-offs (rating 4–5) of all sign-offs (%).
    public var satisfactionPercent: Double?
    /// Pass as `after` for the next page; nil on the last page. Opaque.
    public var nextAfter: String?

    public init(
        generatedAt: Int64, rows: [BoardRow], timelinessPercent: Double?, satisfactionPercent: Double?,
        nextAfter: String? = nil
    ) {
        self.generatedAt = generatedAt
        self.rows = rows
        self.timelinessPercent = timelinessPercent
        self.satisfactionPercent = satisfactionPercent
        self.nextAfter = nextAfter
    }
}
