import FieldSyncCore

extension SyncService {
    /// Refuses a sign-off while the evidence it covers is not on the server: its signature
    /// image (a PNG or SVG) and every live photo of the order (sync-protocol.md §11).
    ///
    /// The device uploads these before it pushes the sign-off, so this only refuses a
    /// device that never sent them (an older release, a deleted local copy). Blobs are
    /// verified by their hash when they are written and never change after, so a blob that
    /// is present is the one the sign-off names. No check when the service has no blob
    /// store (in-process simulations).
    func evidenceRejection(for intent: Intent, order: WorkOrder?) -> Rejection? {
        guard let blobs, case .signOff(let signOff) = intent.action, let order else { return nil }
        let digests = order.coveredDigests(signature: signOff.signatureDigest)
        let missing = digests.filter { blobs.path(of: $0) == nil }
        if !missing.isEmpty {
            let names = missing.map { $0 == signOff.signatureDigest ? "the signature \($0.prefix(12))" : "photo \($0.prefix(12))" }
            return Rejection(
                .notAllowedNow,
                "the server does not hold \(names.joined(separator: ", ")) yet: the customer signed for evidence that has not arrived; sync from the device that took it (`fieldsync sync`), then sign again")
        }
        if let type = blobs.type(of: signOff.signatureDigest), !BlobType.Purpose.signature.allowed.contains(type) {
            return Rejection(.invalidValue, BlobType.Purpose.signature.refusal(found: type))
        }
        return nil
    }
}
