import Foundation
import Testing

/// The walking skeleton through the real binaries: server on SQLite, dispatcher and
/// technician CLIs, the technician working while the server is down.
@Suite(.serialized) struct TechnicianFlowTests {
    @Test func offlineWorkReachesTheBoardWithItsOnSiteTime() throws {
        // Given a server, a dispatcher, a technician and an emergency at a hospital
        let dir = try tempDir("flow")
        var server = try LiveServer(folder: dir)
        let dispatcher = CLIUser(home: dir + "/dispatcher"), tech = CLIUser(home: dir + "/tech")
        try dispatcher.callAndCheck(["login", "--server", server.url, "--token", try server.addUser("wang", role: "dispatcher")])
        try tech.callAndCheck(["login", "--server", server.url, "--token", try server.addUser("li", role: "technician")])
        try dispatcher.callAndCheck([
            "dispatch", "create", "--id", "WO-E2E-1", "--urgency", "1", "--customer", "市第一人民医院",
            "--address", "解放路 18 号", "--needs", "医院: 每小时报告进度", "--assign", "li",
        ])
        try tech.callAndCheck(["sync"])
        #expect(try tech.callAndCheck(["jobs"]).contains("WO-E2E-1"))

        // When the server is down and the technician works on site
        let port = server.port
        server.stop()
        let offline = try tech.call(["sync"])
        #expect(offline.status == 3)
        #expect(offline.stderr.contains("saved on this device"))
        for state in ["accepted", "en-route", "到达现场"] { try tech.callAndCheck(["status", "E2E-1", state]) }
        let onSite = try #require(try tech.json(["show", "E2E-1"]) as? [String: Any])["onSiteAt"] as? Int64
        try tech.callAndCheck(["log", "E2E-1", "循环泵卡死, 更换轴承"])
        try tech.callAndCheck(["status", "E2E-1", "completed"])
        let pending = try #require(try tech.json(["pending"]) as? [[String: Any]])
        #expect(pending.count == 5)

        // And the server comes back and the technician syncs
        server = try LiveServer(folder: dir, port: port)
        let report = try #require(try tech.json(["sync"]) as? [String: Any])
        #expect(report["applied"] as? Int == 5)
        #expect(try #require(try tech.json(["pending"]) as? [Any]).isEmpty)

        // Then the board shows the work, on site at the time it happened
        let board = try #require(try dispatcher.json(["dispatch", "board", "--all"]) as? [String: Any])
        let rows = try #require(board["rows"] as? [[String: Any]])
        let row = try #require(rows.first { $0["id"] as? String == "WO-E2E-1" })
        #expect(row["status"] as? String == "completed")
        #expect(row["onSiteAt"] as? Int64 == onSite)
        let text = try dispatcher.callAndCheck(["dispatch", "board", "--all"])
        #expect(text.contains("completed 已完成"))
    }
}
