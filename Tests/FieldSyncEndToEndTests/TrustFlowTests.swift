import Foundation
import Testing

/// The trust issue through the real binaries: two desks and one order id, and a tablet
/// whose store is put back from a copy.
@Suite(.serialized) struct TrustFlowTests {
    @Test func twoDesksNeverShareAGeneratedIdAndATakenIdIsOpenedAgain() throws {
        let dir = try tempDir("desks")
        let server = try LiveServer(folder: dir)
        defer { server.stop() }
        let first = CLIUser(home: dir + "/d1"), second = CLIUser(home: dir + "/d2")
        try first.callAndCheck(["login", "--server", server.url, "--token", try server.addUser("wang", role: "dispatcher")])
        try second.callAndCheck(["login", "--server", server.url, "--token", try server.addUser("zhou", role: "dispatcher")])
        _ = try server.addUser("li", role: "technician")

        // Given both desks open orders without naming an id
        let a = try first.callAndCheck(["dispatch", "create", "--urgency", "2", "--customer", "张", "--address", "和平路 1 号"])
        let b = try second.callAndCheck(["dispatch", "create", "--urgency", "2", "--customer", "赵", "--address", "和平路 2 号"])
        // Then the ids differ by the desks' numbers, and read aloud as digits
        let idPattern = #"WO-[0-9]{6}-[0-9]+-[0-9]{3}"#
        let idA = try #require(a.range(of: idPattern, options: .regularExpression).map { String(a[$0]) })
        let idB = try #require(b.range(of: idPattern, options: .regularExpression).map { String(b[$0]) })
        #expect(idA != idB)

        // When both type the same id by hand, the second one after the first
        try first.callAndCheck(["dispatch", "create", "--id", "WO-X", "--urgency", "1", "--customer", "市第一人民医院", "--address", "解放路 18 号"])
        let refused = try second.call(["dispatch", "create", "--id", "WO-X", "--urgency", "2", "--customer", "李先生", "--address", "和平路 3 号", "--assign", "li"])

        // Then the second desk is told, and `pending` lists both refusals with the way out
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("fieldsync dispatch recreate WO-X"))
        let pending = try second.callAndCheck(["pending"])
        #expect(pending.contains("REFUSED"))
        #expect(pending.contains("recreate WO-X"))
        // and the hospital's order is untouched: not assigned to the second desk's crew
        let board = try #require(try first.json(["dispatch", "board"]) as? [String: Any])
        let rows = try #require(board["rows"] as? [[String: Any]])
        let hospital = try #require(rows.first { $0["id"] as? String == "WO-X" })
        #expect(hospital["customerName"] as? String == "市第一人民医院")
        #expect(hospital["assignee"] == nil)

        // When the second desk opens its order again under a new id
        let again = try second.callAndCheck(["dispatch", "recreate", "WO-X"])
        let newId = try #require(again.range(of: idPattern, options: .regularExpression).map { String(again[$0]) })

        // Then it exists with its customer and crew, and nothing waits any more
        let after = try #require(try first.json(["dispatch", "board"]) as? [String: Any])
        let reopened = try #require((after["rows"] as? [[String: Any]])?.first { $0["id"] as? String == newId })
        #expect(reopened["customerName"] as? String == "李先生")
        #expect(reopened["assignee"] as? String == "li")
        #expect(try second.callAndCheck(["pending"]).contains("nothing waiting"))
    }

    @Test func aTabletPutBackFromACopySyncsWithNothingLostOrDoubled() throws {
        let dir = try tempDir("restore")
        let server = try LiveServer(folder: dir)
        defer { server.stop() }
        let desk = CLIUser(home: dir + "/d"), tablet = CLIUser(home: dir + "/t")
        try desk.callAndCheck(["login", "--server", server.url, "--token", try server.addUser("wang", role: "dispatcher")])
        try tablet.callAndCheck(["login", "--server", server.url, "--token", try server.addUser("li", role: "technician")])
        try desk.callAndCheck(["dispatch", "create", "--id", "WO-R", "--urgency", "1", "--customer", "刘", "--address", "解放路 18 号", "--assign", "li"])
        try tablet.callAndCheck(["sync"])
        try tablet.callAndCheck(["status", "WO-R", "accepted"])

        // Given a copy of the tablet's store taken now (no fieldsync process runs)
        let copy = dir + "/t-copy"
        try FileManager.default.copyItem(atPath: tablet.home, toPath: copy)
        // When the tablet works on and syncs, and the desk assigns another order
        try tablet.callAndCheck(["log", "WO-R", "出发"])
        try tablet.callAndCheck(["sync"])
        try desk.callAndCheck(["dispatch", "create", "--id", "WO-S", "--urgency", "2", "--customer", "陈", "--address", "和平路 5 号", "--assign", "li"])
        // and then the copy is put back, the crew works again and syncs
        try FileManager.default.removeItem(atPath: tablet.home)
        try FileManager.default.copyItem(atPath: copy, toPath: tablet.home)
        try tablet.callAndCheck(["status", "WO-R", "en-route"])
        try tablet.callAndCheck(["log", "WO-R", "到达"])
        let out = try tablet.call(["sync"])

        // Then the sync succeeds by itself and says what it did
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("restored from an older copy"))
        // every action is on the server once, and the new order arrived
        let jobs = try #require(try tablet.json(["jobs"]) as? [[String: Any]])
        #expect(Set(jobs.compactMap { $0["id"] as? String }) == ["WO-R", "WO-S"])
        try desk.callAndCheck(["sync"])
        let order = try #require(try desk.json(["show", "WO-R"]) as? [String: Any])
        let lines = try #require(order["children"] as? [[String: Any]])
        let texts = lines.compactMap { ($0["entry"] as? [String: Any])?["text"] as? String }
        #expect(texts.sorted() == ["出发", "到达"])
        #expect(order["status"] as? String == "en_route")
        #expect(try tablet.callAndCheck(["pending"]).contains("nothing waiting"))
    }
}
