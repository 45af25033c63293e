import ArgumentParser
import FieldSyncCore
import FieldSyncServer
import Foundation
import Logging

/// `fieldsync-server serve --db PATH [--host H] [--port P] [--log-format text|json] [--log-level L]`.
///
/// Prints exactly one line on stdout once it listens —
/// `fieldsync-server listening on http://HOST:PORT` with the actual port — so scripts
/// and end-to-end tests can wait for it. Logs go to stderr, one line per request. SIGTERM
/// and SIGINT shut it down gracefully: it stops accepting, answers the requests in flight,
/// and exits 0.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the server until SIGTERM or SIGINT.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free port (printed on stdout).")
    var port = 8080

    @Option(help: "Days a finished order stays on technicians' and dispatchers' devices before it is archived there (it stays on the server).")
    var retentionDays = SyncService.defaultRetentionDays

    @Option(help: "How log lines on stderr look: text, or json (one JSON object per line, for log shippers).")
    var logFormat = LogFormat.text.rawValue

    @Option(help: "The least severe log lines written: trace, debug, info, notice, warning, error or critical.")
    var logLevel = Logger.Level.info.rawValue

    @Option(help: "Largest photo or signature file the server keeps, in MB.")
    var maxBlobMb = Int(BlobType.defaultMaxBytes >> 20)

    @Option(help: "Folder of photos and signatures (default: <db>.blobs beside the database; with several instances, one folder they all share).")
    var blobDir: String?

    func validate() throws {
        if database.isURL && blobDir == nil {
            throw ValidationError(
                "with a postgres:// database give --blob-dir, a folder every instance shares (e.g. an NFS mount): photos and signatures are kept there, not in the database")
        }
        guard (1...1_024).contains(maxBlobMb) else {
            throw ValidationError("--max-blob-mb must be from 1 to 1024")
        }
        guard (0...65_535).contains(port) else {
            throw ValidationError("--port must be from 0 to 65535")
        }
        guard (1...3_650).contains(retentionDays) else {
            throw ValidationError("--retention-days must be from 1 to 3650")
        }
        guard LogFormat(rawValue: logFormat) != nil else {
            throw ValidationError("--log-format \(logFormat) is not a log format: use text or json")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError(
                "--log-level \(logLevel) is not a log level: use \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// Where photos and signatures live: `--blob-dir`, or beside an SQLite file (on
    /// PostgreSQL `validate()` asks for `--blob-dir`: several instances share one folder).
    private func blobFolder() -> String {
        blobDir ?? BlobStore.folder(besideDatabase: database.path)
    }

    func run() async throws {
        let logger = (LogFormat(rawValue: logFormat) ?? .text).logger(
            label: "fieldsync-server", level: Logger.Level(rawValue: logLevel) ?? .info)
        let db = try database.open()
        let blobs = try BlobStore(root: blobFolder(), maxBytes: Int64(maxBlobMb) << 20)
        blobs.sweepPartials(now: Int64(Date().timeIntervalSince1970))
        let service = SyncService(database: db, retentionDays: retentionDays, blobs: blobs, now: { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) })
        let app = buildApplication(
            service: service, host: host, port: port, logger: logger,
            onListening: { host, port in
                let shown = host.contains(":") ? "[\(host)]" : host
                // Unbuffered: the line reaches a pipe at once, for scripts waiting on it.
                FileHandle.standardOutput.write(Data("fieldsync-server listening on http://\(shown):\(port)\n".utf8))
            })
        try await app.runService()
        logger.info("stopped: the requests in flight were answered")
    }
}

/// `--log-format`: how the server's log lines look.
enum LogFormat: String, CaseIterable {
    /// swift-log's stream format: `DATE LEVEL LABEL: key=value … MESSAGE`.
    case text
    /// One JSON object per line (``JSONLogHandler``).
    case json

    /// A logger writing to standard error in this format at `level` and above.
    func logger(label: String, level: Logger.Level) -> Logger {
        var logger =
            switch self {
            case .text: Logger(label: label) { StreamLogHandler.standardError(label: $0) }
            case .json: Logger(label: label) { JSONLogHandler.standardError(label: $0) }
            }
        logger.logLevel = level
        return logger
    }
}
