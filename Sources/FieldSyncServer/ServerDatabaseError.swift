/// The server's database file could not be opened or migrated.
///
/// The message names the file and the fix; it never holds user data.
public struct ServerDatabaseError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable code.
    public enum Code: String, Sendable {
        /// The file exists but is not an SQLite database (or is damaged).
        case notADatabase = "not_a_database"
        /// The directory or file could not be created or opened.
        case cannotOpen = "cannot_open"
        /// The database was written by a newer release than this one.
        case tooNew = "too_new"
    }

    /// What went wrong.
    public var code: Code
    /// The database file concerned.
    public var path: String
    /// One line naming the file and the fix; printed as is by `fieldsync-server`.
    public var message: String
    /// The error GRDB or the file system reported.
    public var cause: (any Error)?

    /// Creates an error; `message` must name the file and say what to do.
    public init(code: Code, path: String, message: String, cause: (any Error)? = nil) {
        self.code = code
        self.path = path
        self.message = message
        self.cause = cause
    }

    /// The message, for command-line output and logs.
    public var description: String { message }
}
