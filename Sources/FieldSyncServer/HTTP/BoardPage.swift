import FieldSyncCore

/// The dispatcher board as a small HTML page (`GET /board`): readable on a wall screen,
/// refreshed every 30 seconds, every value HTML-escaped; and the pages of signing in to it
/// (``BoardSession``).
///
/// No page carries a token: the browser holds a session cookie instead.
enum BoardPage {
    /// The page for `board`.
    static func render(_ board: Board, includeFinished: Bool) -> String {
        var html = """
            <!doctype html>
            <html lang="zh">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="refresh" content="30">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>工单看板 · FieldSync board</title>
            <style>
            body { font-family: system-ui, "Noto Sans CJK SC", sans-serif; margin: 1.2rem; color: #222; }
            h1 { font-size: 1.4rem; margin: 0 0 .3rem; }
            .meta { color: #666; margin: 0 0 1rem; }
            .kpis span { display: inline-block; margin-right: 2rem; font-size: 1.1rem; }
            .bad { color: #b00020; font-weight: bold; } .good { color: #1b5e20; }
            table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
            th, td { border-bottom: 1px solid #ddd; padding: .35rem .5rem; text-align: left; vertical-align: top; }
            th { background: #f3f3f3; }
            tr.overdue { background: #fde2e2; } tr.due_soon { background: #fff4d6; }
            .tag { font-size: .8em; padding: 0 .3em; border: 1px solid #999; border-radius: 3px; margin-left: .3em; }
            .needs { color: #8a4b00; }
            </style>
            </head>
            <body>
            <h1>工单看板 Work-order board</h1>

            """
        let finishedLink = includeFinished ? "/board" : "/board?all=1"
        html += "<p class=\"meta\">\(escape(utc(board.generatedAt))) UTC · 每 30 秒刷新 refreshes every 30 s · "
        html += "\(board.rows.count) 张工单 orders · "
        html += "<a href=\"\(escape(finishedLink))\">\(includeFinished ? "隐藏已完成 hide finished" : "显示已完成 show finished")</a> · "
        html += "<form method=\"post\" action=\"/board/logout\" style=\"display: inline\"><button>退出 Sign out</button></form></p>\n"
        html += "<p class=\"kpis\">"
        html += kpi("及时率 Timeliness", board.timelinessPercent, target: 95)
        html += kpi("满意度 Satisfaction", board.satisfactionPercent, target: 90)
        html += "</p>\n"
        html += """
            <table>
            <thead><tr><th>期限 Deadline</th><th>工单 Order</th><th>紧急程度 Urgency</th><th>状态 Status</th>\
            <th>客户 Customer</th><th>地址 Address</th><th>维修人员 Crew</th><th>冲突 Conflicts</th></tr></thead>
            <tbody>

            """
        if board.rows.isEmpty {
            html += "<tr><td colspan=\"8\">没有工单 No orders.</td></tr>\n"
        }
        for row in board.rows {
            html += "<tr class=\"\(escape(row.standing))\">"
            var deadline = escape(row.standingLabel)
            if let due = row.responseDeadline { deadline += "<br><small>\(escape(utc(due)))</small>" }
            if row.clockClamped { deadline += "<br><small class=\"bad\">设备时钟已校正 clock clamped</small>" }
            html += "<td>\(deadline)</td>"
            html += "<td>\(escape(row.id))<br><small>\(escape(kindName(row.kind)))</small></td>"
            html += "<td>\(escape(urgencyName(row.urgency)))</td>"
            html += "<td>\(escape(row.status.chinese))<br><small>\(escape(row.status.rawValue))</small></td>"
            var customer = escape(row.customerName)
            if let tier = row.customerTier, tier == CustomerTier.vip.rawValue || tier == CustomerTier.major.rawValue {
                customer += "<span class=\"tag\">重点客户 \(escape(tier))</span>"
            }
            if let needs = row.specialNeeds, !needs.isEmpty {
                customer += "<br><small class=\"needs\">特殊需求 \(escape(needs))</small>"
            }
            html += "<td>\(customer)</td>"
            html += "<td>\(escape(row.address))</td>"
            html += "<td>\(escape(row.assignee ?? "待派单 unassigned"))</td>"
            html += "<td>\(row.openConflicts > 0 ? "<span class=\"bad\">\(row.openConflicts)</span>" : "0")</td>"
            html += "</tr>\n"
        }
        html += "</tbody>\n</table>\n</body>\n</html>\n"
        return html
    }

    /// The sign-in form (`GET /board/login`), with `message` above it when a sign-in
    /// failed. The token goes in a password field, so it is not shown on a wall screen,
    /// and is posted in the body, never in the address.
    static func signIn(message: String? = nil) -> String {
        var html = """
            <!doctype html>
            <html lang="zh"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>登录 Sign in · FieldSync board</title></head>
            <body style="font-family: system-ui, 'Noto Sans CJK SC', sans-serif; margin: 2rem">
            <h1>工单看板 Work-order board</h1>

            """
        if let message { html += "<p style=\"color: #b00020\">\(escape(message))</p>\n" }
        html += """
            <form method="post" action="/board/login">
            <p><label for="token">调度员令牌 Dispatcher token</label><br>
            <input id="token" name="token" type="password" autocomplete="current-password" required size="70"></p>
            <p><button>登录 Sign in</button></p>
            </form>
            <p><small>登录 8 小时有效 The sign-in lasts 8 hours.</small></p>
            </body></html>

            """
        return html
    }

    /// The answer to an old `/board?token=…` address: the token is not used, and the page
    /// says to sign in instead and drop the bookmark (the address already leaked the token
    /// into the browser's history; it should not travel further).
    static func tokenInAddress() -> String {
        """
        <!doctype html>
        <html lang="zh"><head><meta charset="utf-8"><title>FieldSync board</title></head>
        <body style="font-family: system-ui, sans-serif; margin: 2rem">
        <h1>工单看板 Work-order board</h1>
        <p>看板不再接受地址中的令牌。 The board no longer takes a token in its address: \
        such an address ends up in browser history, proxy logs and on the wall screen.</p>
        <p><a href="/board/login">登录 Sign in</a> with your token instead, and delete the old bookmark. \
        If others may have seen the address, ask the administrator for a new token \
        (<code>fieldsync-server user token NAME</code>).</p>
        </body></html>

        """
    }

    /// Escapes `& < > " '` so no value can break out of its element or attribute.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    private static func kpi(_ name: String, _ percent: Double?, target: Double) -> String {
        guard let percent else { return "<span>\(name): –</span>" }
        let tenths = Int((percent * 10).rounded())
        let text = "\(tenths / 10).\(tenths % 10)%"
        let style = percent >= target ? "good" : "bad"
        return "<span>\(name): <b class=\"\(style)\">\(text)</b> <small>(目标 target ≥ \(Int(target))%)</small></span>"
    }

    private static func kindName(_ kind: String) -> String {
        switch OrderKind(rawValue: kind) {
        case .repair: "报修 repair"
        case .installation: "报装 installation"
        case .change: "变更 change"
        case .supply: "停复供 supply"
        case .complaint: "投诉 complaint"
        case .inspection: "安全检查 inspection"
        case nil: kind
        }
    }

    private static func urgencyName(_ urgency: Int) -> String {
        switch urgency {
        case 1: "1 紧急 emergency"
        case 2: "2 较急 urgent"
        default: "\(urgency) 一般 routine"
        }
    }

    /// `2024-05-01 08:30` (UTC) from milliseconds since 1970, without Foundation.
    static func utc(_ ms: Int64) -> String {
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(secondOfDay / 3600)):\(two(secondOfDay % 3600 / 60))"
    }
}
