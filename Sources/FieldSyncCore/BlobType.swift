import Crypto

/// What a photo or signature file holds, told by its first bytes (never by its name):
/// a renamed `.exe` is not a JPEG, and a PNG called `sig.jpg` is still a PNG.
///
/// Photos may be JPEG, PNG, HEIC or PDF (a scanned form); signatures PNG or SVG (what a
/// signature pad exports). Device and server sniff with this one function.
public enum BlobType: String, Codable, Sendable, CaseIterable {
    case jpeg, png, heic, pdf, svg

    /// How many leading bytes ``sniff(_:)`` needs at most.
    public static let sniffLength = 512

    /// The MIME type served with the bytes and written into a report's `data:` URI.
    public var mimeType: String {
        switch self {
        case .jpeg: "image/jpeg"
        case .png: "image/png"
        case .heic: "image/heic"
        case .pdf: "application/pdf"
        case .svg: "image/svg+xml"
        }
    }

    /// The type of a file whose first bytes are `head` (up to ``sniffLength``), or nil.
    public static func sniff(_ head: some Collection<UInt8>) -> BlobType? {
        let bytes = Array(head.prefix(sniffLength))
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + magic.count && Array(bytes[offset..<offset + magic.count]) == magic
        }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(Array("%PDF-".utf8)) { return .pdf }
        // ISO base media: size(4) "ftyp" brand(4); HEIF brands of still images.
        if starts(Array("ftyp".utf8), at: 4), bytes.count >= 12 {
            let brand = String(decoding: bytes[8..<12], as: UTF8.self)
            if ["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"].contains(brand) { return .heic }
            return nil
        }
        // SVG: text whose first element is <svg>, after an optional BOM, XML declaration,
        // comments and doctype.
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        var rest = Substring(text)
        while true {
            rest = rest.drop { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
            if rest.hasPrefix("<?") || rest.hasPrefix("<!") {
                let end = rest.hasPrefix("<!--") ? "-->" : ">"
                guard let close = rest.range(of: end) else { return nil }
                rest = rest[close.upperBound...]
                continue
            }
            break
        }
        if rest.hasPrefix("<svg") { return .svg }
        return nil
    }

    /// What a file is for; each purpose accepts its own types.
    public enum Purpose: String, Sendable {
        case photo, signature

        /// The types a file for this purpose may have.
        public var allowed: [BlobType] {
            switch self {
            case .photo: [.jpeg, .png, .heic, .pdf]
            case .signature: [.png, .svg]
            }
        }

        /// What the person is told when a file has another type.
        public func refusal(found: BlobType?) -> String {
            let names = allowed.map { $0.rawValue.uppercased() }.joined(separator: ", ")
            let what = found.map { "a \($0.rawValue.uppercased()) file" } ?? "not a file type FieldSync keeps"
            return "a \(rawValue) must be \(names) (checked by its content); this is \(what): export it as \(allowed[0].rawValue.uppercased()) and try again"
        }
    }

    /// The largest photo or signature a device records and a server stores when none is configured.
    public static let defaultMaxBytes: Int64 = 20 * 1024 * 1024

    /// Whether `text` can be a blob's address: 64 lower-case hex digits.
    public static func isDigest(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// SHA-256 over bytes that arrive in pieces (a file read in chunks, an upload's body), so
/// no one holds a whole photo in memory to hash it.
public struct StreamingSHA256 {
    private var hasher = SHA256()

    public init() {}

    /// Adds the next bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    /// Adds the next bytes.
    public mutating func update(_ bytes: [UInt8]) { hasher.update(data: bytes) }

    /// The digest of everything added, as lower-case hex.
    public func hexDigest() -> String { Hex.string(hasher.finalize()) }
}
