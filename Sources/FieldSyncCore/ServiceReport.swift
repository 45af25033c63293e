/// The printed service report (服务报告) the customer keeps: one standalone HTML page that
/// prints on A4, in Chinese with the English labels of the board.
///
/// It holds the utility and the order, the customer, the times on site and completed, the
/// work done and the property boundary, the bill with its total, any compensation, the
/// photos and the signature image, the rating and comment, and the sign-off's content hash
/// that binds them. A voided sign-off is shown struck through and marked 作废 VOID.
///
/// Pure: the page goes out piece by piece through `write`, and images come from `image`,
/// which writes a `data:` URI's base64 through the same function in pieces, so a report
/// with twenty photos never holds one of them whole (the CLI reads them from its blob
/// cache, the server from its blob folder).
public struct ServiceReport: Sendable {
    /// An image the caller can embed: its type and a function that writes its base64.
    public struct Image {
        public var mimeType: String
        public var writeBase64: ((String) throws -> Void) throws -> Void

        public init(mimeType: String, writeBase64: @escaping ((String) throws -> Void) throws -> Void) {
            self.mimeType = mimeType
            self.writeBase64 = writeBase64
        }
    }

    public var order: WorkOrder
    /// The utility's name at the top of the page.
    public var utility: String
    /// When the report was made, ms since 1970.
    public var generatedAt: Int64
    /// Offset of the times shown from UTC, in minutes (China: +480).
    public var utcOffsetMinutes: Int

    /// The utility name when none is configured.
    public static let defaultUtility = "FieldSync"

    public init(order: WorkOrder, utility: String = ServiceReport.defaultUtility, generatedAt: Int64, utcOffsetMinutes: Int = 480) {
        self.order = order
        self.utility = utility
        self.generatedAt = generatedAt
        self.utcOffsetMinutes = utcOffsetMinutes
    }

