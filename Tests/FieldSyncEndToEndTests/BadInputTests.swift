import Foundation
import Testing

/// Bad input gets one line naming the fix, a non-zero exit, and nothing written.
@Suite(.serialized) struct BadInputTests {
    /// A technician logged in to a live server with one assigned order.
    static func setUp() throws -> (LiveServer, CLIUser, String) {
        let dir = try tempDir("bad")
        let server = try LiveServer(folder: dir)
        let dispatcher = CLIUser(home: dir + "/d"), tech = CLIUser(home: dir + "/t")
        try dispatcher.callAndCheck(["login", "--server", server.url, "--token", try server.addUser("wang", role: "dispatcher")])
        let token = try server.addUser("li", role: "technician")
        try tech.callAndCheck(["login", "--server", server.url, "--token", token])
        try dispatcher.callAndCheck(["dispatch", "create", "--id", "WO-BAD-1", "--urgency", "2", "--customer", "张", "--address", "路 1 号", "--assign", "li"])
        try tech.callAndCheck(["sync"])
        return (server, tech, token)
    }

    /// The store's bytes, to prove a refused command wrote nothing.
    static func snapshot(_ tech: CLIUser) throws -> String {
        try tech.callAndCheck(["pending", "--json"]) + (try tech.callAndCheck(["show", "WO-BAD-1", "--json"]))
    }

    @Test func refusedCommandsSayWhatToDoAndWriteNothing() throws {
        let (server, tech, _) = try Self.setUp()
        defer { server.stop() }
        let before = try Self.snapshot(tech)
        let cases: [([String], Int32, String)] = [
            (["status", "WO-NOPE", "accepted"], 1, "fieldsync jobs"),
            (["status", "BAD-1", "completed"], 1, "Next steps: accepted"),
            (["status", "BAD-1", "flying"], 64, "unknown status 'flying'"),
            (["set", "BAD-1", "urgency", "1"], 1, "belongs to the dispatcher"),
            (["part", "BAD-1", "valve", "--price", "abc"], 1, "35.50"),
        ]
        for (args, code, hint) in cases {
            let r = try tech.call(args)
            #expect(r.status == code, "\(args): exit \(r.status)")
            #expect(r.stderr.contains(hint), "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(args) printed \(r.stdout)")
        }
        #expect(try Self.snapshot(tech) == before)
    }

    @Test func loginRefusesABadURLAndAWrongToken() throws {
        let (server, _, _) = try Self.setUp()
        defer { server.stop() }
        let fresh = CLIUser(home: try tempDir("fresh"))
        let badURL = try fresh.call(["login", "--server", "depot:8080", "--token", "x"])
        #expect(badURL.status == 1)
        #expect(badURL.stderr.contains("use http://host:port"))
        let wrongToken = try fresh.call(["login", "--server", server.url, "--token", "not-a-token"])
        #expect(wrongToken.status == 4)
        #expect(wrongToken.stderr.contains("does not know this token"))
        // Nothing was saved: the store is still logged out.
        let jobs = try fresh.call(["jobs"])
        #expect(jobs.status == 1 && jobs.stderr.contains("not logged in"))
    }

    @Test func aDatabaseURLThatCannotServeIsRefusedAndNothingIsCreated() throws {
        // Given a folder to run the server in
        let dir = try tempDir("dburl")
        let cases: [(url: String, status: Int32, says: String)] = [
            // a scheme fieldsync-server does not store in: a usage error
            ("mysql://fs@127.0.0.1/fieldsync", 64, "postgres:// URL"),
            // a PostgreSQL URL that lacks a part
            ("postgres://127.0.0.1/fieldsync", 1, "names no user"),
            ("postgres://fs@127.0.0.1:5432/", 1, "names no database"),
            // a database that cannot be reached (nothing listens on port 1)
            ("postgres://fs@127.0.0.1:1/fieldsync", 1, "check that it runs"),
        ]
        for (url, status, says) in cases {
            // (`serve` shares these options; a test that started it could hang if they broke)
            for args in [["user", "add", "--db", url, "--role", "technician", "li"], ["user", "list", "--db", url]] {
                // When the server is given the URL
                let r = try run("fieldsync-server", args, env: ["PWD": dir])
                // Then it says what is wrong and what to do, in one line (a usage error adds
                // the usage), and exits non-zero
                #expect(r.status == status, "\(args): exit \(r.status)")
                let first = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
                #expect(first.contains(says) && first.contains("--db"), "\(r.stderr)")
                if status == 1 {
                    #expect(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1, "\(r.stderr)")
                }
                #expect(r.stdout.isEmpty)
            }
        }
        // serve on PostgreSQL needs the shared folder of photos named, before it connects
        let serve = try run("fieldsync-server", ["serve", "--db", "postgres://fs@127.0.0.1:1/fieldsync"], env: ["PWD": dir])
        #expect(serve.status == 64 && serve.stderr.contains("--blob-dir"), "\(serve.stderr)")
        // and no folder named after a scheme was made where it ran
        for scheme in ["postgres:", "postgresql:", "mysql:"] {
            #expect(!FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/" + scheme))
        }
    }

    @Test func aHomeThatCannotBeCreatedIsNamed() throws {
        let dir = try tempDir("home")
        let file = dir + "/not-a-folder"
        FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        let r = try run("fieldsync", ["jobs"], env: ["FIELDSYNC_HOME": file + "/sub"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot create the store folder"))
        #expect(r.stderr.split(separator: "\n").count == 1)
    }
}
