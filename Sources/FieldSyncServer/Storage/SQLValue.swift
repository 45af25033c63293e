/// A value bound to, or read from, a statement of either storage engine: the four kinds
/// both SQLite and PostgreSQL columns of the server's schema hold (booleans are stored as
/// 0 and 1 on both, so every query reads the same on both).
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

/// A Swift value that binds to and reads from a ``SQLValue``.
public protocol SQLValueConvertible: Sendable {
    var sqlValue: SQLValue { get }
    /// The value, or nil when `value` is NULL or of another kind.
    init?(sqlValue value: SQLValue)
}

extension Int64: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(self) }
    public init?(sqlValue value: SQLValue) {
        switch value {
        case .integer(let int): self = int
        case .real(let real) where real == real.rounded() && abs(real) < 9.2e18: self = Int64(real)
        default: return nil
        }
    }
}

extension Int: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public init?(sqlValue value: SQLValue) {
        guard let int = Int64(sqlValue: value) else { return nil }
        self = Int(int)
    }
}

extension Bool: SQLValueConvertible {
    public var sqlValue: SQLValue { .integer(self ? 1 : 0) }
    public init?(sqlValue value: SQLValue) {
        guard let int = Int64(sqlValue: value) else { return nil }
        self = int != 0
    }
}

extension Double: SQLValueConvertible {
    public var sqlValue: SQLValue { .real(self) }
    public init?(sqlValue value: SQLValue) {
        switch value {
        case .real(let real): self = real
        case .integer(let int): self = Double(int)
        default: return nil
        }
    }
}

extension String: SQLValueConvertible {
    public var sqlValue: SQLValue { .text(self) }
    public init?(sqlValue value: SQLValue) {
        guard case .text(let text) = value else { return nil }
        self = text
    }
}

extension SQLValue: SQLValueConvertible {
    public var sqlValue: SQLValue { self }
    public init?(sqlValue value: SQLValue) { self = value }
}

/// The arguments of a statement, in the order of its `?` marks: `[id, nil, 3]`.
public typealias SQLArguments = [(any SQLValueConvertible)?]

extension Array where Element == (any SQLValueConvertible)? {
    var sqlValues: [SQLValue] { map { $0?.sqlValue ?? .null } }
}
