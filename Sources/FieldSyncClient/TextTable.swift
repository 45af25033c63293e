/// Plain-text tables that line up with Chinese text: a CJK character takes two terminal
/// columns, so padding counts display width, not characters.
public struct TextTable {
    public var header: [String]
    public var rows: [[String]] = []

    public init(_ header: [String]) { self.header = header }

    public mutating func add(_ row: [String]) { rows.append(row) }

    /// The table, one line per row, columns separated by two spaces; the last column is
    /// not padded.
    public func render() -> String {
        let all = [header] + rows
        var widths = Array(repeating: 0, count: header.count)
        for row in all {
            for (i, cell) in row.enumerated() where i < widths.count {
                widths[i] = max(widths[i], Self.width(cell))
            }
        }
        return all.map { row in
            var line = ""
            for (i, cell) in row.enumerated() where i < widths.count {
                line += cell
                if i < widths.count - 1 {
                    line += String(repeating: " ", count: widths[i] - Self.width(cell) + 2)
                }
            }
            return line
        }.joined(separator: "\n")
    }

    /// Terminal columns `text` takes: 2 for East Asian wide and full-width characters,
    /// 0 for combining marks, 1 otherwise.
    public static func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + width(of: $1) }
    }

    static func width(of scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v == 0 { return 0 }
        if scalar.properties.generalCategory == .nonspacingMark
            || scalar.properties.generalCategory == .enclosingMark || v == 0x200B
        {
            return 0
        }
        switch v {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF,
             0x4E00...0x9FFF, 0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF,
             0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
             0x1F900...0x1F9FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    /// Cuts `text` to at most `columns` display columns, marking the cut with "…".
    public static func truncate(_ text: String, columns: Int) -> String {
        guard width(text) > columns else { return text }
        var out = ""
        var used = 0
        for ch in text {
            let w = width(String(ch))
            if used + w > columns - 1 { break }
            out.append(ch)
            used += w
        }
        return out + "…"
    }
}
