import ArgumentParser
import FieldSyncClient
import FieldSyncCore

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one order: customer, special needs, history, lines, bill (works offline).")

    @OptionGroup var options: CommonOptions

    @Argument(help: "The order id, or any unique part of it.")
    var order: String

    func run() throws {
        try guarded {
            let (store, _) = try options.openAccount()
            let id = try store.resolveOrderId(order)
            guard let o = try store.order(id: id) else { throw CLIError("no order \(id)") }
            if options.json {
                try printJSON(o)
                return
            }
            let now = WallClock.now()
            print("\(o.id)  \(o[.kind] ?? "")  urgency \(o.urgency)  \(o.status.rawValue) \(o.status.chinese)")
            if let needs = o[.specialNeeds] { print("! special needs: \(needs)") }
            if let tier = o[.customerTier], tier == "vip" || tier == "major" { print("! key customer (\(tier))") }
            let rows: [(String, String?)] = [
                ("customer", o[.customerName]), ("phone", o[.customerPhone]), ("address", o[.address]),
                ("symptom", o[.symptom]), ("assignee", o.assignee),
                ("deadline", o.responseDeadline.map { "\(WallClock.format($0))  (\(DeadlinePolicy.standard.standing(of: o, now: now).label))" }),
                ("on site", o.onSiteAt.map { WallClock.format($0) }),
                ("completed", o.completedAt.map { WallClock.format($0) }),
                ("diagnosis", o[.diagnosis]), ("work done", o[.workDone]), ("boundary", o[.boundary]),
                ("labour", o[.labourMinutes].map { "\($0) min" }),
            ]
            var facts = TextTable(["", ""])
            for (label, value) in rows { if let value { facts.add([label, value]) } }
            print(facts.render().split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n"))
            print("\nhistory:")
            var history = TextTable(["WHEN", "STATUS", "BY", "NOTE"])
            for h in o.history {
                let mark = h.effect == .applied ? "" : " (\(h.effect.rawValue): \(h.reason ?? ""))"
                history.add([
                    WallClock.format(h.occurredAt) + (h.clockClamped ? " ⚠clock" : ""),
                    "\(h.to.rawValue) \(h.to.chinese)" + (h.assignee.map { " → \($0)" } ?? ""),
                    h.actor, (h.note ?? "") + mark,
                ])
            }
            print(history.render())
            if !o.children.isEmpty {
                print("\nlines:")
                var lines = TextTable(["WHEN", "KIND", "TEXT", "BY", "ID"])
                for c in o.children {
                    var text = c.entry.text
                    if let q = c.entry.quantity { text += " ×\(q)" }
                    if let a = c.entry.amountFen { text += " ¥\(Bill.yuan(a))" }
                    if let v = c.entry.value { text += " = \(v)\(c.entry.unit.map { " \($0)" } ?? "")" }
                    if let v = c.voided { text += "  [void: \(v.reason)]" }
                    if c.history { text += "  [history]" }
                    lines.add([WallClock.format(c.occurredAt), c.entry.kind.rawValue, text, c.actor, String(c.entry.id.prefix(8))])
                }
                print(lines.render())
            }
            let uploading = try evidenceUploading(o, store: store)
            if !uploading.isEmpty {
                print("\nstill uploading (the sign-off and later actions wait for these):")
                for line in uploading { print("  \(line)") }
            }
            let bill = Bill(order: o)
            if !bill.lines.isEmpty { print("\n" + renderBill(bill)) }
            if let s = o.signOff?.signOff {
                print("\nsigned by \(s.signerName) (\(s.signerRole)) at \(WallClock.format(s.signedAt)), rating \(s.rating)/5" + (s.comment.map { ": \($0)" } ?? ""))
            }
            for v in o.voidedSignOffs {
                print("voided sign-off by \(v.signOff.signerName), reopened by \(v.voidedBy ?? "?"): \(v.voidReason ?? "")")
            }
            for c in o.compensations {
                print("compensation ¥\(Bill.yuan(c.amountFen)) (\(c.state.rawValue)): \(c.reason)")
            }
            if !o.conflicts.isEmpty {
                print("\nconflicts:")
                for c in o.conflicts { print("  \(c.id) \(c.rule.rawValue): \(c.message)") }
            }
        }
    }
}

/// The itemised bill, as shown to the customer before signing.
func renderBill(_ bill: Bill) -> String {
    var table = TextTable(["ITEM", "QTY", "AMOUNT"])
    for line in bill.lines { table.add([line.text, String(line.quantity), "¥" + Bill.yuan(line.amountFen)]) }
    table.add(["total 合计", "", "¥" + Bill.yuan(bill.totalFen)])
    return table.render()
}
