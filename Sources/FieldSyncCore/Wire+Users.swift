/// `GET /v1/technicians`: the people a dispatcher may assign orders to.
///
/// The CLI fetches it before recording an assign, so a mistyped name is refused at once
/// with suggestions instead of reaching the server as an intent it will refuse.
public struct TechnicianList: Codable, Sendable, Equatable {
    /// By name. Enabled technicians only, unless the request asked for all.
    public var technicians: [Technician]

    public init(technicians: [Technician]) { self.technicians = technicians }

    /// The names of the technicians orders can be assigned to now.
    public var assignable: [String] { technicians.filter(\.active).map(\.name) }
}

/// One technician's account.
public struct Technician: Codable, Sendable, Equatable {
    /// The user name an `assign` names.
    public var name: String
    /// False once an administrator disabled the account (`fieldsync-server user disable`):
    /// the token no longer works and orders cannot be assigned to them.
    public var active: Bool

    public init(name: String, active: Bool) {
        self.name = name
        self.active = active
    }
}
