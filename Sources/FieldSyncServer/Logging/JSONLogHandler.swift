#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging

/// A swift-log handler that writes one JSON object per line, for log shippers
/// (`fieldsync-server serve --log-format json`).
///
/// Each line has `time` (UTC, ISO 8601 with milliseconds), `level`, `label` and `message`,
/// then the metadata keys at the top level (a metadata key that would replace one of those
/// four is written as `meta.KEY`). A number given as `.stringConvertible` is written as a
/// JSON number, so `status` and `ms` can be compared without parsing:
///
/// ```json
/// {"time":"2026-05-01T08:30:00.123Z","level":"info","label":"fieldsync-server","message":"request","method":"GET","ms":1.4,"request":"6f1c…","route":"/v1/me","status":200}
/// ```
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?

    private let label: String
    private let write: @Sendable (String) -> Void
    private let now: @Sendable () -> Date

    /// A handler that hands each line (newline included) to `write`; tests collect them.
    public init(
        label: String, metadataProvider: Logger.MetadataProvider? = nil,
        now: @escaping @Sendable () -> Date = { Date() },
        write: @escaping @Sendable (String) -> Void
    ) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.now = now
        self.write = write
    }

    /// A handler writing to standard error, each line in one write so lines of concurrent
    /// requests do not interleave.
    public static func standardError(label: String) -> JSONLogHandler {
        JSONLogHandler(label: label) { line in
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let given = event.metadata { all.merge(given) { _, new in new } }
        var line = "{\"time\":" + JSONText.quoted(Self.timestamp(now()))
        line += ",\"level\":" + JSONText.quoted(event.level.rawValue)
        line += ",\"label\":" + JSONText.quoted(label)
        line += ",\"message\":" + JSONText.quoted(event.message.description)
        for key in all.keys.sorted() {
            guard let value = all[key] else { continue }
            let name = Self.reserved.contains(key) ? "meta." + key : key
            line += "," + JSONText.quoted(name) + ":" + Self.json(value)
        }
        write(line + "}\n")
    }

    /// The keys every line has, which metadata may not replace.
    static let reserved: Set<String> = ["time", "level", "label", "message"]

    /// A metadata value as JSON.
    static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text):
            return JSONText.quoted(text)
        case .stringConvertible(let convertible):
            let text = convertible.description
            if convertible is any BinaryInteger || convertible is any BinaryFloatingPoint,
               let number = Double(text), number.isFinite
            {
                return text
            }
            return JSONText.quoted(text)
        case .dictionary(let dictionary):
            let members = dictionary.keys.sorted().compactMap { key in
                dictionary[key].map { JSONText.quoted(key) + ":" + json($0) }
            }
            return "{" + members.joined(separator: ",") + "}"
        case .array(let values):
            return "[" + values.map(json).joined(separator: ",") + "]"
        }
    }

    /// `2026-05-01T08:30:00.123Z`.
    static func timestamp(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(ms % 1000))
    }
}
