/// An operator's command (`backup`, `migrate`) could not do its work; nothing was changed.
///
/// The message names the file and the fix; it never holds user data.
public struct MaintenanceError: Error, Sendable, CustomStringConvertible {
    /// The file concerned.
    public var path: String
    /// One line naming the file and the fix; printed as is by `fieldsync-server`.
    public var message: String
    /// The error GRDB or the file system reported.
    public var cause: (any Error)?

    public init(path: String, message: String, cause: (any Error)? = nil) {
        self.path = path
        self.message = message
        self.cause = cause
    }

    /// The message, for command-line output and logs.
    public var description: String { message }
}
