import FieldSyncCore
import GRDB

/// A row of `orders`: the fold of an order's events, with the columns pulls and the
/// board select on. `version` is the `seq` of the order's latest event.
///
/// The summary columns (v4-scale) are copies of facts in `state`, written with it, so
/// the board filters, sorts and pages in SQL without decoding any JSON.
struct OrderRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "orders"

    var id: String
    var assignee: String?
    var status: String
    var urgency: Int
    var version: Int64
    /// JSON of `WorkOrder`.
    var state: String
    var updatedAt: Int64
    var kind: String
    var customerName: String
    var address: String
    var customerTier: String?
    var specialNeeds: String?
    var createdAt: Int64
    var responseDeadline: Int64?
    var onSiteAt: Int64?
    var completedAt: Int64?
    var clockClamped: Bool
    var finished: Bool
    var signOffRating: Int?
    /// v5-scope: see ``ServerSchema/v5Scope``.
    var archived = false
    var finishedAt: Int64?
    var enteredSeq: Int64 = 0
    var assignedSeq: Int64 = 0

    enum CodingKeys: String, CodingKey {
        case id, assignee, status, urgency, version, state, kind, address, finished
        case updatedAt = "updated_at"
        case customerName = "customer_name"
        case customerTier = "customer_tier"
        case specialNeeds = "special_needs"
        case createdAt = "created_at"
        case responseDeadline = "response_deadline"
        case onSiteAt = "on_site_at"
        case completedAt = "completed_at"
        case clockClamped = "clock_clamped"
        case signOffRating = "sign_off_rating"
        case archived
        case finishedAt = "finished_at"
        case enteredSeq = "entered_seq"
        case assignedSeq = "assigned_seq"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let assignee = Column(CodingKeys.assignee)
        static let version = Column(CodingKeys.version)
    }

    /// The row for `order` at `version`, its JSON already encoded as `state`.
    init(order: WorkOrder, version: Int64, state: String, updatedAt: Int64) {
        id = order.id
        assignee = order.assignee
        status = order.status.rawValue
        urgency = order.urgency
        self.version = version
        self.state = state
        self.updatedAt = updatedAt
        kind = order[.kind] ?? ""
        customerName = order[.customerName] ?? ""
        address = order[.address] ?? ""
        customerTier = order[.customerTier]
        specialNeeds = order[.specialNeeds]
        createdAt = order.createdAt
        responseDeadline = order.responseDeadline
        onSiteAt = order.onSiteAt
        completedAt = order.completedAt
        clockClamped = order.history.contains { $0.clockClamped }
        finished = order.status.isFinished
        signOffRating = order.signOff?.signOff.rating
    }
}
