/// Who acts on a work order. Every field and every transition has exactly one owning role.
public enum Role: String, Codable, Sendable, CaseIterable {
    /// A repair crew member on site (维修人员); works offline.
    case technician
    /// A call-centre agent or dispatcher (客服 / 调度); opens, assigns and follows orders.
    case dispatcher
}
