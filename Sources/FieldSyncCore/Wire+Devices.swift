/// `POST /v1/devices`: a device registers at login and learns its short number.
public struct DeviceRegistration: Codable, Sendable, Equatable {
    public var deviceId: String

    public init(deviceId: String) { self.deviceId = deviceId }
}

/// The answer to ``DeviceRegistration``: the device's number, unique on the server (the
/// same on every call), and the sequence number the server expects next from it.
public struct DeviceInfo: Codable, Sendable, Equatable {
    public var deviceId: String
    public var number: Int64
    public var nextSeq: Int64

    public init(deviceId: String, number: Int64, nextSeq: Int64) {
        self.deviceId = deviceId
        self.number = number
        self.nextSeq = nextSeq
    }
}

/// `POST /v1/sync/recover`: a device whose store was restored from an older copy asks
/// which of its outbox intents the server already answered.
public struct RecoverRequest: Codable, Sendable, Equatable {
    public var deviceId: String
    public var opIds: [String]

    /// At most this many op ids per request.
    public static let maxOpIds = 500

    public init(deviceId: String, opIds: [String]) {
        self.deviceId = deviceId
        self.opIds = opIds
    }
}

/// The stored outcomes of the op ids the server knows (answered exactly as a push retry
/// would be), and the device's next sequence number: the device renumbers every intent
/// the server does not know from there.
public struct RecoverResponse: Codable, Sendable, Equatable {
    public var known: [PushOutcome]
    public var nextSeq: Int64

    public init(known: [PushOutcome], nextSeq: Int64) {
        self.known = known
        self.nextSeq = nextSeq
    }
}
