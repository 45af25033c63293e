/// A scalar field of a work order. Each has exactly one owning role (DESIGN.md §2).
public enum OrderField: String, Codable, Sendable, CaseIterable {
    // Opened by the call centre (dispatcher-owned).
    case kind
    case urgency
    case customerName = "customer_name"
    case customerPhone = "customer_phone"
    case address
    case symptom
    case customerTier = "customer_tier"
    case specialNeeds = "special_needs"
    case responseDeadline = "response_deadline"
    // Recorded on site (technician-owned).
    case diagnosis
    case workDone = "work_done"
    case boundary
    case labourMinutes = "labour_minutes"

    /// Each field's name as UTF-8, in ``allCases``' order: JSON keys are matched against
    /// these without becoming `String`s.
    public static let wireNames: [[UInt8]] = allCases.map { Array($0.rawValue.utf8) }

    /// Hashes the field's position among the cases. (The default for a `String`-backed
    /// enum hashes the name's bytes: every order of a first sync is read into, and folded
    /// from, a dictionary by field.)
    public func hash(into hasher: inout Hasher) {
        hasher.combine(ordinal)
    }

    /// The field's position in ``allCases``.
    public var ordinal: Int {
        switch self {
        case .kind: 0
        case .urgency: 1
        case .customerName: 2
        case .customerPhone: 3
        case .address: 4
        case .symptom: 5
        case .customerTier: 6
        case .specialNeeds: 7
        case .responseDeadline: 8
        case .diagnosis: 9
        case .workDone: 10
        case .boundary: 11
        case .labourMinutes: 12
        }
    }

    /// The only role whose edits of this field are applied.
    public var owner: Role {
        switch self {
        case .diagnosis, .workDone, .boundary, .labourMinutes: .technician
        default: .dispatcher
        }
    }

    /// Whether a customer sign-off covers (and so freezes) this field.
    public var coveredBySignOff: Bool {
        switch self {
        case .workDone, .boundary, .labourMinutes, .diagnosis: true
        default: false
        }
    }

    /// Checks a value before it is recorded; returns a message naming the fix, or nil.
    public func problem(with value: String?) -> String? {
        guard let value else {
            return self == .kind || self == .urgency || self == .customerName
                ? "\(rawValue) cannot be cleared" : nil
        }
        if value.utf8.count > 4000 { return "\(rawValue) is longer than 4000 bytes: shorten it" }
        switch self {
        case .kind:
            return OrderKind(rawValue: value) == nil
                ? "kind must be one of \(OrderKind.allCases.map(\.rawValue).joined(separator: ", "))" : nil
        case .urgency:
            return Int(value).map { (1...3).contains($0) } == true
                ? nil : "urgency must be 1 (emergency), 2 or 3 (routine)"
        case .customerTier:
            return CustomerTier(rawValue: value) == nil
                ? "customer_tier must be one of \(CustomerTier.allCases.map(\.rawValue).joined(separator: ", "))" : nil
        case .boundary:
            return BoundarySide(rawValue: value) == nil
                ? "boundary must be one of \(BoundarySide.allCases.map(\.rawValue).joined(separator: ", "))" : nil
        case .labourMinutes:
            return Int(value).map { (0...10_000).contains($0) } == true
                ? nil : "labour_minutes must be a whole number of minutes from 0 to 10000"
        case .responseDeadline:
            return Int64(value) == nil ? "response_deadline must be milliseconds since 1970" : nil
        default:
            return nil
        }
    }
}

/// What kind of work an order is (heating seed, 第一章 / 第四章).
public enum OrderKind: String, Codable, Sendable, CaseIterable {
    case repair, installation, change, supply, complaint, inspection
}

/// Customer tier from the management seed: key customers are handled first.
public enum CustomerTier: String, Codable, Sendable, CaseIterable {
    case vip, major, normal, small
}

/// Which side of the property boundary (产权分界) the fault lies on.
public enum BoundarySide: String, Codable, Sendable, CaseIterable {
    case customer, utility, undetermined
}
