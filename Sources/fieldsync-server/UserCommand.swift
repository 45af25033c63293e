import ArgumentParser
import FieldSyncCore
import FieldSyncServer
import Foundation

/// `fieldsync-server user …`: manage the people who may sync.
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users and their tokens.",
        subcommands: [AddUserCommand.self])
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
        let db = try ServerDatabase(path: database.path)
        let service = SyncService(database: db, now: { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) })
        print(try service.addUser(name: name, role: role))
    }
}

extension Role: ExpressibleByArgument {}
