import Foundation
import Testing

/// Orders go only to real, enabled technicians; administrators disable users and replace
/// tokens; the real binaries against a live server.
@Suite(.serialized) struct UserAdminFlowTests {
    /// A live server with dispatcher wang (logged in) and technicians li-min and liming.
    static func setUp() throws -> (LiveServer, CLIUser) {
        let dir = try tempDir("users")
        let server = try LiveServer(folder: dir)
        let dispatcher = CLIUser(home: dir + "/d")
        try dispatcher.callAndCheck(["login", "--server", server.url, "--token", try server.addUser("wang", role: "dispatcher")])
        for name in ["li-min", "liming"] { _ = try server.addUser(name, role: "technician") }
        return (server, dispatcher)
    }

    @Test func aMistypedTechnicianIsRefusedWithSuggestionsBeforeAnythingIsRecorded() throws {
        let (server, dispatcher) = try Self.setUp()
        defer { server.stop() }
        let before = try dispatcher.callAndCheck(["pending", "--json"])

        let create = try dispatcher.call([
            "dispatch", "create", "--id", "WO-TYPO", "--urgency", "2", "--customer", "张", "--address", "路 1 号",
            "--assign", "li-ming",
        ])
        let assign = try dispatcher.call(["dispatch", "assign", "WO-TYPO", "nobdy"])

        #expect(create.status == 1)
        #expect(create.stdout.isEmpty)
        #expect(create.stderr == "fieldsync: no technician 'li-ming': did you mean li-min, liming? List them with `fieldsync dispatch technicians`\n")
        #expect(assign.status == 1)
        #expect(try dispatcher.callAndCheck(["pending", "--json"]) == before)
        let board = try #require(try dispatcher.json(["dispatch", "board", "--all"]) as? [String: Any])
        #expect((board["rows"] as? [Any])?.isEmpty == true)
        // and the right name goes through
        try dispatcher.callAndCheck([
            "dispatch", "create", "--id", "WO-OK", "--urgency", "2", "--customer", "张", "--address", "路 1 号",
            "--assign", "li-min",
        ])
        let technicians = try dispatcher.callAndCheck(["dispatch", "technicians"])
        #expect(technicians.contains("li-min") && technicians.contains("liming"))
    }

    @Test func anAdministratorDisablesAUserAndReplacesATokenAndAMistypedNameChangesNothing() throws {
        let (server, _) = try Self.setUp()
        defer { server.stop() }
        let db = ["--db", server.db]
        let listed = try run("fieldsync-server", ["user", "list", "--json"] + db)

        let typo = try run("fieldsync-server", ["user", "disable"] + db + ["limin"])
        let afterTypo = try run("fieldsync-server", ["user", "list", "--json"] + db)
        let missingDB = try run("fieldsync-server", ["user", "list", "--db", server.db + ".typo"])
        let disabled = try run("fieldsync-server", ["user", "disable"] + db + ["liming"])
        let token = try run("fieldsync-server", ["user", "token"] + db + ["li-min"])
        let table = try run("fieldsync-server", ["user", "list"] + db)

        #expect(typo.status != 0)
        #expect(typo.stderr.contains("no user 'limin': did you mean li-min, liming?"))
        #expect(afterTypo.stdout == listed.stdout)
        #expect(listed.stdout.contains("\"li-min\""))
        #expect(missingDB.status != 0 && missingDB.stderr.contains("check --db"))
        #expect(!FileManager.default.fileExists(atPath: server.db + ".typo"))
        #expect(disabled.status == 0)
        #expect(token.status == 0)
        let newToken = token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(newToken.count == 64)
        #expect(table.stdout.contains("liming") && table.stdout.contains("disabled since"))
        // The new token logs li-min in
        let tech = CLIUser(home: try tempDir("li-min"))
        try tech.callAndCheck(["login", "--server", server.url, "--token", newToken])
    }
}
