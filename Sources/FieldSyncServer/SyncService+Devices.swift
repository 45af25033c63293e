import FieldSyncCore

extension SyncService {
    /// Registers `deviceId` for the caller (at `fieldsync login`) and gives it a short
    /// number, unique on this server. Calling again answers the same number.
    ///
    /// - Throws: 400 `device_mismatch` for an id that is empty or over 128 bytes;
    ///   403 `device_taken` when another user registered or pushed with the id first.
    public func registerDevice(_ registration: DeviceRegistration, as principal: Principal) throws(ServiceError) -> DeviceInfo {
        let id = registration.deviceId
        if id.isEmpty || id.utf8.count > 128 {
            throw .badRequest("device_mismatch", "deviceId must be 1 to 128 characters")
        }
        return try inWrite { db in
            var device = try DeviceRecord.find(id, db)
                ?? DeviceRecord(deviceId: id, owner: principal.name, nextSeq: 1, lastHLC: nil)
            guard device.owner == principal.name else { throw Self.deviceTaken(id) }
            if device.number == nil {
                device.number = 1 + (try db.value(Int64.self, "SELECT MAX(number) FROM devices") ?? 0)
            }
            try device.save(db)
            return DeviceInfo(deviceId: id, number: device.number ?? 0, nextSeq: device.nextSeq)
        }
    }

    /// The stored outcomes of those of `request.opIds` this device's pushes were already
    /// answered for, each marked `duplicate`, and the device's next sequence number.
    ///
    /// A store restored from a backup (or copied to a new tablet) holds intents the server
    /// has, under numbers the server has since used for others: it takes the known ones as
    /// answered and renumbers the rest from `nextSeq` (sync-protocol.md §5).
    ///
    /// - Throws: 400 `too_many_intents` over ``RecoverRequest/maxOpIds``; 403 `device_taken`.
    public func recover(_ request: RecoverRequest, as principal: Principal) throws(ServiceError) -> RecoverResponse {
        if request.opIds.count > RecoverRequest.maxOpIds {
            throw .badRequest(
                "too_many_intents",
                "the request names \(request.opIds.count) op ids, more than \(RecoverRequest.maxOpIds): split it")
        }
        return try inRead { db in
            guard let device = try DeviceRecord.find(request.deviceId, db) else {
                return RecoverResponse(known: [], nextSeq: 1)
            }
            guard device.owner == principal.name else { throw Self.deviceTaken(request.deviceId) }
            var known: [PushOutcome] = []
            for opId in request.opIds {
                guard let body = try db.value(
                    String.self, "SELECT outcome FROM outcomes WHERE device_id = ? AND op_id = ?",
                    [request.deviceId, opId])
                else { continue }
                var outcome = try Self.storedOutcome(body) { opId in
                    try db.value(String.self, "SELECT body FROM events WHERE op_id = ?", [opId])
                }
                outcome.duplicate = true
                known.append(outcome)
            }
            return RecoverResponse(known: known, nextSeq: device.nextSeq)
        }
    }

    static func deviceTaken(_ id: String) -> ServiceError {
        .forbidden(
            "device_taken",
            "device id \(id) belongs to another user: each person's installation needs its own device id (run `fieldsync login` to get a fresh one)")
    }
}