    /// Writes the page. `image` answers nil for a blob it does not have; the page then
    /// says so in the image's place.
    public func render(write: (String) throws -> Void, image: (String) throws -> Image?) throws {
        let o = order
        try write("""
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8">
            <title>服务报告 Service report · \(Self.escape(o.id))</title>
            <style>
            @page { size: A4; margin: 15mm 14mm; }
            body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "PingFang SC", sans-serif; font-size: 10.5pt; color: #111; margin: 0; }
            h1 { font-size: 17pt; margin: 0 0 2mm; } h2 { font-size: 12pt; margin: 5mm 0 2mm; border-bottom: 1px solid #999; }
            .utility { font-size: 12pt; color: #333; } .en { color: #555; font-size: 85%; }
            table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #bbb; padding: 1.2mm 2mm; text-align: left; vertical-align: top; }
            th { background: #f0f0f0; width: 28%; font-weight: normal; } td.num, th.num { text-align: right; }
            .bill th { width: auto; } tr.total td { font-weight: bold; }
            .photos { display: flex; flex-wrap: wrap; gap: 3mm; } figure { margin: 0; width: 58mm; break-inside: avoid; page-break-inside: avoid; }
            figure img { width: 58mm; max-height: 58mm; object-fit: contain; border: 1px solid #ccc; } figcaption { font-size: 9pt; }
            .signature img { max-width: 70mm; max-height: 30mm; border-bottom: 1px solid #333; }
            .void { text-decoration: line-through; color: #777; } .stamp { color: #b00; font-weight: bold; text-decoration: none; border: 2px solid #b00; padding: 0 2mm; }
            .hash { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; word-break: break-all; }
            section { break-inside: avoid; page-break-inside: avoid; } .missing { color: #b00; font-size: 9pt; }
            footer { margin-top: 6mm; font-size: 8.5pt; color: #555; }
            </style></head><body>
            <div class="utility">\(Self.escape(utility))</div>
            <h1>服务报告 <span class="en">Service report</span></h1>

            """)
        try section("工单 Work order", rows: [
            ("工单号 Order", o.id),
            ("类型 Kind", o[.kind] ?? "-"),
            ("状态 Status", "\(o.status.chinese) \(o.status.rawValue)"),
            ("维修人员 Crew", o.assignee ?? "-"),
            ("故障描述 Symptom", o[.symptom] ?? "-"),
        ], write: write)
        try section("客户 Customer", rows: [
            ("客户 Customer", o[.customerName] ?? "-"),
            ("电话 Phone", o[.customerPhone] ?? "-"),
            ("地址 Address", o[.address] ?? "-"),
        ], write: write)
        try section("时间 Times", rows: [
            ("受理 Opened", time(o.createdAt)),
            ("到达现场 On site", o.onSiteAt.map(time) ?? "-"),
            ("已完成 Completed", o.completedAt.map(time) ?? "-"),
        ], write: write)
        try section("处理 Work", rows: [
            ("诊断 Diagnosis", o[.diagnosis] ?? "-"),
            ("处理内容 Work done", o[.workDone] ?? "-"),
            ("产权分界 Property boundary", Self.boundary(o[.boundary])),
            ("工时 Labour", o[.labourMinutes].map { "\($0) 分钟 min" } ?? "-"),
        ], write: write)

        let bill = Bill(order: o)
        try write("<section><h2>配件与费用 <span class=\"en\">Parts and charges</span></h2>\n<table class=\"bill\"><tr><th>项目 Item</th><th class=\"num\">数量 Qty</th><th class=\"num\">金额 Amount (¥)</th></tr>\n")
        if bill.lines.isEmpty {
            try write("<tr><td colspan=\"3\">无 None</td></tr>\n")
        }
        for line in bill.lines {
            try write("<tr><td>\(Self.escape(line.text))</td><td class=\"num\">\(line.quantity)</td><td class=\"num\">\(Bill.yuan(line.amountFen))</td></tr>\n")
        }
        try write("<tr class=\"total\"><td colspan=\"2\">合计 Total</td><td class=\"num\">¥\(Bill.yuan(bill.totalFen))</td></tr></table></section>\n")

        if !o.compensations.isEmpty {
            try write("<section><h2>赔偿 <span class=\"en\">Compensation</span></h2>\n<table class=\"bill\"><tr><th>原因 Reason</th><th>状态 State</th><th class=\"num\">金额 Amount (¥)</th></tr>\n")
            for c in o.compensations {
                try write("<tr><td>\(Self.escape(c.reason))</td><td>\(Self.escape(Self.compensationState(c.state)))</td><td class=\"num\">\(Bill.yuan(c.amountFen))</td></tr>\n")
            }
            try write("</table></section>\n")
        }

        let photos = o.children.filter { $0.entry.kind == .photo && !$0.history }
        try write("<section><h2>照片 <span class=\"en\">Photos</span></h2>\n")
        if photos.isEmpty { try write("<p>无 None</p>\n") }
        try write("<div class=\"photos\">\n")
        for record in photos {
            let voided = record.voided != nil
            try write("<figure\(voided ? " class=\"void\"" : "")>")
            try embed(record.entry.digest ?? "", alt: record.entry.text, write: write, image: image)
            try write("<figcaption>\(Self.escape(record.entry.text))\(voided ? " <span class=\"stamp\">作废 VOID</span>" : "")</figcaption></figure>\n")
        }
        try write("</div></section>\n")

        try write("<section><h2>客户签字 <span class=\"en\">Customer sign-off</span></h2>\n")
        if o.signOff == nil && o.voidedSignOffs.isEmpty { try write("<p>未签字 Not signed.</p>\n") }
        if let current = o.signOff { try signOff(current, voided: false, write: write, image: image) }
        for old in o.voidedSignOffs { try signOff(old, voided: true, write: write, image: image) }
        try write("</section>\n")
        try write("<footer>生成于 Generated \(time(generatedAt)) · FieldSync</footer>\n</body></html>\n")
    }

    /// The page as one string (tests, small reports).
    public func html(image: (String) -> Image? = { _ in nil }) -> String {
        var out = ""
        // Only `image`'s base64 writer could throw, and it writes into a string here.
        try? render(write: { out += $0 }, image: image)
        return out
    }

