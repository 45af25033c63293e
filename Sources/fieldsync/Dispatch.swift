import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncStore
import Foundation

struct Dispatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Dispatcher commands: open, assign and follow orders (need a connection).",
        subcommands: [
            Create.self, Assign.self, Technicians.self, Board.self, Cancel.self, Reopen.self, FollowUp.self,
            Close.self, ConflictList.self, Resolve.self, Recreate.self,
        ])

    /// Records a dispatcher action, sends it at once and reports how the server took it.
    /// - Parameters:
    ///   - text: an existing order as the person typed it, or nil for `newId`.
    ///   - technician: the technician an action assigns to: checked against the server's
    ///     list before anything is recorded.
    ///   - builds: the actions to record, in order, each from the view the previous left.
    static func act(
        _ options: CommonOptions, order text: String?, orderId newId: String? = nil,
        assigning technician: String? = nil, saying: String, _ builds: [(WorkOrder?) throws -> Action]
    ) throws {
        let (store, account) = try options.openAccount()
        guard account.role == .dispatcher else {
            throw CLIError("`fieldsync dispatch` is for dispatchers; \(account.user) is a \(account.role.rawValue)")
        }
        let api = try ServerAPI(server: account.server, token: account.token)  // one connection for every call
        if let technician { try checkTechnician(technician, api: api) }
        var id = newId ?? ""
        if let text {
            _ = try runSync(store: store, account: account, quiet: true, api: api)  // act on the latest state
            id = try store.resolveOrderId(text)
        }
        let now = WallClock.now()
        let opIds = try builds.map { try store.record(orderId: id, now: now, $0).intent.opId }
        let report: SyncReport
        do {
            report = try runSync(store: store, account: account, quiet: true, api: api)
        } catch let error as SyncError {
            if case .offline = error {
                throw CLIError("\(id): saved, but the server is unreachable; it is sent with the next `fieldsync sync`", code: 3)
            }
            throw error
        }
        if let refused = report.rejected.first(where: { $0.orderId == id }) {
            throw CLIError("\(id): the server refused: \(refused.rejection.message)", code: 4)
        }
        if let failure = report.pushFailure {
            throw CLIError("\(id): saved, but sending failed: \(failure.message)", code: failure.offline ? 3 : 4)
        }
        if options.json {
            try printJSON(["order": id, "opIds": opIds.joined(separator: ",")])
        } else {
            print("\(id): \(saying)")
            for c in report.conflicts where c.orderId == id { print("conflict \(c.id): \(c.message)") }
        }
    }

    /// Refuses (exit 1, nothing recorded) a name that is not an enabled technician of the
    /// server, naming the closest ones. When the server cannot be reached, or is too old to
    /// list technicians, the assign is recorded as before: the server refuses it when it
    /// arrives, and `fieldsync pending` shows why.
    static func checkTechnician(_ name: String, api: ServerAPI) throws {
        let list: TechnicianList
        do {
            list = try api.technicians(includeDisabled: true)
        } catch SyncError.offline {
            return
        } catch let SyncError.server(status, body) where status == 404 && body.error == "not_found" {
            return
        }
        let known = list.assignable
        if known.contains(name) { return }
        let disabled = list.technicians.contains { $0.name == name && !$0.active }
        throw CLIError(NameSuggestion.unknownTechnicianMessage(
            name, problem: disabled ? "technician \(name) is disabled" : nil, known: known))
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Open a work order (工单) from a customer's call.")
        @OptionGroup var options: CommonOptions
        @Option(help: "repair, installation, change, supply, complaint or inspection.") var kind: String = "repair"
        @Option(help: "1 emergency (2 h), 2 (4 h), 3 routine (8 h).") var urgency: Int
        @Option(help: "Customer name.") var customer: String
        @Option(help: "Contact phone.") var phone: String?
        @Option(help: "Address of the fault.") var address: String
        @Option(help: "The fault as the customer described it.") var symptom: String?
        @Option(help: "Customer tier: vip, major, normal, small.") var tier: String?
        @Option(help: "Special needs the crew must know (elderly alone, patient at home…).") var needs: String?
        @Option(help: "Assign at once to this technician.") var assign: String?
        @Option(help: "Order id (default: generated).") var id: String?

        func validate() throws {
            guard OrderKind(rawValue: kind) != nil else {
                throw ValidationError("unknown kind '\(kind)': use one of \(OrderKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard (1...3).contains(urgency) else { throw ValidationError("--urgency must be 1, 2 or 3") }
            if let tier, CustomerTier(rawValue: tier) == nil {
                throw ValidationError("unknown tier '\(tier)': use vip, major, normal or small")
            }
        }

        func run() throws {
            try guarded {
                guard let orderKind = OrderKind(rawValue: kind) else { return }
                let now = WallClock.now()
                let orderId = try id ?? OrderIds.next(options, now: now)
                var fields: [OrderField: String] = [
                    .kind: kind, .urgency: String(urgency), .customerName: customer, .address: address,
                    .responseDeadline: String(DeadlinePolicy.standard.deadline(kind: orderKind, urgency: urgency, openedAt: now)),
                ]
                fields[.customerPhone] = phone
                fields[.symptom] = symptom
                fields[.customerTier] = tier
                fields[.specialNeeds] = needs
                var builds: [(WorkOrder?) throws -> Action] = [{ _ in .create(fields: fields) }]
                if let assign { builds.append { _ in .assign(technician: assign) } }
                try Dispatch.act(
                    options, order: nil, orderId: orderId, assigning: assign,
                    saying: assign.map { "opened and assigned to \($0)" } ?? "opened", builds)
            }
        }

    }

    struct Assign: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "assign", abstract: "Dispatch (派单) or re-dispatch an order to a technician.")
        @OptionGroup var options: CommonOptions
        @Argument(help: "The order id, or any unique part of it.") var order: String
        @Argument(help: "The technician's user name.") var technician: String
        func run() throws {
            try guarded {
                try Dispatch.act(
                    options, order: order, assigning: technician, saying: "assigned to \(technician)",
                    [{ _ in .assign(technician: technician) }])
            }
        }
    }

    struct Technicians: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "technicians",
            abstract: "The technicians orders can be assigned to (the names `create --assign` and `assign` take).")
        @OptionGroup var options: CommonOptions
        @Flag(help: "Include disabled accounts.") var all = false
        func run() throws {
            try guarded {
                let (_, account) = try options.openAccount()
                let list = try ServerAPI(server: account.server, token: account.token).technicians(includeDisabled: all)
                if options.json {
                    try printJSON(list)
                    return
                }
                if list.technicians.isEmpty {
                    print("no technicians yet: the administrator adds them with `fieldsync-server user add --role technician NAME`")
                    return
                }
                var table = TextTable(["TECHNICIAN", "ACCOUNT"])
                for technician in list.technicians {
                    table.add([technician.name, technician.active ? "active" : "disabled"])
                }
                print(table.render())
            }
        }
    }

    struct Cancel: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel an order (work already done on site is never erased).")
        @OptionGroup var options: CommonOptions
        @Argument(help: "The order id, or any unique part of it.") var order: String
        @Option(help: "Why.") var reason: String
        func run() throws {
            try guarded {
                try Dispatch.act(options, order: order, saying: "cancelled", [{ _ in .transition(to: .cancelled, note: reason) }])
            }
        }
    }

    struct Reopen: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reopen", abstract: "Reopen a finished order; its sign-off is voided visibly.")
        @OptionGroup var options: CommonOptions
        @Argument(help: "The order id, or any unique part of it.") var order: String
        @Option(help: "Why.") var reason: String
        func run() throws {
            try guarded { try Dispatch.act(options, order: order, saying: "reopened", [{ _ in .reopen(reason: reason) }]) }
        }
    }

    struct FollowUp: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "follow-up", abstract: "Record the follow-up call (回访).")
        @OptionGroup var options: CommonOptions
        @Argument(help: "The order id, or any unique part of it.") var order: String
        @Option(help: "What the customer said.") var note: String?
        func run() throws {
            try guarded {
                try Dispatch.act(options, order: order, saying: "followed up", [{ _ in .transition(to: .followedUp, note: note) }])
            }
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "close", abstract: "Close an order (已关闭).")
        @OptionGroup var options: CommonOptions
        @Argument(help: "The order id, or any unique part of it.") var order: String
        func run() throws {
            try guarded { try Dispatch.act(options, order: order, saying: "closed", [{ _ in .transition(to: .closed, note: nil) }]) }
        }
    }

    struct Board: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "board", abstract: "The status board: every open order, what is late, what is due soon.")
        @OptionGroup var options: CommonOptions
        @Flag(help: "Include finished orders.") var all = false
        @Option(help: "Only orders at this status (e.g. assigned, on_site).") var status: String?
        @Option(help: "Only orders assigned to this technician.") var crew: String?
        @Flag(help: "Only orders overdue or due soon.") var atRisk = false
        @Flag(help: "Only overdue orders.") var overdue = false
        @Option(help: "Rows to show, 1 to 500 (the server's default is 100).") var limit: Int?
        @Option(help: "The nextAfter of a previous page (--json shows it), for the next page.") var after: String?
        func run() throws {
            try guarded {
                let (_, account) = try options.openAccount()
                let board = try ServerAPI(server: account.server, token: account.token).board(
                    includeFinished: all, status: status, crew: crew, atRisk: atRisk, overdue: overdue,
                    limit: limit, after: after)
                if options.json {
                    try printJSON(board)
                    return
                }
                print(renderBoard(board))
            }
        }
    }

    struct ConflictList: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "conflicts", abstract: "Conflicts for review.",
            discussion: """
                Lists the open conflicts, oldest first. With --all, the reviewed ones too: the \(Self.defaultAllLimit) \
                most recent, then `--before ID` (the oldest one shown) for the ones before them.
                """)
        /// How many `--all` shows when no `--limit` is given: a year's reviewed conflicts
        /// would otherwise fill the screen.
        static let defaultAllLimit = 50
        @OptionGroup var options: CommonOptions
        @Flag(help: "Include resolved ones.") var all = false
        @Option(help: "Show at most this many, the most recent (0: every one; default with --all: \(defaultAllLimit)).")
        var limit: Int?
        @Option(help: "Show the ones recorded before this conflict (an id the list showed).") var before: String?

        func validate() throws {
            if let limit, limit < 0 { throw ValidationError("--limit must be 0 (every one) or more, not \(limit)") }
            // The server sends at most 1,000 a page, and the list asks for one more than it shows.
            if let limit, limit > 999 { throw ValidationError("--limit goes up to 999 a page, not \(limit): 0 lists every one") }
            if limit == 0, before != nil { throw ValidationError("--before pages the list: give it with a --limit above 0, or leave --limit out") }
        }

        func run() throws {
            try guarded {
                let (_, account) = try options.openAccount()
                let api = try ServerAPI(server: account.server, token: account.token)
                let pageSize = limit ?? (all || before != nil ? Self.defaultAllLimit : 0)
                var records: [ConflictRecord]
                var older = false
                if pageSize == 0 {
                    records = try api.conflicts(includeResolved: all)
                } else {
                    // One more than shown: whether older ones remain, without counting them.
                    records = try api.conflicts(includeResolved: all, limit: pageSize + 1, before: before)
                    older = records.count > pageSize
                    if older { records.removeFirst() }
                }
                if options.json {
                    try printJSON(records)
                    return
                }
                if records.isEmpty {
                    print(all ? "no conflicts" : "no open conflicts")
                } else {
                    print(conflictTable(records.map { ($0.conflict, $0.resolution) }))
                }
                if older, let oldest = records.first {
                    let flags = (all ? " --all" : "") + (limit.map { " --limit \($0)" } ?? "")
                    print("… older ones: `fieldsync dispatch conflicts\(flags) --before \(oldest.conflict.id)`")
                }
            }
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resolve", abstract: "Mark a conflict reviewed, saying what was decided.")
        @OptionGroup var options: CommonOptions
        @Argument(help: "The conflict id.") var conflict: String
        @Option(help: "What was decided.") var resolution: String
        func run() throws {
            try guarded {
                let (_, account) = try options.openAccount()
                let record = try ServerAPI(server: account.server, token: account.token).resolve(conflict: conflict, resolution: resolution)
                if options.json { try printJSON(record) } else { print("\(conflict): resolved") }
            }
        }
    }
}

