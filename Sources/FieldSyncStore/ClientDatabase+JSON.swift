import FieldSyncCore

/// The store's own JSON (the intents of the outbox, an order's fold, the clock, conflicts,
/// the account) is written by ``JSONWriter`` and read by ``JSONReader``, with
/// `JSONDecoder` for whatever that reader is not sure of (a row an older release wrote with
/// `JSONEncoder` reads the same either way).
///
/// Why: every command reads the account, and a recording command writes an intent, the
/// clock and the order's fold. The first use of `JSONDecoder` or `JSONEncoder` in a
/// process sets up the Swift runtime's metadata for each type it meets: in the profile of
/// `fieldsync log` (8 ms), the two were 12% of the process.
extension ClientDatabase {
    static func encode(_ intent: Intent) -> String { json { intent.write(to: &$0) } }
    static func encode(_ order: WorkOrder) -> String { json { order.write(to: &$0) } }
    static func encode(_ hlc: HLC) -> String { json { hlc.write(to: &$0) } }
    static func encode(_ conflict: Conflict) -> String { json { conflict.write(to: &$0) } }

    static func decode(_ type: WorkOrder.Type, _ text: String) throws -> WorkOrder {
        try decode(type, text, fast: WorkOrder.init(json:))
    }

    static func decode(_ type: HLC.Type, _ text: String) throws -> HLC {
        try decode(type, text) { bytes in try JSONReader.read(bytes) { try HLC(reading: &$0) } }
    }

    static func decode(_ type: Conflict.Type, _ text: String) throws -> Conflict {
        try decode(type, text) { bytes in try JSONReader.read(bytes) { try Conflict(reading: &$0) } }
    }

    static func decode(_ type: Account.Type, _ text: String) throws -> Account {
        try decode(type, text, fast: Account.init(json:))
    }

    private static func json(_ write: (inout JSONWriter) -> Void) -> String {
        var out = JSONWriter(capacity: 512)
        write(&out)
        return out.text
    }

    /// `text` read by `fast`, or by `JSONDecoder` when `fast` is not sure of it.
    private static func decode<T: Decodable>(
        _ type: T.Type, _ text: String, fast: ([UInt8]) throws -> T
    ) throws -> T {
        if let value = try? fast(Array(text.utf8)) { return value }
        return try decode(type, text)
    }
}

extension Account {
    /// The account as `fieldsync login` saved it (see ``ClientDatabase``'s JSON).
    init(json bytes: [UInt8]) throws {
        self = try JSONReader.read(bytes) { r in
            var server: String?, user: String?, role: Role?, token: String?, deviceId: String?
            var deviceNumber: Int64?
            try r.object { r, key in
                switch key {
                case "server": server = try r.string()
                case "user": user = try r.string()
                case "role": role = try r.raw(Role.self)
                case "token": token = try r.string()
                case "deviceId": deviceId = try r.string()
                case "deviceNumber": deviceNumber = try r.optionalInt64()
                default: try r.skip()
                }
            }
            guard let server, let user, let role, let token, let deviceId else {
                throw r.missing("a member of Account")
            }
            return Account(
                server: server, user: user, role: role, token: token, deviceId: deviceId,
                deviceNumber: deviceNumber)
        }
    }
}
