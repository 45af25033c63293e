import FieldSyncCore
import Foundation
import GRDB
import Testing

/// The operator's side of the real binary: graceful shutdown, `migrate`, `backup`, logs.
@Suite(.serialized) struct OperationsFlowTests {
    /// The value of an unlabelled series in a `/metrics` exposition.
    static func sample(_ name: String, port: Int) throws -> Double? {
        let text = try RawConnection.request(port: port, "GET", "/metrics").text
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    /// A database file's integrity check and its numbers of orders and events.
    static func contents(of path: String) throws -> (check: String?, orders: Int, events: Int) {
        try DatabaseQueue(path: path).read { db in
            (try String.fetchOne(db, sql: "PRAGMA integrity_check"), try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM orders") ?? -1,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? -1)
        }
    }

    @Test func sigtermLetsARequestInFlightFinishAndExitsZero() throws {
        // Given a server and a big push whose head and first half are sent
        let logs = Pipe()
        let server = try LiveServer(folder: try tempDir("sigterm"), arguments: ["--log-format", "json"], logs: logs)
        defer { server.stop() }
        let token = try server.addUser("wang", role: "dispatcher")
        var maker = PushMaker(device: "desk-1", actor: "wang")
        let body = try maker.push(creating: 400)
        let connection = try RawConnection(port: server.port)
        try connection.sendAll(RawConnection.head("POST", "/v1/sync/push", token: token, length: body.count) + body.prefix(body.count / 2))
        // and the server is serving it (in flight: the push and the scrape asking)
        var inFlight = 0.0
        for _ in 0..<10_000 where inFlight < 2 {
            inFlight = try Self.sample("fieldsync_http_requests_in_flight", port: server.port) ?? 0
        }
        #expect(inFlight == 2, "the push never reached the server")

        // When SIGTERM arrives and the server has stopped accepting connections
        kill(server.process.processIdentifier, SIGTERM)
        var refused = false
        for _ in 0..<100_000 where !refused {
            refused = (try? RawConnection(port: server.port)) == nil
        }
        #expect(refused, "the server still accepts connections after SIGTERM")
        #expect(server.process.isRunning, "the server exited with a request in flight")
        try connection.sendAll(Array(body.suffix(from: body.count / 2)))

        // Then the push is answered in full, and the process exits 0
        let response = try connection.readResponse()
        #expect(response.status == 200, "\(response.text)")
        let answer = try JSONDecoder().decode(PushResponse.self, from: Data(response.body))
        #expect(answer.outcomes.count == 400 && answer.outcomes.allSatisfy { $0.result == .applied })
        server.process.waitUntilExit()
        #expect(server.process.terminationReason == .exit)
        #expect(server.process.terminationStatus == 0)
        // and its log has one JSON line per request, the push's among them, then its stop
        let lines = String(decoding: logs.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == lines.count, "a line that is not JSON: \(lines)")
        let pushes = objects.filter { $0["route"] as? String == "/v1/sync/push" }
        #expect(pushes.count == 1)
        #expect(pushes.first?["status"] as? Int == 200 && pushes.first?["user"] as? String == "wang")
        #expect(pushes.first?["intents"] as? Int == 400)
        #expect((pushes.first?["request"] as? String)?.count == 32)
        #expect(objects.last?["message"] as? String == "stopped: the requests in flight were answered")
        // and what it answered is stored
        let users = try run("fieldsync-server", ["migrate", "--db", server.db, "--dry-run"])
        #expect(users.stdout.contains("up to date"))
        let count = try DatabaseQueue(path: server.db).read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM orders") }
        #expect(count == 400)
    }

    @Test func migrateAppliesAndListsTheVersionedMigrations() throws {
        let dir = try tempDir("migrate")
        let db = dir + "/server.sqlite"
        let all = ["v1", "v2-users", "v3-trust", "v4-scale", "v5-scope", "v6-pull-index", "v7-board-index", "v8-technician-pull-index",
                   "v9-order-children", "v10-board-rank", "v11-crew-history", "v12-crew-status", "v13-unread-indexes",
                   "v14-open-conflicts", "v15-conflict-sides", "v16-conflict-time"]

        // A dry run on a new path lists them all and creates nothing
        let dry = try run("fieldsync-server", ["migrate", "--db", db, "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.split(separator: "\n").filter { $0.hasPrefix("pending ") }.map { String($0.dropFirst(8)) } == all)
        #expect(dry.stdout.contains("\(all.count) pending (the file does not exist yet"))
        #expect(!FileManager.default.fileExists(atPath: db))

        // migrate applies them in order, then has nothing to do
        let first = try run("fieldsync-server", ["migrate", "--db", db])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == all.map { "applied \($0)\n" }.joined() + "\(all.count) applied: \(db) is up to date\n")
        let again = try run("fieldsync-server", ["migrate", "--db", db])
        #expect(again.stdout == "\(db) is up to date (\(all.count) migrations)\n")

        // A database one migration behind (as an older release left it) gets just that one
        try DatabaseQueue(path: db).write { db in
            try db.execute(sql: "DROP TABLE order_children; ALTER TABLE orders DROP COLUMN child_rows")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v9-order-children'")
        }
        let behind = try run("fieldsync-server", ["migrate", "--db", db, "--dry-run"])
        #expect(behind.stdout == "pending v9-order-children\n1 pending: run `fieldsync-server migrate --db \(db)` to apply them\n")
        let caughtUp = try run("fieldsync-server", ["migrate", "--db", db])
        #expect(caughtUp.stdout == "applied v9-order-children\n1 applied: \(db) is up to date\n")
        let tables = try DatabaseQueue(path: db).read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE name LIKE 'order_children%' ORDER BY name")
        }
        #expect(tables == ["order_children", "order_children_id"])

        // A database of a newer release, and a file that is no database, are refused unchanged
        try DatabaseQueue(path: db).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')")
        }
        let notADatabase = dir + "/notes.txt"
        try "hello".write(toFile: notADatabase, atomically: true, encoding: .utf8)
        for (path, hint) in [(db, "written by a newer fieldsync-server"), (notADatabase, "is not a FieldSync server database")] {
            for extra in [[], ["--dry-run"]] {
                let refused = try run("fieldsync-server", ["migrate", "--db", path] + extra)
                #expect(refused.status == 1)
                #expect(refused.stderr.contains(hint), "\(refused.stderr)")
                #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
                #expect(refused.stdout.isEmpty)
            }
        }
        #expect(try String(contentsOfFile: notADatabase, encoding: .utf8) == "hello")
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["FIELDSYNC_POSTGRES_URL"] != nil, "needs FIELDSYNC_POSTGRES_URL"))
    func migrateOnPostgreSQLListsAppliesAndThenHasNothingToDo() throws {
        // Given a new, empty PostgreSQL database
        let admin = ProcessInfo.processInfo.environment["FIELDSYNC_POSTGRES_URL"] ?? ""
        let name = "fs_e2e_migrate_\(UUID().uuidString.prefix(8).lowercased())"
        let created = try runProgram("/usr/bin/psql", [admin, "-qc", "CREATE DATABASE \(name)"])
        #expect(created.status == 0, "\(created.stderr)")
        let url = admin[..<(admin.range(of: "/", options: .backwards)?.lowerBound ?? admin.endIndex)] + "/" + name
        // A dry run lists its migrations and creates nothing
        let dry = try run("fieldsync-server", ["migrate", "--db", url, "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        let all = ["pg1", "pg2-order-children", "pg3-board-rank", "pg4-crew-history", "pg5-crew-status", "pg6-unread-indexes", "pg7-open-conflicts", "pg8-conflict-sides", "pg9-kpi-shards", "pg10-conflict-time"]
        #expect(dry.stdout.hasPrefix(all.map { "pending \($0)\n" }.joined() + "\(all.count) pending"), "\(dry.stdout)")
        let tables = try runProgram("/usr/bin/psql", [url, "-Atc", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"])
        #expect(tables.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        // migrate applies them, then has nothing to do; backup points to pg_dump
        let first = try run("fieldsync-server", ["migrate", "--db", url])
        #expect(first.status == 0 && first.stdout.hasPrefix(all.map { "applied \($0)\n" }.joined()), "\(first.stdout) \(first.stderr)")
        let again = try run("fieldsync-server", ["migrate", "--db", url])
        #expect(again.status == 0 && again.stdout.contains("is up to date (\(all.count) migrations)"), "\(again.stdout)")
        let backup = try run("fieldsync-server", ["backup", "--db", url, "--to", "/tmp/never-\(name).sqlite"])
        #expect(backup.status == 64 && backup.stderr.contains("pg_dump"), "\(backup.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-\(name).sqlite"))
    }

    @Test func aBackupTakenDuringWritesOpensAndHoldsTheData() async throws {
        // Given a server taking pushes of 25 new orders each, 8 of them answered
        let dir = try tempDir("backup")
        let server = try LiveServer(folder: dir)
        defer { server.stop() }
        let token = try server.addUser("wang", role: "dispatcher")
        var maker = PushMaker(device: "desk-1", actor: "wang")
        var bodies: [[UInt8]] = []
        for _ in 0..<40 { bodies.append(try maker.push(creating: 25)) }
        for body in bodies.prefix(8) {
            #expect(try RawConnection.request(port: server.port, "POST", "/v1/sync/push", token: token, body: body).status == 200)
        }

        // When the rest are pushed while a backup is taken
        let port = server.port
        let rest = Array(bodies.dropFirst(8))
        let writer = Task.detached {
            try rest.map { try RawConnection.request(port: port, "POST", "/v1/sync/push", token: token, body: $0).status }
        }
        let backup = dir + "/copy.sqlite"
        let taken = try run("fieldsync-server", ["backup", "--db", server.db, "--to", backup])
        let statuses = try await writer.value

        // Then the copy is a whole, consistent server database as of one commit
        #expect(taken.status == 0, "\(taken.stderr)")
        #expect(taken.stdout.hasPrefix("backed up \(server.db) to \(backup): "))
        #expect(taken.stdout.contains("migrations up to v16-conflict-time"))
        #expect(statuses.allSatisfy { $0 == 200 })
        let (check, orders, events) = try Self.contents(of: backup)
        #expect(check == "ok")
        #expect(orders >= 8 * 25 && orders <= 40 * 25 && orders % 25 == 0, "a push is one transaction: \(orders)")
        #expect(events == orders)
        #expect(!FileManager.default.fileExists(atPath: backup + ".partial"))
        // and the server commands open it as their own
        let users = try run("fieldsync-server", ["user", "list", "--db", backup])
        #expect(users.status == 0 && users.stdout.contains("wang"))
        #expect(try run("fieldsync-server", ["migrate", "--db", backup, "--dry-run"]).stdout.contains("up to date"))

        // When the target exists, or is the database itself, nothing is written
        let before = try Data(contentsOf: URL(fileURLWithPath: backup))
        for (target, hint) in [(backup, "exists already"), (server.db, "is the database itself")] {
            let refused = try run("fieldsync-server", ["backup", "--db", server.db, "--to", target])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains(hint), "\(refused.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: backup)) == before)
        let missing = try run("fieldsync-server", ["backup", "--db", dir + "/nope.sqlite", "--to", dir + "/x.sqlite"])
        #expect(missing.status == 1 && missing.stderr.contains("no database at"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.sqlite"))
    }

    @Test func serveRefusesAnUnknownLogFormatAndLevel() throws {
        let dir = try tempDir("logflags")
        for (args, line) in [
            (["--log-format", "xml"], "Error: --log-format xml is not a log format: use text or json"),
            (["--log-level", "loud"], "Error: --log-level loud is not a log level: use trace, debug, info, notice, warning, error, critical"),
        ] {
            let refused = try run("fieldsync-server", ["serve", "--db", dir + "/s.sqlite", "--port", "0"] + args)
            #expect(refused.status == 64)
            #expect(refused.stderr.hasPrefix(line + "\n"), "\(refused.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/s.sqlite"))
    }
}
