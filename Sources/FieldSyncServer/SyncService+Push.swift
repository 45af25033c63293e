import FieldSyncCore

extension SyncService {
    /// Applies a batch of one device's intents, exactly once, in one write transaction.
    ///
    /// Per intent, in order: a stored outcome for `(deviceId, deviceSeq)` with the same
    /// body is answered again with `duplicate = true`; a gap in the sequence defers it and
    /// every later one; otherwise its clock is clamped if it lies in the future, it passes
    /// ``IntentCheck`` (rejected: the outcome is stored and the number used up) and joins
    /// the order's events, and the order is folded again.
    ///
    /// - Throws: for the whole request, nothing applied: 400 `empty_push`,
    ///   `too_many_intents`, `device_mismatch`; 403 `wrong_actor`, `device_taken`;
    ///   409 `sequence_reused`.
    public func push(_ request: PushRequest, as principal: Principal) throws(ServiceError) -> PushResponse {
        try checkShape(of: request, as: principal)
        // Each intent is encoded once: its digest answers retries, and the same text is
        // the stored event when the server did not have to correct its clock.
        // ``JSONWriter`` writes the bytes `JSONEncoder` wrote, so digests stored by older
        // releases still answer their retries.
        var encoded: [(text: String, hash: String)] = []
        encoded.reserveCapacity(request.intents.count)
        for intent in request.intents {
            var out = JSONWriter(capacity: 1024)
            intent.write(to: &out)
            encoded.append((out.text, StoredJSON.sha256Hex(out.bytes)))
        }
        let now = self.now()
        let (outcomes, nextSeq, accepted) = try inWrite { db in
            try self.apply(request, encoded: encoded, as: principal, now: now, db)
        }
        return PushResponse(
            outcomes: outcomes, nextSeq: nextSeq,
            serverHLC: clock.stamp(receiving: accepted, now: now))
    }

    private func checkShape(of request: PushRequest, as principal: Principal) throws(ServiceError) {
        if request.intents.isEmpty {
            throw .badRequest("empty_push", "the push holds no intents: send at least one")
        }
        if request.intents.count > PushRequest.maxIntents {
            throw .badRequest(
                "too_many_intents",
                "the push holds \(request.intents.count) intents, more than \(PushRequest.maxIntents): split it into smaller batches")
        }
        if request.deviceId.isEmpty || request.deviceId.utf8.count > 128 {
            throw .badRequest("device_mismatch", "deviceId must be 1 to 128 characters")
        }
        for intent in request.intents {
            if intent.deviceId != request.deviceId {
                throw .badRequest(
                    "device_mismatch",
                    "intent \(intent.opId) was recorded on device \(intent.deviceId), not \(request.deviceId): push each device's intents separately")
            }
            if intent.actor != principal.name || intent.role != principal.role {
                throw .forbidden(
                    "wrong_actor",
                    "intent \(intent.opId) is by \(intent.actor) (\(intent.role.rawValue)) but the token is \(principal.name)'s (\(principal.role.rawValue)): log in as the person who recorded it")
            }
        }
    }

    private func apply(
        _ request: PushRequest, encoded: [(text: String, hash: String)], as principal: Principal, now: Int64,
        _ db: any SQLSession
    ) throws -> ([PushOutcome], Int64, [HLC]) {
        var device = try DeviceRecord.find(request.deviceId, db)
            ?? DeviceRecord(deviceId: request.deviceId, owner: principal.name, nextSeq: 1, lastHLC: nil)
        guard device.owner == principal.name else { throw Self.deviceTaken(request.deviceId) }
        var lastHLC = try device.lastHLC.map { try StoredJSON.decode(HLC.self, from: $0) }
        var outcomes: [PushOutcome] = []
        var accepted: [HLC] = []
        var deferring = false
        // What the batch touches, read in one query per table; later intents of the batch
        // fold onto the order as the earlier ones left it, and everything is written once
        // at the end (``PushBatch``).
        var batch = try PushBatch(prefetching: request, db)
        for (intent, (text, hash)) in zip(request.intents, encoded) {
            if let stored = batch.outcomes[intent.deviceSeq] {
                guard stored.hash == hash else {
                    throw ServiceError.conflict(
                        "sequence_reused",
                        "sequence number \(intent.deviceSeq) of device \(request.deviceId) was already used for a different intent: the device's store was restored from an older copy; `fieldsync sync` recovers it by itself (POST /v1/sync/recover)")
                }
                var outcome = try Self.storedOutcome(stored.outcome) { try batch.eventBody($0, db) }
                outcome.duplicate = true
                outcomes.append(outcome)
                continue
            }
            if deferring || intent.deviceSeq != device.nextSeq {
                deferring = true
                outcomes.append(PushOutcome(deviceSeq: intent.deviceSeq, opId: intent.opId, result: .deferred))
                continue
            }
            let current = batch.order(intent.orderId)
            let stored = clockBounds.bound(intent, deviceLast: lastHLC, order: current, now: now)
            let outcome = try accept(
                stored, text: stored == intent ? text : nil, current: current, into: &batch, now: now, db)
            if outcome.result != .rejected {
                lastHLC = max(lastHLC ?? stored.hlc, stored.hlc)
                accepted.append(stored.hlc)
            }
            batch.add(outcome: Self.persisted(outcome), hash: hash, seq: intent.deviceSeq, opId: intent.opId)
            outcomes.append(outcome)
            device.nextSeq += 1
        }
        try batch.write(now: now, db) { order, held, now, db in try self.syncConflicts(of: order, held: held, now: now, db) }
        device.lastHLC = try lastHLC.map { try StoredJSON.encode($0) }
        try device.save(db)
        return (outcomes, device.nextSeq, accepted)
    }

