import Foundation

/// Where the built binaries are: $FIELDSYNC_BIN_DIR (set by tools/test), else next to the
/// test bundle, which `swift build` puts in the same folder.
let binDir: String = {
    if let dir = ProcessInfo.processInfo.environment["FIELDSYNC_BIN_DIR"], !dir.isEmpty { return dir }
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: url.appendingPathComponent("fieldsync").path), url.path != "/" {
        url.deleteLastPathComponent()
    }
    return url.path
}()

/// What a finished process printed and how it ended.
struct Finished {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a binary to completion.
@discardableResult
func run(_ binary: String, _ args: [String], env: [String: String] = [:]) throws -> Finished {
    try runProgram(binDir + "/" + binary, args, env: env)
}

/// Runs the program at `path` (a system tool such as psql) and waits for it.
@discardableResult
func runProgram(_ path: String, _ args: [String], env: [String: String] = [:]) throws -> Finished {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = args
    var environment = ProcessInfo.processInfo.environment
    for (k, v) in env { environment[k] = v }
    process.environment = environment
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Finished(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                    stderr: String(decoding: stderr, as: UTF8.self))
}

/// A fresh temporary folder.
func tempDir(_ name: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fs-e2e-\(name)-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A real `fieldsync-server` on a free loopback port, stopped when released.
final class LiveServer {
    let process = Process()
    let url: String
    let db: String

    /// - Parameters:
    ///   - arguments: more options for `serve` (`--log-format json`, …).
    ///   - logs: where its stderr goes; nowhere when nil.
    init(folder: String, port: Int = 0, arguments: [String] = [], logs: Pipe? = nil) throws {
        db = folder + "/server.sqlite"
        process.executableURL = URL(fileURLWithPath: binDir + "/fieldsync-server")
        process.arguments = ["serve", "--db", db, "--host", "127.0.0.1", "--port", String(port)] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = logs ?? FileHandle.nullDevice
        try process.run()
        // Wait for the one line the server prints once it listens (a blocking read, no sleep).
        var seen = ""
        while !seen.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = seen.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else {
            process.terminate()
            throw HarnessError("fieldsync-server did not start: \(seen)")
        }
        url = String(seen[range])
    }

    var port: Int { Int(url.split(separator: ":").last ?? "0") ?? 0 }

    func addUser(_ name: String, role: String) throws -> String {
        let r = try run("fieldsync-server", ["user", "add", "--db", db, "--role", role, name])
        guard r.status == 0 else { throw HarnessError("user add failed: \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// A `fieldsync` user with its own store folder.
struct CLIUser {
    let home: String

    @discardableResult
    func callAndCheck(_ args: [String]) throws -> String {
        let r = try call(args)
        guard r.status == 0 else { throw HarnessError("fieldsync \(args.joined(separator: " ")) exited \(r.status): \(r.stderr)") }
        return r.stdout
    }

    func call(_ args: [String]) throws -> Finished {
        guard let sub = args.first else { return try run("fieldsync", args) }
        var rest = Array(args.dropFirst())
        var command = [sub]
        if sub == "dispatch", let second = rest.first {
            command.append(second)
            rest.removeFirst()
        }
        return try run("fieldsync", command + ["--home", home] + rest)
    }

    func json(_ args: [String]) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(try callAndCheck(args + ["--json"]).utf8))
    }
}
