import FieldSyncCore
import Foundation
@testable import FieldSyncStore

/// A store in a fresh temporary folder, logged in as `user`.
func makeStore(user: String = "li", role: Role = .technician) throws -> (ClientDatabase, String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fs-store-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/fieldsync.sqlite"
    let store = try ClientDatabase(path: path)
    _ = try store.saveAccount(server: "http://127.0.0.1:9", user: user, role: role, token: "t")
    return (store, path)
}

/// The confirmed events of an order created by a dispatcher and assigned to `technician`,
/// as a pull page would bring them.
func assignedOrderPage(id: String, technician: String, at t: Int64 = 1_000) -> PullResponse {
    let create = Intent(
        opId: "c-\(id)", deviceId: "dispatch", deviceSeq: 1, actor: "wang", role: .dispatcher,
        hlc: HLC(physical: t, device: "dispatch"), occurredAt: t, orderId: id,
        action: .create(fields: [.kind: "repair", .urgency: "1", .customerName: "市第一医院", .address: "解放路 1 号"]))
    let assign = Intent(
        opId: "a-\(id)", deviceId: "dispatch", deviceSeq: 2, actor: "wang", role: .dispatcher,
        hlc: HLC(physical: t + 1, device: "dispatch"), occurredAt: t + 1, orderId: id,
        action: .assign(technician: technician))
    return PullResponse(
        orders: [OrderSnapshot(id: id, version: 2, events: [create, assign])], revoked: [],
        cursor: 2, hasMore: false, checksum: nil, serverHLC: HLC(physical: t + 1, device: "server"))
}