    /// Checks one intent against its order and, if accepted, joins it to the events and
    /// moves the batch's copy of the order (written with its scope checksums and conflict
    /// rows when the batch ends); a reassignment's revocation is written at once.
    /// - Returns: the outcome.
    private func accept(
        _ stored: Intent, text: String?, current: WorkOrder?, into batch: inout PushBatch, now: Int64,
        _ db: any SQLSession
    ) throws -> PushOutcome {
        func rejected(_ rejection: Rejection) -> PushOutcome {
            PushOutcome(deviceSeq: stored.deviceSeq, opId: stored.opId, result: .rejected, rejection: rejection)
        }
        if let copy = batch.copies[stored.opId] {
            return rejected(Rejection(
                .invalidValue,
                "operation \(stored.opId) was already recorded (device \(copy.deviceId), number \(copy.deviceSeq)): this is a copy"))
        }
        if let rejection = IntentCheck.rejection(for: stored, order: current) {
            return rejected(rejection)
        }
        if let rejection = try technicianRejection(for: stored, known: batch.user, db) {
            return rejected(rejection)
        }
        if let rejection = evidenceRejection(for: stored, order: current) {
            return rejected(rejection)
        }
        // The usual case folds the one event onto the stored snapshot; an event that sorts
        // before something already folded (a device that was offline) refolds the history.
        var folded = current?.folding(stored)
        let refolded = folded == nil
        if refolded { folded = WorkOrder.fold(try batch.events(of: stored.orderId, db) + [stored]) }
        guard let next = folded else {
            return rejected(Rejection(.unknownOrder, "no order \(stored.orderId): check the id with `fieldsync jobs`"))
        }
        if case .signOff = stored.action {
            let entry = next.history.last { $0.opId == stored.opId }
            if entry?.effect != .applied {
                return rejected(Rejection(
                    .signOffMismatch,
                    "the sign-off does not fit the order as the server holds it (\(entry?.reason ?? "not applied")): show the customer the current bill and sign again"))
            }
        }

        let seq = batch.nextPosition()
        batch.add(event: stored, body: text ?? stored.jsonText, seq: seq)

        try batch.apply(next, version: seq, refolded: refolded, now: now, policy: policy, db)
        let before = Set(current?.conflicts.map(\.id) ?? [])
        let mine = next.conflicts
            .filter { !before.contains($0.id) && ($0.winner.opId == stored.opId || $0.loser.opId == stored.opId) }
            .map(\.id)
        return PushOutcome(
            deviceSeq: stored.deviceSeq, opId: stored.opId, result: mine.isEmpty ? .applied : .merged,
            conflicts: mine, stored: stored)
    }

    /// An outcome as the `outcomes` table keeps it: without the stored intent, which the
    /// event row already holds (``storedOutcome(_:body:)`` puts it back).
    static func persisted(_ outcome: PushOutcome) -> String {
        var out = JSONWriter(capacity: 256)
        outcome.write(to: &out, includeStored: false)
        return out.text
    }

    /// An outcome read back from `outcomes`, with its stored intent from the event row
    /// (rows written before outcomes dropped it carry it themselves); `body` finds an
    /// event's stored text by op id.
    static func storedOutcome(_ text: String, body: (String) throws -> String?) throws -> PushOutcome {
        var outcome = try StoredJSON.decode(PushOutcome.self, from: text)
        if outcome.stored == nil, outcome.result == .applied || outcome.result == .merged,
           let body = try body(outcome.opId)
        {
            outcome.stored = try StoredJSON.intent(body)
        }
        return outcome
    }

    /// Every accepted event of an order, in server order.
    static func loadEvents(of orderId: String, _ db: any SQLSession) throws -> [Intent] {
        try db.values(String.self, "SELECT body FROM events WHERE order_id = ? ORDER BY seq", [orderId])
            .map(StoredJSON.intent)
    }

    /// Makes the order's conflict rows exactly `order.conflicts`: a conflict a later event
    /// superseded (the fold no longer picks a loser there) leaves the table, a new one
    /// joins it, and one that stays keeps its review.
    func syncConflicts(of order: WorkOrder, held: Set<String>, now: Int64, _ db: any SQLSession) throws {
        let current = Set(order.conflicts.map(\.id))
        if held.isEmpty && current.isEmpty { return }
        for gone in held.subtracting(current) {
            try db.execute("DELETE FROM conflicts WHERE id = ?", [gone])
        }
        for conflict in order.conflicts {
            let body = conflict.jsonText
            if held.contains(conflict.id) {
                // Same rule and same two events; the sides' values may have moved on.
                try db.execute("UPDATE conflicts SET body = ? WHERE id = ? AND body <> ?", [body, conflict.id, body])
            } else {
                try db.execute("""
                    INSERT INTO conflicts (id, order_id, body, created_at, winner_actor, loser_actor)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """, [conflict.id, conflict.orderId, body, now, conflict.winner.actor, conflict.loser.actor])
            }
        }
    }
}