/// The board as a table that lines up with Chinese names and addresses.
func renderBoard(_ board: Board) -> String {
    var table = TextTable(["ORDER", "URG", "STATUS", "ASSIGNEE", "DUE", "ON SITE", "DONE", "CUSTOMER", "ADDRESS"])
    for r in board.rows {
        let flag = (r.specialNeeds != nil || r.customerTier == "vip" || r.customerTier == "major") ? "!" : ""
        table.add([
            r.id + (r.openConflicts > 0 ? " ⚠\(r.openConflicts)" : ""), "L\(r.urgency)",
            "\(r.status.rawValue) \(r.status.chinese)", r.assignee ?? "-", r.standingLabel,
            WallClock.short(r.onSiteAt, now: board.generatedAt), WallClock.short(r.completedAt, now: board.generatedAt),
            flag + TextTable.truncate(r.customerName, columns: 16), TextTable.truncate(r.address, columns: 28),
        ])
    }
    var out = table.render()
    func pct(_ v: Double?) -> String { v.map { String(format: "%.1f%%", $0) } ?? "-" }
    out += "\n\(board.rows.count) order(s); on time \(pct(board.timelinessPercent)) (target ≥95%), satisfied \(pct(board.satisfactionPercent)) (target ≥90%)"
    return out
}
