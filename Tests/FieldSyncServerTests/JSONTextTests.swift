import Foundation
import Testing

@testable import FieldSyncServer

/// The quoting the server uses where it writes JSON by hand (pull pages, the JSON log).
@Suite struct JSONTextTests {
    @Test func quotedTextReadsBackAsItself() throws {
        var generator = SeededRNG(state: 11)
        let pieces = ["WO-261207-24-002", "王国庆", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1f}", "/", " ", "é", "😀", "a"]
        var texts = ["", "WO-SCALE-0000001", "和平区 解放路 1 号", "say \"hi\"", "C:\\temp", "line\nline", "\u{7}bell"]
        for _ in 0..<500 {
            texts.append((0..<Int.random(in: 0...12, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined())
        }
        for text in texts {
            let quoted = JSONText.quoted(text)
            // Valid JSON for a string holding exactly the text...
            let read = try JSONDecoder().decode(String.self, from: Data(quoted.utf8))
            #expect(read == text, "\(quoted)")
            // ...with nothing below U+0020 left raw.
            #expect(!quoted.unicodeScalars.contains { $0.value < 0x20 }, "\(quoted)")
        }
        // Text that needs no escape is quoted as it is.
        #expect(JSONText.quoted("WO-1 王") == "\"WO-1 王\"")
    }
}
