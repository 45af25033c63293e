import Foundation
import Testing

/// Conflicts and sign-off through the real binaries: what a crew and a dispatcher see.
@Suite(.serialized) struct ConflictFlowTests {
    static func setUp(_ name: String) throws -> (LiveServer, CLIUser, CLIUser) {
        let dir = try tempDir(name)
        let server = try LiveServer(folder: dir)
        let dispatcher = CLIUser(home: dir + "/d"), tech = CLIUser(home: dir + "/t")
        try dispatcher.callAndCheck(["login", "--server", server.url, "--token", try server.addUser("wang", role: "dispatcher")])
        try tech.callAndCheck(["login", "--server", server.url, "--token", try server.addUser("li", role: "technician")])
        try dispatcher.callAndCheck(["dispatch", "create", "--id", "WO-C", "--urgency", "1", "--customer", "刘", "--address", "解放路 18 号", "--assign", "li"])
        try tech.callAndCheck(["sync"])
        return (server, dispatcher, tech)
    }

    @Test func aCancelMeetingOfflineWorkKeepsTheWorkAndBothSidesSeeTheConflict() throws {
        let (server, dispatcher, tech) = try Self.setUp("cancel")
        defer { server.stop() }
        // Given the crew, offline, arrives on site while the dispatcher cancels
        for state in ["accepted", "en-route", "on-site"] { try tech.callAndCheck(["status", "WO-C", state]) }
        try dispatcher.callAndCheck(["dispatch", "cancel", "WO-C", "--reason", "customer called off"])
        // When the crew syncs
        let out = try tech.callAndCheck(["sync"])
        // Then the work is kept and the technician is told
        #expect(out.contains("conflict"))
        #expect(out.contains("work was kept"))
        let order = try #require(try tech.json(["show", "WO-C"]) as? [String: Any])
        #expect(order["status"] as? String == "on_site")
        // And the dispatcher finds it for review, resolves it, and it leaves the open list
        let open = try #require(try dispatcher.json(["dispatch", "conflicts"]) as? [[String: Any]])
        let conflict = try #require(open.first?["conflict"] as? [String: Any])
        #expect(conflict["rule"] as? String == "cancel_vs_work")
        let id = try #require(conflict["id"] as? String)
        try dispatcher.callAndCheck(["dispatch", "resolve", id, "--resolution", "called customer: keep the visit"])
        #expect(try #require(try dispatcher.json(["dispatch", "conflicts"]) as? [Any]).isEmpty)
        // And the whole list, a page at a time, still holds it with its review
        let all = try dispatcher.callAndCheck(["dispatch", "conflicts", "--all", "--limit", "1"])
        #expect(all.contains(id.prefix(8)) && all.contains("keep the visit") && !all.contains("older ones"), "\(all)")
        let before = try dispatcher.call(["dispatch", "conflicts", "--all", "--before", "no-such-conflict"])
        #expect(before.status == 4 && before.stderr.contains("take an id the list showed"), "\(before.stderr)")
        let bad = try dispatcher.call(["dispatch", "conflicts", "--limit=-1"])
        #expect(bad.status == 64 && bad.stderr.contains("--limit must be 0"), "\(bad.stderr)")
    }

    @Test func aSignOffFreezesTheBillUntilTheDispatcherReopens() throws {
        let (server, dispatcher, tech) = try Self.setUp("sign")
        defer { server.stop() }
        // Given completed work with a part on the bill
        for state in ["accepted", "on-site"] { try tech.callAndCheck(["status", "WO-C", state]) }
        try tech.callAndCheck(["set", "WO-C", "work_done", "更换阀门"])
        try tech.callAndCheck(["part", "WO-C", "DN20 阀门", "--quantity", "2", "--price", "35.50"])
        try tech.callAndCheck(["status", "WO-C", "completed"])
        let preview = try tech.callAndCheck(["signoff", "WO-C", "--preview"])
        #expect(preview.contains("¥71.00"))
        // When the customer signs
        let signature = tech.home + "/sig.png"
        FileManager.default.createFile(atPath: signature, contents: Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D]))
        try tech.callAndCheck(["signoff", "WO-C", "--name", "刘主任", "--rating", "5", "--signature", signature])
        // Then signed-for facts are refused, offline, with the way out named
        let refused = try tech.call(["set", "WO-C", "work_done", "something else"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("dispatcher must reopen"))
        // And after sync and a reopen by the dispatcher, the sign-off is voided and edits work
        try tech.callAndCheck(["sync"])
        try dispatcher.callAndCheck(["dispatch", "reopen", "WO-C", "--reason", "customer disputes the bill"])
        try tech.callAndCheck(["sync"])
        let order = try #require(try tech.json(["show", "WO-C"]) as? [String: Any])
        #expect(order["status"] as? String == "assigned")
        #expect((order["voidedSignOffs"] as? [Any])?.count == 1)
        #expect(order["signOff"] == nil)
        try tech.callAndCheck(["set", "WO-C", "work_done", "更换阀门, 重新核对账单"])
    }
}
