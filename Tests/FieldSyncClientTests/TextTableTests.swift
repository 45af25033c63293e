import FieldSyncClient
import Testing

/// Output that lines up with Chinese text: a CJK character takes two terminal columns.
@Suite struct TextTableTests {
    @Test func chineseCellsCountTwoColumnsEach() {
        #expect(TextTable.width("abc") == 3)
        #expect(TextTable.width("市第一人民医院") == 14)
        #expect(TextTable.width("解放路 18 号") == 12)
        #expect(TextTable.width("e\u{301}") == 1)  // e + combining acute: the mark takes no column
    }

    @Test func columnsLineUpWhateverTheScript() {
        var table = TextTable(["ORDER", "CUSTOMER", "STATUS"])
        table.add(["WO-1", "市第一人民医院", "on_site 到达现场"])
        table.add(["WO-22", "Li", "assigned"])
        let lines = table.render().split(separator: "\n").map(String.init)
        // The third column starts at the same display column on every line.
        let starts = lines.map { line -> Int in
            var col = 0
            var spaces = 0
            var field = 0
            for ch in line {
                if ch == " " { spaces += 1 } else {
                    if spaces >= 2 { field += 1; if field == 2 { return col } }
                    spaces = 0
                }
                col += TextTable.width(String(ch))
            }
            return -1
        }
        // "WO-22" (5) + 2 spaces + "市第一人民医院" (14) + 2 spaces
        #expect(starts == [23, 23, 23])
    }

    @Test func truncationKeepsWithinTheColumns() {
        let cut = TextTable.truncate("和平小区 3 栋 2 单元 501 室 北卧", columns: 12)
        #expect(TextTable.width(cut) <= 12)
        #expect(cut.hasSuffix("…"))
        #expect(TextTable.truncate("short", columns: 12) == "short")
    }
}
