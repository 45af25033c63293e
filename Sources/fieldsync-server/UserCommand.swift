import ArgumentParser
import FieldSyncCore
import FieldSyncServer
import Foundation

/// `fieldsync-server user …`: manage the people who may sync.
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users and their tokens.",
        subcommands: [
            AddUserCommand.self, ListUsersCommand.self, DisableUserCommand.self, EnableUserCommand.self,
            ReplaceTokenCommand.self,
        ])
}

/// `fieldsync-server user add --db PATH --role technician|dispatcher NAME`.
///
/// Prints the new token alone on stdout (scripts capture it); it is not stored and cannot
/// be shown again.
struct AddUserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a user and print their new bearer token.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "What the user does: technician (crew on site) or dispatcher.")
    var role: Role

    @Argument(help: "The user's login name: letters, digits, '.', '_' or '-'.")
    var name: String

    func run() throws {
        let db = try database.open()
        let service = SyncService(database: db, now: { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) })
        print(try service.addUser(name: name, role: role))
    }
}

/// `fieldsync-server user list --db PATH [--json]`: every user, their role and whether
/// they may sync.
struct ListUsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the users, their roles and whether they are enabled.")

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Print JSON (name, role, createdAt, disabledAt in ms since 1970) instead of a table.")
    var json = false

    func run() throws {
        let users = try userService(database).users()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(users), as: UTF8.self))
            return
        }
        if users.isEmpty {
            print("no users yet: add one with `fieldsync-server user add --db \(database.path) --role dispatcher NAME`")
            return
        }
        // The name last, so names of any script need no padding to line up.
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        print("\(pad("ROLE", 10))  \(pad("STATUS", 35))  NAME")
        for user in users {
            let status = user.disabledAt.map { "disabled since \(utc($0))" } ?? "enabled"
            print("\(pad(user.role.rawValue, 10))  \(pad(status, 35))  \(user.name)")
        }
    }
}

/// `fieldsync-server user disable --db PATH NAME`.
struct DisableUserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Disable a user: their token and board sessions stop working at once.",
        discussion: "Nothing the user already sent is lost, and no order can be assigned to them while disabled. `user enable` undoes it.")

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The user's login name (see `user list`).")
    var name: String

    func run() throws {
        try userService(database).setUser(name, enabled: false)
        print("\(name) disabled: their token and board sessions no longer work; what they sent is kept")
    }
}

/// `fieldsync-server user enable --db PATH NAME`.
struct EnableUserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable", abstract: "Enable a disabled user again, with the token they had.")

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The user's login name (see `user list`).")
    var name: String

    func run() throws {
        try userService(database).setUser(name, enabled: true)
        print("\(name) enabled")
    }
}

/// `fieldsync-server user token --db PATH NAME`.
///
/// Prints the new token alone on stdout, like `user add`.
struct ReplaceTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Replace a user's token and print the new one; the old one stops working at once.",
        discussion: "For a lost phone or a token someone else has seen. The user logs in again with `fieldsync login --token NEW`.")

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The user's login name (see `user list`).")
    var name: String

    func run() throws {
        print(try userService(database).replaceToken(of: name))
    }
}

/// The service over the existing database of `--db`, on the wall clock. A mistyped path
/// is refused rather than answered from a new empty database.
private func userService(_ database: DatabaseOptions) throws -> SyncService {
    guard database.isURL || FileManager.default.fileExists(atPath: database.path) else {
        throw ServerDatabaseError(
            code: .cannotOpen, path: database.path,
            message: "no database at \(database.path): check --db (only `serve` and `user add` create one)")
    }
    return SyncService(
        database: try database.open(),
        now: { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) })
}

/// `2024-05-01 08:30 UTC` from milliseconds since 1970.
private func utc(_ ms: Int64) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
    return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
}

extension Role: ExpressibleByArgument {}
