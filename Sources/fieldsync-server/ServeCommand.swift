import ArgumentParser
import FieldSyncCore
import FieldSyncServer
import Foundation
import Logging

/// `fieldsync-server serve --db PATH [--host H] [--port P]`.
///
/// Prints exactly one line on stdout once it listens —
/// `fieldsync-server listening on http://HOST:PORT` with the actual port — so scripts
/// and end-to-end tests can wait for it. Logs go to stderr. SIGTERM and SIGINT shut it
/// down gracefully.
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

    @Option(help: "Largest photo or signature file the server keeps, in MB.")
    var maxBlobMb = Int(BlobType.defaultMaxBytes >> 20)

    @Option(help: "Folder of photos and signatures (default: <db>.blobs beside the database; with several instances, one folder they all share).")
    var blobDir: String?

    func validate() throws {
        guard (1...1_024).contains(maxBlobMb) else {
            throw ValidationError("--max-blob-mb must be from 1 to 1024")
        }
        guard (0...65_535).contains(port) else {
            throw ValidationError("--port must be from 0 to 65535")
        }
        guard (1...3_650).contains(retentionDays) else {
            throw ValidationError("--retention-days must be from 1 to 3650")
        }
    }

    func run() async throws {
        var logger = Logger(label: "fieldsync-server")
        logger.logLevel = .info
        let db = try ServerDatabase(path: database.path)
        let blobs = try BlobStore(
            root: blobDir ?? BlobStore.folder(besideDatabase: database.path), maxBytes: Int64(maxBlobMb) << 20)
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
    }
}
