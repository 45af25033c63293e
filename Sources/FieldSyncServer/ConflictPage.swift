/// What a caller asks of the conflict list (`GET /v1/conflicts` `limit` and `before`): the
/// newest `limit` conflicts recorded before the conflict `before`, so a year of reviewed
/// conflicts is read a page at a time, newest pages first.
public struct ConflictPage: Sendable, Equatable {
    /// Page size when only `before` is given, and the most one page holds.
    public static let defaultLimit = 100
    public static let maxLimit = 1000

    /// Conflicts per page, 1 to ``maxLimit`` (values outside are clamped).
    public var limit: Int
    /// The id of the oldest conflict of the page before (newer), or nil for the newest.
    public var before: String?

    public init(limit: Int = ConflictPage.defaultLimit, before: String? = nil) {
        self.limit = min(max(limit, 1), Self.maxLimit)
        self.before = before
    }
}
