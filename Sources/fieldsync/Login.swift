import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncStore

struct Login: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Connect this device to a FieldSync server (needs a connection once).")

    @OptionGroup var options: CommonOptions

    @Option(help: "Server URL, e.g. http://depot.example:8080.")
    var server: String

    @Option(help: "Your token, as printed by `fieldsync-server user add`.")
    var token: String

    func run() throws {
        try guarded {
            let trimmed = server.trimmingWhitespace
            guard trimmed.hasPrefix("http://") || trimmed.hasPrefix("https://"),
                  trimmed.count > "https://".count
            else {
                throw CLIError("'\(server)' is not a server URL: use http://host:port or https://host")
            }
            let api: ServerAPI
            do {
                api = try ServerAPI(server: trimmed, token: token)
            } catch {
                throw CLIError("'\(server)' is not a server URL: use http://host:port or https://host")
            }
            let me: Principal
            do {
                me = try api.me()
            } catch SyncError.server(let status, _) where status == 401 {
                throw CLIError("the server does not know this token: copy it again from `fieldsync-server user add` or ask your dispatcher", code: 4)
            }
            let store = try options.openStore()
            var account = try store.saveAccount(server: api.http.baseURL, user: me.name, role: me.role, token: token)
            // The device's short number, which generated order ids carry (same on every login).
            let device = try api.registerDevice(account.deviceId)
            try store.setDeviceNumber(device.number)
            account.deviceNumber = device.number
            if options.json {
                try printJSON(account.redacted)
            } else {
                print("logged in to \(account.server) as \(me.name) (\(me.role.rawValue)); device \(account.deviceId)")
                print("next: `fieldsync sync` to fetch your orders")
            }
        }
    }
}

extension Account {
    /// The account without its token, for printing.
    var redacted: [String: String] {
        ["server": server, "user": user, "role": role.rawValue, "deviceId": deviceId,
         "deviceNumber": deviceNumber.map(String.init) ?? ""]
    }
}
