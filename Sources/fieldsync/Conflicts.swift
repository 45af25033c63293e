import ArgumentParser
import FieldSyncClient
import FieldSyncCore

struct Conflicts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: "List the conflicts on your orders: where a merge rule picked a loser (works offline).")

    @OptionGroup var options: CommonOptions

    func run() throws {
        try guarded {
            let (store, _) = try options.openAccount()
            let conflicts = try store.orders().flatMap(\.conflicts)
            if options.json {
                try printJSON(conflicts)
                return
            }
            guard !conflicts.isEmpty else {
                print("no conflicts on your orders")
                return
            }
            print(conflictTable(conflicts.map { ($0, nil) }))
        }
    }
}

/// Conflicts as a table; `resolution` is shown when known.
func conflictTable(_ items: [(Conflict, String?)]) -> String {
    var table = TextTable(["ID", "ORDER", "RULE", "KEPT", "LOST", "WHAT HAPPENED"])
    for (c, resolution) in items {
        table.add([
            c.id, c.orderId, c.rule.rawValue,
            "\(c.winner.value ?? "-") (\(c.winner.actor))",
            "\(c.loser.value ?? "-") (\(c.loser.actor))",
            c.message + (resolution.map { "  [resolved: \($0)]" } ?? ""),
        ])
    }
    return table.render()
}
