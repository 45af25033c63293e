import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncStore
import Foundation

/// Options every command shares.
struct CommonOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Folder of this device's FieldSync store.",
            discussion: "Default: $FIELDSYNC_HOME, else $XDG_DATA_HOME/fieldsync, else ~/.local/share/fieldsync."),
        completion: .directory)
    var home: String?

    @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
    var json = false

    /// The store folder, from the flag, the environment or the XDG default.
    var homePath: String {
        let env = ProcessInfo.processInfo.environment
        if let home, !home.isEmpty { return home }
        if let h = env["FIELDSYNC_HOME"], !h.isEmpty { return h }
        if let xdg = env["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/fieldsync" }
        return (env["HOME"] ?? ".") + "/.local/share/fieldsync"
    }

    /// The largest photo or signature this device records: `$FIELDSYNC_MAX_BLOB_MB` MB when
    /// set (to match a server started with another `--max-blob-mb`), else 20 MB.
    var maxBlobBytes: Int64 {
        let env = ProcessInfo.processInfo.environment["FIELDSYNC_MAX_BLOB_MB"].flatMap { Int64($0) }
        guard let env, env > 0, env <= 1_024 else { return BlobType.defaultMaxBytes }
        return env << 20
    }

    /// Opens the store, creating its folder if needed.
    func openStore() throws -> ClientDatabase {
        let path = homePath
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw CLIError("\(path) is a file, not a folder: pass --home DIR or set FIELDSYNC_HOME to a folder")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw CLIError("cannot create the store folder \(path): choose a writable one with --home DIR or FIELDSYNC_HOME")
            }
        }
        return try ClientDatabase(path: path + "/fieldsync.sqlite")
    }

    /// Opens the store and requires a login.
    func openAccount() throws -> (ClientDatabase, Account) {
        let store = try openStore()
        guard let account = try store.account() else { throw StoreError.notLoggedIn }
        return (store, account)
    }
}

/// A one-line error for the person at the keyboard, with its exit code.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    var code: Int32

    init(_ message: String, code: Int32 = 1) {
        description = message
        self.code = code
    }
}

/// Runs a command body, turning FieldSync errors into one line on stderr and an exit code.
func guarded(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as CLIError {
        fail(error.description, code: error.code)
    } catch let error as StoreError {
        fail(error.description, code: 1)
    } catch let error as SyncError {
        if case .offline = error { fail(error.description, code: 3) }
        fail(error.description, code: 4)
    } catch let error as ExitCode {
        throw error
    } catch {
        fail("\(error)", code: 1)
    }
}

private func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data("fieldsync: \(message)\n".utf8))
    exit(code)
}

/// Prints a value as pretty, key-sorted JSON.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// A fresh id for a line or request.
func newId() -> String { UUID().uuidString.lowercased() }