    private func signOff(
        _ record: SignOffRecord, voided: Bool, write: (String) throws -> Void, image: (String) throws -> Image?
    ) throws {
        let s = record.signOff
        try write("<div class=\"signoff\(voided ? " void" : "")\">\n")
        if voided {
            try write("<p><span class=\"stamp\">作废 VOID</span> 此签字已被调度员作废 This sign-off was voided by \(Self.escape(record.voidedBy ?? "a dispatcher"))\(record.voidReason.map { ": " + Self.escape($0) } ?? "").</p>\n")
        }
        try write("<table>\n")
        for (label, value) in [
            ("签字人 Signed by", "\(s.signerName) (\(s.signerRole))"),
            ("签字时间 Signed at", time(s.signedAt)),
            ("满意度 Rating", String(repeating: "★", count: max(0, min(5, s.rating))) + String(repeating: "☆", count: max(0, 5 - s.rating)) + " \(s.rating)/5"),
            ("意见 Comment", s.comment ?? "-"),
        ] {
            try write("<tr><th>\(label)</th><td>\(Self.escape(value))</td></tr>\n")
        }
        try write("<tr><th>签名 Signature</th><td class=\"signature\">")
        try embed(s.signatureDigest, alt: "签名 signature", write: write, image: image)
        try write("</td></tr>\n<tr><th>内容哈希 Content hash (SHA-256)</th><td class=\"hash\">\(Self.escape(s.contentHash))</td></tr>\n</table></div>\n")
    }

    private func embed(
        _ digest: String, alt: String, write: (String) throws -> Void, image: (String) throws -> Image?
    ) throws {
        guard let found = try image(digest) else {
            try write("<div class=\"missing\">图片不在此设备 Image not available here (\(Self.escape(String(digest.prefix(12)))))</div>")
            return
        }
        // Browsers show JPEG, PNG and SVG; a HEIC photo or a PDF scan is named, not drawn.
        guard Self.drawable.contains(found.mimeType) else {
            let kind = found.mimeType == "application/pdf" ? "PDF" : "HEIC"
            try write("<div class=\"missing\">\(kind) 文件, 见服务器存档 \(kind) file, kept on the server (SHA-256 \(Self.escape(String(digest.prefix(12))))…)</div>")
            return
        }
        try write("<img alt=\"\(Self.escape(alt))\" src=\"data:\(found.mimeType);base64,")
        try found.writeBase64(write)
        try write("\">")
    }

    private func section(_ title: String, rows: [(String, String)], write: (String) throws -> Void) throws {
        let parts = title.split(separator: " ", maxSplits: 1)
        try write("<section><h2>\(parts[0]) <span class=\"en\">\(parts.count > 1 ? String(parts[1]) : "")</span></h2>\n<table>\n")
        for (label, value) in rows {
            try write("<tr><th>\(label)</th><td>\(Self.escape(value))</td></tr>\n")
        }
        try write("</table></section>\n")
    }

    /// `yyyy-MM-dd HH:mm` at the report's UTC offset.
    func time(_ ms: Int64) -> String {
        let minutes = Int64((Double(ms) / 60_000).rounded(.down)) + Int64(utcOffsetMinutes)
        let days = Int64((Double(minutes) / 1_440).rounded(.down))
        let inDay = minutes - days * 1_440
        let (y, m, d) = Self.civil(days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let sign = utcOffsetMinutes < 0 ? "-" : "+"
        let offset = abs(utcOffsetMinutes)
        return "\(y)-\(two(m))-\(two(d)) \(two(inDay / 60)):\(two(inDay % 60)) (UTC\(sign)\(offset / 60)\(offset % 60 == 0 ? "" : ":" + two(Int64(offset % 60))))"
    }

    /// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's algorithm).
    static func civil(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func boundary(_ side: String?) -> String {
        switch side {
        case "customer": "客户侧 Customer's side"
        case "utility": "供电/供热企业侧 Utility's side"
        case "undetermined": "待定 Undetermined"
        case let other?: other
        case nil: "-"
        }
    }

    static func compensationState(_ state: Compensation.State) -> String {
        switch state {
        case .settled: "现场结清 Settled"
        case .awaitingApproval: "待主管审批 Awaiting approval"
        default: state.rawValue
        }
    }

    /// The image types a browser draws in an `<img>`.
    static let drawable: Set<String> = ["image/jpeg", "image/png", "image/svg+xml"]

    /// Text for HTML element content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
