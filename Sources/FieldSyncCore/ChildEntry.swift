/// An append-only line of an order: a visit log entry, a part, a charge, a photo
/// reference or a reading. A mistake is corrected with a void, never by deleting.
public struct ChildEntry: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case log, part, charge, photo, reading
    }

    /// Chosen by the device that wrote it (a UUID); unique within the order.
    public var id: String
    public var kind: Kind
    /// Log text, part name, charge description, photo caption or reading name.
    public var text: String
    /// Part code (配件编号).
    public var code: String?
    /// Count of parts.
    public var quantity: Int?
    /// Unit price of a part or amount of a charge, in fen (分, 1/100 yuan).
    public var amountFen: Int?
    /// SHA-256 (hex) of a photo's bytes.
    public var digest: String?
    /// A reading's value as read off the meter.
    public var value: String?
    public var unit: String?

    public init(
        id: String, kind: Kind, text: String, code: String? = nil, quantity: Int? = nil,
        amountFen: Int? = nil, digest: String? = nil, value: String? = nil, unit: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.text = text
        self.code = code
        self.quantity = quantity
        self.amountFen = amountFen
        self.digest = digest
        self.value = value
        self.unit = unit
    }

    /// Whether a customer sign-off covers (and so freezes) lines of this kind.
    public var coveredBySignOff: Bool {
        switch kind {
        case .part, .charge, .photo: true
        case .log, .reading: false
        }
    }

    /// The role allowed to append lines of this kind: logs from both, the rest on site.
    public func allowed(for role: Role) -> Bool {
        kind == .log || role == .technician
    }

    /// Checks the line before it is recorded; returns a message naming the fix, or nil.
    public var problem: String? {
        if id.isEmpty || id.utf8.count > 64 { return "a line id must be 1 to 64 characters" }
        if text.trimmingWhitespace.isEmpty { return "\(kind.rawValue) text is empty: say what it is" }
        if text.utf8.count > 4000 { return "\(kind.rawValue) text is longer than 4000 bytes" }
        switch kind {
        case .part:
            guard let quantity, quantity > 0, quantity <= 10_000 else {
                return "a part needs a quantity from 1 to 10000"
            }
            if let amountFen, amountFen < 0 { return "a part's unit price cannot be negative" }
        case .charge:
            guard let amountFen, amountFen >= 0, amountFen <= 100_000_000 else {
                return "a charge needs an amount in fen from 0 to 100000000"
            }
        case .photo:
            guard let digest, digest.count == 64, digest.allSatisfy(\.isHexDigit) else {
                return "a photo needs its SHA-256 digest (64 hex characters)"
            }
        case .reading:
            if value?.isEmpty != false { return "a reading needs a value" }
        case .log:
            break
        }
        return nil
    }
}

extension String {
    /// The string without leading and trailing white space (no Foundation needed).
    public var trimmingWhitespace: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
