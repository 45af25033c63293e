import FieldSyncClient
import FieldSyncCore
import Foundation
import PropertyBased
import Testing

/// The convergence proofs of the sync engine (issues: sync engine; Trust). Each case is a
/// random schedule of 3–5 technician devices and two dispatcher desks (one user on two
/// devices, or two users) making intents and syncing while the network drops requests
/// before and after the server applied them, sends them twice, and delivers stale copies
/// out of order. Desks open orders under colliding ids and recreate the refused ones;
/// some schedules also restore devices' stores from older copies, restart a file-backed
/// server, delete confirmed orders behind the engine's back, or go over real HTTP with a
/// small push limit.
///
/// A schedule fails on any error other than an injected network failure or a local
/// refusal (a push failure the engine reports and a stale copy's answer included). After
/// the network heals: every replica equals the server and has its checksum; every intent
/// is on the server exactly once or refused (only intents a restore dropped before they
/// got through may be missing); no repair happened without corruption; the server's
/// conflict rows are the fold's conflicts of each order; nothing built on a refused
/// create is on the server.
///
/// A failure prints the PropertyBased seed (`.fixedSeed("…")` replays it) and the
/// simulation seed; `FIELDSYNC_SEED=… swift test --filter ConvergenceTests` replays one
/// simulation seed (with FIELDSYNC_SKEW_H and FIELDSYNC_HTTP=1 for the other tests).
/// `tools/soak` runs 100,000 cases: FIELDSYNC_SOAK_COUNT sets the count of schedules of
/// the first test (the clock-skew one runs a fifth, the HTTP one a 25th, at least 24).
@Suite struct ConvergenceTests {
    static let environment = ProcessInfo.processInfo.environment
    static var count: Int { environment["FIELDSYNC_SOAK_COUNT"].flatMap(Int.init) ?? 700 }
    /// Schedules run at once: one per core, or FIELDSYNC_LANES (tools/soak already runs
    /// one process per core and may pass 1).
    static var lanes: Int {
        environment["FIELDSYNC_LANES"].flatMap(Int.init).map { max($0, 1) }
            ?? min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 4)
    }

    @Test func replicasConvergeAndNothingIsLostOrDoubledUnderFaults() async {
        let total = await Self.check(count: Self.count, skewMs: 0)
        // Every kind of disruption really happened (a few hundred schedules make each certain).
        if total.schedules >= 200 {
            #expect(total.httpSchedules > 0 && total.tooLarge > 0, "\(total)")
            #expect(total.restores > 0 && total.recoveries > 0, "\(total)")
            #expect(total.restarts > 0, "\(total)")
            #expect(total.refusedCreates > 0 && total.takenFollowers > 0 && total.recreated > 0, "\(total)")
            #expect(total.corruptions > 0 && total.repairs > 0, "\(total)")
            #expect(total.deltas > 0 && total.archived > 0, "\(total)")
        }
    }

    @Test func devicesWithClocksADayOffStillConvergeAndKeepTheirOwnOrder() async {
        _ = await Self.check(count: max(Self.count / 5, 40), skewMs: 24 * 3_600_000)
    }

    /// Every schedule over a live server and libcurl, with a 1,500-byte push limit, so
    /// real 413s make the engine split its batches.
    @Test func overRealHTTPWithASmallPushLimitBatchesAreSplitAndReplicasConverge() async {
        let total = await Self.check(count: max(Self.count / 25, 24), skewMs: 0, http: true)
        #expect(total.tooLarge > 0, "no push was ever refused 413, so batch splitting was not exercised: \(total)")
    }

    /// Every schedule over real HTTP through two server instances on one PostgreSQL, each
    /// request to either at random, one instance restarting now and then.
    @Test(.enabled(if: SimPostgres.url != nil, "needs FIELDSYNC_POSTGRES_URL (tools/test starts PostgreSQL)"))
    func throughTwoInstancesOnPostgreSQLReplicasConverge() async {
        let total = await Self.check(count: max(Self.count / 25, 24), skewMs: 0, http: true, postgres: true)
        #expect(total.restarts > 0, "no instance ever restarted: \(total)")
    }

    /// Runs `count` schedules (or the one of FIELDSYNC_SEED) and returns what they did.
    static func check(count: Int, skewMs: Int64, http: Bool? = nil, postgres: Bool = false) async -> SimStats {
        let postgresURL = postgres ? SimPostgres.url : nil
        let tally = Tally()
        if let seed = environment["FIELDSYNC_SEED"].flatMap(UInt64.init) {
            let skew = environment["FIELDSYNC_SKEW_H"].flatMap(Int64.init).map { $0 * 3_600_000 } ?? skewMs
            let forced = environment["FIELDSYNC_HTTP"].map { $0 == "1" } ?? http
            let result = await onOwnThread { verify(seed: seed, skewMs: skew, http: forced, postgresURL: postgresURL) }
            #expect(result.problems.isEmpty, "\(Self.describe(seed, result))")
            return result.stats
        }
        // Each case runs `lanes` schedules at once (one per core), each on its own seed.
        let lanes = Self.lanes
        await propertyCheck(count: (count + lanes - 1) / lanes, input: Gen.int(in: 0...Int.max).withoutShrink()) { seed in
            var mix = SplitMix(seed: UInt64(seed))
            let seeds = (0..<lanes).map { _ in mix.next() }
            let results = await withTaskGroup(of: (UInt64, ScheduleResult).self) { group in
                for seed in seeds {
                    group.addTask { (seed, await onOwnThread { verify(seed: seed, skewMs: skewMs, http: http, postgresURL: postgresURL) }) }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            for (seed, result) in results.sorted(by: { $0.0 < $1.0 }) {
                tally.add(result.stats)
                #expect(result.problems.isEmpty, "\(Self.describe(seed, result))")
            }
        }
        let total = tally.total
        print("convergence: \(total.schedules) schedules (\(total.httpSchedules) over HTTP): \(total)")
        return total
    }

    static func describe(_ seed: UInt64, _ result: ScheduleResult) -> String {
        "simulation seed \(seed) [\(result.scenario)] [\(result.stats)]: "
            + result.problems.prefix(12).joined(separator: "; ")
            + (result.problems.count > 12 ? "; … \(result.problems.count - 12) more" : "")
    }
}

/// Sums the statistics of the schedules of one test.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var sum = SimStats()
    func add(_ stats: SimStats) { lock.withLock { sum.add(stats) } }
    var total: SimStats { lock.withLock { sum } }
}
