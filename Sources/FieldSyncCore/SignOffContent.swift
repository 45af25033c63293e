import Crypto

/// What a customer signs for, encoded canonically so device and server hash the same bytes.
///
/// Encoding (version 1): the line `fieldsync-signoff-v1`, then one line per fact,
/// `name:byteCount:value`, in this order: order id, work done, diagnosis, boundary,
/// labour minutes, then every live part line, charge line and photo digest sorted by line
/// id. Byte counts make the encoding unambiguous whatever the text holds.
public enum SignOffContent {
    public static func canonicalEncoding(of order: WorkOrder) -> [UInt8] {
        var out = Array("fieldsync-signoff-v1\n".utf8)
        func put(_ name: String, _ value: String?) {
            let bytes = Array((value ?? "").utf8)
            out += Array("\(name):\(bytes.count):".utf8) + bytes + [0x0a]
        }
        put("order", order.id)
        put("work_done", order[.workDone])
        put("diagnosis", order[.diagnosis])
        put("boundary", order[.boundary])
        put("labour_minutes", order[.labourMinutes])
        let covered = order.liveChildren.filter { $0.entry.coveredBySignOff }
            .sorted { $0.entry.id < $1.entry.id }
        for record in covered {
            let e = record.entry
            switch e.kind {
            case .part:
                put("part", "\(e.id)|\(e.code ?? "")|\(e.text)|\(e.quantity ?? 0)|\(e.amountFen ?? 0)")
            case .charge:
                put("charge", "\(e.id)|\(e.text)|\(e.amountFen ?? 0)")
            case .photo:
                put("photo", "\(e.id)|\(e.digest ?? "")")
            case .log, .reading:
                break
            }
        }
        return out
    }

    /// SHA-256 (hex) of the canonical encoding: the `contentHash` a sign-off must carry.
    public static func hash(of order: WorkOrder) -> String {
        Hex.string(SHA256.hash(data: canonicalEncoding(of: order)))
    }
}

/// The itemised bill shown to the customer before signing (heating seed: "charges not
/// transparent" is a top complaint).
public struct Bill: Sendable, Equatable {
    public struct Line: Sendable, Equatable {
        public var text: String
        public var quantity: Int
        public var amountFen: Int
    }

    public var lines: [Line]
    public var totalFen: Int

    public init(order: WorkOrder) {
        var lines: [Line] = []
        for record in order.liveChildren {
            let e = record.entry
            switch e.kind {
            case .part:
                let q = e.quantity ?? 0
                lines.append(Line(text: e.text, quantity: q, amountFen: q * (e.amountFen ?? 0)))
            case .charge:
                lines.append(Line(text: e.text, quantity: 1, amountFen: e.amountFen ?? 0))
            default:
                break
            }
        }
        self.lines = lines
        totalFen = lines.reduce(0) { $0 + $1.amountFen }
    }

    /// "123.45" from 12345 fen.
    public static func yuan(_ fen: Int) -> String {
        let sign = fen < 0 ? "-" : ""
        let a = abs(fen)
        let cents = a % 100
        return "\(sign)\(a / 100).\(cents < 10 ? "0" : "")\(cents)"
    }
}

/// SHA-256 as lower-case hex: photo and signature digests, content hashes.
public enum Digest {
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        Hex.string(SHA256.hash(data: bytes))
    }
}
