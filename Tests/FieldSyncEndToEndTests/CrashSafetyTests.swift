import FieldSyncCore
import FieldSyncStore
import Foundation
import Testing

/// The client is killed with SIGKILL at random points of a sync, 100 times in a row,
/// against a live server. Afterwards the store passes `PRAGMA integrity_check` and every
/// intent is on the server exactly once.
@Suite(.serialized) struct CrashSafetyTests {
    @Test func killedSyncsLoseNothingAndDoubleNothing() throws {
        // Given a technician with an assigned order
        let dir = try tempDir("crash")
        let server = try LiveServer(folder: dir)
        defer { server.stop() }
        let dispatcher = CLIUser(home: dir + "/d"), tech = CLIUser(home: dir + "/t")
        try dispatcher.callAndCheck(["login", "--server", server.url, "--token", try server.addUser("wang", role: "dispatcher")])
        try tech.callAndCheck(["login", "--server", server.url, "--token", try server.addUser("li", role: "technician")])
        try dispatcher.callAndCheck(["dispatch", "create", "--id", "WO-KILL", "--urgency", "3", "--customer", "王", "--address", "光明路 7 号", "--assign", "li"])
        try tech.callAndCheck(["sync"])

        var rng = SystemRandomNumberGenerator()
        var written: [String] = []
        var killed = 0
        for round in 0..<100 {
            // When lines are recorded and a sync is killed part-way
            let store = try ClientDatabase(path: tech.home + "/fieldsync.sqlite")
            for n in 0..<8 {
                let id = "r\(round)-\(n)"
                try store.record(orderId: "WO-KILL", now: Int64(Date().timeIntervalSince1970 * 1000)) { _ in
                    .append(ChildEntry(id: id, kind: .log, text: "round \(round) line \(n)"))
                }
                written.append(id)
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binDir + "/fieldsync")
            process.arguments = ["sync", "--home", tech.home, "--json"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32.random(in: 0...60_000, using: &rng))  // fault injection: when to kill
            if process.isRunning { kill(process.processIdentifier, SIGKILL); killed += 1 }
            process.waitUntilExit()
        }
        // Then a final sync completes and the store is sound
        try tech.callAndCheck(["sync"])
        let store = try ClientDatabase(path: tech.home + "/fieldsync.sqlite")
        #expect(try store.integrityCheck() == "ok")
        #expect(try store.outbox().isEmpty)
        #expect(killed > 10, "only \(killed) syncs were killed mid-way; the test did not exercise crashes")
        // And the server holds every line exactly once, as the dispatcher sees it
        try dispatcher.callAndCheck(["sync"])
        let order = try #require(try dispatcher.json(["show", "WO-KILL"]) as? [String: Any])
        let children = try #require(order["children"] as? [[String: Any]])
        let ids = children.compactMap { ($0["entry"] as? [String: Any])?["id"] as? String }
        #expect(ids.count == written.count)
        #expect(Set(ids) == Set(written))
        #expect(order["eventCount"] as? Int == written.count + 2)
    }
}
