import FieldSyncCore
import Testing

@Suite("Evidence: blob types and the service report")
struct ServiceReportTests {
    @Test("types are told by content, and each purpose takes its own")
    func sniffing() {
        #expect(BlobType.sniff([0xFF, 0xD8, 0xFF, 0xE1, 0, 0]) == .jpeg)
        #expect(BlobType.sniff([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]) == .png)
        #expect(BlobType.sniff(Array("%PDF-1.7\n".utf8)) == .pdf)
        #expect(BlobType.sniff([0, 0, 0, 0x18] + Array("ftypheic".utf8) + [0, 0, 0, 0]) == .heic)
        #expect(BlobType.sniff([0, 0, 0, 0x18] + Array("ftypisom".utf8)) == nil)  // an MP4 video
        #expect(BlobType.sniff(Array("\u{FEFF}<?xml version=\"1.0\"?>\n<!-- pad --><!DOCTYPE svg><svg xmlns=\"x\"/>".utf8)) == .svg)
        #expect(BlobType.sniff(Array("<html><svg/></html>".utf8)) == nil)
        #expect(BlobType.sniff(Array("MZ\u{90}".utf8)) == nil)
        #expect(BlobType.sniff([0x89, 0x50]) == nil)  // too short to tell
        #expect(BlobType.Purpose.signature.allowed == [.png, .svg])
        #expect(!BlobType.Purpose.photo.allowed.contains(.svg))
        #expect(BlobType.isDigest(String(repeating: "a1", count: 32)))
        #expect(!BlobType.isDigest(String(repeating: "A1", count: 32)))
        #expect(!BlobType.isDigest("../etc/passwd"))
    }

    /// A signed order with a part, a charge, a photo, compensation; then reopened.
    static func signedJob() -> Timeline {
        var timeline = SignOffTests.completedJob()
        timeline.add(.append(ChildEntry(id: "C1", kind: .charge, text: "上门费 <call-out>", amountFen: 5_000)), by: .wang, at: 32)
        timeline.add(.append(ChildEntry(id: "F1", kind: .photo, text: "漏水的阀门", digest: String(repeating: "ab", count: 32))), by: .wang, at: 33)
        timeline.add(.requestCompensation(id: "K1", amountFen: 12_000, reason: "地板受潮"), by: .wang, at: 34)
        return timeline
    }

    @Test("the report holds the order, bill, photos, signature and hash, escaped")
    func reportContent() throws {
        var timeline = Self.signedJob()
        timeline.add(.move(.completed), by: .wang, at: 41)
        timeline.add(.signOff(signOff(of: timeline.order)), by: .wang, at: 45)
        let order = timeline.order
        let hash = try #require(order.signOff?.signOff.contentHash)
        var asked: [String] = []
        let html = ServiceReport(order: order, utility: "城东供热 & 服务", generatedAt: minute(50)).html { digest in
            asked.append(digest)
            return ServiceReport.Image(mimeType: "image/png") { write in try write("AAAA"); try write("BBBB") }
        }
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("@page { size: A4"))
        #expect(html.contains("城东供热 &amp; 服务"))
        #expect(html.contains("上门费 &lt;call-out&gt;"))
        #expect(html.contains("¥75.00"))  // the part's ¥25.00 and the ¥50.00 call-out
        #expect(html.contains("120.00"))
        #expect(html.contains("客户侧") || html.contains("产权分界"))
        #expect(html.contains(hash))
        #expect(html.contains("Chen Jing"))
        #expect(html.contains("★★★★★"))
        #expect(html.contains("src=\"data:image/png;base64,AAAABBBB\""))
        #expect(asked == [String(repeating: "ab", count: 32), String(repeating: "5e", count: 32)])
        #expect(!html.contains("作废 VOID"))
        // Times at UTC+8: the fixtures' minute 20 on site
        #expect(html.contains("到达现场 On site"))
    }

    @Test("a voided sign-off shows as void, and missing images say so")
    func voidedSignOff() {
        var timeline = Self.signedJob()
        timeline.add(.move(.completed), by: .wang, at: 41)
        timeline.add(.signOff(signOff(of: timeline.order)), by: .wang, at: 45)
        timeline.add(.reopen(reason: "账单有误"), by: .zhang, at: 60)
        let html = ServiceReport(order: timeline.order, generatedAt: minute(61)).html()
        #expect(html.contains("作废 VOID"))
        #expect(html.contains("账单有误"))
        #expect(html.contains("Image not available here"))
        #expect(html.contains("未签字") == false)
    }

    @Test("a HEIC photo or a PDF scan is named, not embedded")
    func undrawableTypes() {
        let order = Self.signedJob().order
        var wrote = false
        let html = ServiceReport(order: order, generatedAt: minute(50)).html { _ in
            ServiceReport.Image(mimeType: "image/heic") { _ in wrote = true }
        }
        #expect(!wrote)
        #expect(html.contains("HEIC file, kept on the server"))
        #expect(!html.contains("data:image/heic"))
    }

    @Test("dates are civil dates at the offset")
    func dates() {
        let report = ServiceReport(order: Timeline.assignedToWang().order, generatedAt: 0)
        #expect(report.html().contains("1970-01-01 08:00 (UTC+8)"))
        // 2024-02-29 23:59 UTC is 2024-03-01 07:59 in China
        let leap = ServiceReport(order: Timeline.assignedToWang().order, generatedAt: 1_709_251_140_000)
        #expect(leap.html().contains("2024-03-01 07:59 (UTC+8)"))
    }
}
