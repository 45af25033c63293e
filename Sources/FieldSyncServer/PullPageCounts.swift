/// How many orders, events and revocations one pull page carries, for `/metrics`
/// (`fieldsync_pull_items_total`): counted by ``SyncService/pullJSON(as:cursor:limit:delta:)``
/// as it writes the page, so the page is not read again to count it.
///
/// `revocations` counts the page's `revoked` ids (orders reassigned away); `archived` ids
/// are not counted.
public struct PullPageCounts: Sendable, Equatable {
    public var orders = 0
    public var events = 0
    public var revocations = 0

    public init(orders: Int = 0, events: Int = 0, revocations: Int = 0) {
        self.orders = orders
        self.events = events
        self.revocations = revocations
    }
}
