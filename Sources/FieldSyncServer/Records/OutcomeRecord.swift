import GRDB

/// A row of `outcomes`: the answer given to `(deviceId, deviceSeq)` and the digest of the
/// body it answered, so a retry gets the same answer and a different body is refused.
struct OutcomeRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "outcomes"

    var deviceId: String
    var deviceSeq: Int64
    var bodySHA256: String
    /// JSON of `PushOutcome`.
    var outcome: String
    /// The intent's op id, so a device restored from a backup can learn which of its
    /// intents the server already answered (`POST /v1/sync/recover`).
    var opId: String?

    enum CodingKeys: String, CodingKey {
        case deviceId = "device_id"
        case deviceSeq = "device_seq"
        case bodySHA256 = "body_sha256"
        case outcome
        case opId = "op_id"
    }
}
