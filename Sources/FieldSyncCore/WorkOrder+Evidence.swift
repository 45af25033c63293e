/// The photos and signature images an order refers to.
extension WorkOrder {
    /// Every blob digest the order names: photo lines (void and history ones too: they are
    /// still shown, struck out) and the signature of every sign-off, voided ones included.
    /// A technician may fetch these blobs of his orders.
    public var referencedDigests: Set<String> {
        var digests = Set(children.compactMap { $0.entry.kind == .photo ? $0.entry.digest : nil })
        for record in [signOff].compactMap({ $0 }) + voidedSignOffs {
            digests.insert(record.signOff.signatureDigest)
        }
        return digests
    }

    /// The blobs a sign-off on the order as it stands would cover: the signature, then the
    /// live photo lines in line-id order (what ``SignOffContent`` hashes).
    public func coveredDigests(signature: String) -> [String] {
        [signature] + liveChildren.filter { $0.entry.kind == .photo }
            .sorted { $0.entry.id < $1.entry.id }
            .compactMap(\.entry.digest)
    }
}
