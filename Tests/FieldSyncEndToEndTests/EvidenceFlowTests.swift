import Foundation
import Testing

/// Photos and signatures through the real binaries: checked when taken, uploaded before
/// the intents that name them, kept until confirmed, fetched again for a report.
@Suite(.serialized) struct EvidenceFlowTests {
    /// A PNG of `size` bytes (the signature, then filler).
    static func png(_ path: String, size: Int, fill: UInt8) {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        bytes += [UInt8](repeating: fill, count: size - bytes.count)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }

    @Test func evidenceReachesTheServerBeforeTheSignOffAndComesBackForTheReport() throws {
        // Given an order on site with its work recorded
        let dir = try tempDir("evidence")
        let server = try LiveServer(folder: dir)
        defer { server.stop() }
        let dispatcher = CLIUser(home: dir + "/dispatcher"), tech = CLIUser(home: dir + "/tech")
        try dispatcher.callAndCheck(["login", "--server", server.url, "--token", try server.addUser("wang", role: "dispatcher")])
        try tech.callAndCheck(["login", "--server", server.url, "--token", try server.addUser("li", role: "technician")])
        try dispatcher.callAndCheck([
            "dispatch", "create", "--id", "WO-EV-1", "--urgency", "2", "--customer", "王秀英", "--address", "和平路 12 号", "--assign", "li",
        ])
        try dispatcher.callAndCheck([
            "dispatch", "create", "--id", "WO-EV-2", "--urgency", "3", "--customer", "李明", "--address", "光明路 7 号", "--assign", "li",
        ])
        try tech.callAndCheck(["sync"])
        for state in ["accepted", "on-site"] { try tech.callAndCheck(["status", "WO-EV-1", state]) }
        try tech.callAndCheck(["set", "WO-EV-1", "work_done", "更换阀门"])
        try tech.callAndCheck(["part", "WO-EV-1", "DN20 阀门", "--quantity", "2", "--price", "35.50"])

        // When files that are not photos, or too large, are attached: refused, nothing queued
        let before = try #require(try tech.json(["pending"]) as? [Any]).count
        let note = dir + "/note.jpg"
        FileManager.default.createFile(atPath: note, contents: Data("这不是照片".utf8))
        let wrongType = try tech.call(["photo", "WO-EV-1", note])
        #expect(wrongType.status == 1)
        #expect(wrongType.stderr.contains("a photo must be JPEG, PNG, HEIC, PDF"))
        let huge = dir + "/huge.png"
        Self.png(huge, size: 21 * 1024 * 1024, fill: 1)
        let tooBig = try tech.call(["photo", "WO-EV-1", huge])
        #expect(tooBig.status == 1)
        #expect(tooBig.stderr.contains("more than the 20.0 MB allowed"))
        #expect(try #require(try tech.json(["pending"]) as? [Any]).count == before)

        // When a 3 MB photo and an SVG signature are taken offline
        let photo = dir + "/valve.png"
        Self.png(photo, size: 3_000_000, fill: 7)
        try tech.callAndCheck(["photo", "WO-EV-1", photo, "--caption", "漏水的阀门"])
        try tech.callAndCheck(["status", "WO-EV-1", "completed"])
        let signature = dir + "/sig.svg"
        FileManager.default.createFile(atPath: signature, contents: Data(#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60"><path d="M5 50 C40 0, 80 60, 195 10" stroke="black" fill="none"/></svg>"#.utf8))
        try tech.callAndCheck(["signoff", "WO-EV-1", "--name", "王秀英", "--rating", "5", "--comment", "很满意", "--signature", signature])
        // Then pending and show say what is still to upload
        let pending = try tech.callAndCheck(["pending"])
        #expect(pending.contains("waiting for upload"))
        #expect(pending.contains("of 2.9 MB"))
        #expect(try tech.callAndCheck(["show", "WO-EV-1"]).contains("still uploading"))

        // When the technician syncs
        let report = try #require(try tech.json(["sync"]) as? [String: Any])
        // Then both blobs went up first and every intent was applied, the sign-off too
        #expect(report["uploadedBlobs"] as? Int == 2)
        #expect(report["waitingForBlobs"] as? Int == 0)
        #expect((report["rejected"] as? [Any])?.isEmpty == true)
        #expect(try #require(try tech.json(["pending"]) as? [Any]).isEmpty)
        let stored = try FileManager.default.subpathsOfDirectory(atPath: server.db + ".blobs").filter { $0.count > 60 && !$0.hasPrefix("partial") }
        #expect(stored.count == 2)
        try dispatcher.callAndCheck(["sync"])
        let order = try #require(try dispatcher.json(["show", "WO-EV-1"]) as? [String: Any])
        #expect(order["status"] as? String == "signed_off")

        // When the technician keeps no confirmed copies, then prints the report
        try tech.callAndCheck(["sync", "--keep-blobs-mb", "0"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: tech.home + "/blobs").filter { !$0.hasPrefix(".") }.isEmpty)
        // (the budget is remembered: the next photo, once confirmed, goes too)
        let second = dir + "/second.png"
        Self.png(second, size: 10_000, fill: 9)
        try tech.callAndCheck(["photo", "WO-EV-2", second])
        try tech.callAndCheck(["sync"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: tech.home + "/blobs").filter { !$0.hasPrefix(".") }.isEmpty)
        let out = dir + "/report.html"
        let printed = try tech.callAndCheck(["report", "WO-EV-1", "--out", out])
        // Then the pruned copies were fetched again and embedded
        #expect(printed.contains("2 image(s) fetched from the server"))
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(html.contains("王秀英"))
        #expect(html.contains("¥71.00"))
        #expect(html.contains("data:image/png;base64,"))
        #expect(html.contains("data:image/svg+xml;base64,"))
        #expect(!html.contains("Image not available"))
        // And the dispatcher's desk, which never held the files, prints it too
        let desk = try dispatcher.callAndCheck(["report", "WO-EV-1"])
        #expect(desk.contains("data:image/png;base64,"))
        #expect(desk.contains("很满意"))
    }
}
