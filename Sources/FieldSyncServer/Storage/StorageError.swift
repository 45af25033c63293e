/// A failure of the storage layer that is not a plain SQL error of the engine.
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable {
        /// The database does not answer (connection refused, lost, timed out): the request
        /// may succeed later, so the server answers 503.
        case unavailable
        /// A stored value is not what the schema says (a damaged or foreign database).
        case badValue
        /// A statement of the engine failed.
        case statement
    }

    public var code: Code
    public var message: String

    public var description: String { message }

    static func badColumn(_ column: String, expected: String, found: SQLValue) -> StorageError {
        StorageError(code: .badValue, message: "column \(column) holds \(found), not a \(expected): the database is damaged or not a FieldSync server database")
    }

    static func unavailable(_ message: String) -> StorageError {
        StorageError(code: .unavailable, message: message)
    }
}
