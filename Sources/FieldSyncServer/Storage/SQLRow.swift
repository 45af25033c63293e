/// One row of a result: its values by column name, as either engine returned them.
public struct SQLRow: Sendable {
    /// Column names, in select order.
    public let columns: [String]
    /// Values, one per column.
    public let values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The raw value of `column` (NULL for a column the row does not have).
    public func value(_ column: String) -> SQLValue {
        guard let index = columns.firstIndex(of: column) else { return .null }
        return values[index]
    }

    /// The value of `column`, which must be present and of type `T`.
    /// - Throws: ``StorageError`` naming the column when it is NULL or of another kind.
    public subscript<T: SQLValueConvertible>(_ column: String) -> T {
        get throws {
            guard let value = T(sqlValue: value(column)) else {
                throw StorageError.badColumn(column, expected: String(describing: T.self), found: value(column))
            }
            return value
        }
    }

    /// The value of `column`, nil when it is NULL.
    /// - Throws: ``StorageError`` when it holds a value of another kind.
    public subscript<T: SQLValueConvertible>(_ column: String) -> T? {
        get throws {
            let raw = value(column)
            if raw == .null { return nil }
            guard let value = T(sqlValue: raw) else {
                throw StorageError.badColumn(column, expected: String(describing: T.self), found: raw)
            }
            return value
        }
    }
}
