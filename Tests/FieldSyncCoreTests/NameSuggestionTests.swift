import FieldSyncCore
import Testing

@Suite("name suggestions")
struct NameSuggestionTests {
    @Test(arguments: [
        ("", "", 0), ("li", "li", 0), ("LiMing", "liming", 0), ("kitten", "sitting", 3),
        ("li-ming", "li-min", 1), ("li-ming", "liming", 1), ("alcie", "alice", 2), ("", "bob", 3),
        ("王五", "王武", 1), ("flaw", "lawn", 2),
    ])
    func distanceIsLevenshteinIgnoringCase(a: String, b: String, expected: Int) {
        #expect(NameSuggestion.distance(a, b) == expected)
        #expect(NameSuggestion.distance(b, a) == expected)
    }

    @Test func theClosestNamesComeFirstTiesByName() {
        let known = ["wang", "liming", "li-min", "li-ning", "zhao", "li"]

        #expect(NameSuggestion.closest(to: "li-ming", among: known) == ["li-min", "li-ning", "liming"])
        #expect(NameSuggestion.closest(to: "WANG", among: known) == ["wang"])
    }

    @Test func onlyNamesWithinReachAreSuggestedAtMostThree() {
        // Reach is max(2, length ÷ 3): 2 for short names, 4 for a 12-character one.
        #expect(NameSuggestion.closest(to: "bob", among: ["alice", "li"]) == [])
        #expect(NameSuggestion.closest(to: "bo", among: ["alice", "li"]) == ["li"])
        #expect(NameSuggestion.closest(to: "zhangsanfeng", among: ["zhangsan", "zhang"]) == ["zhangsan"])
        #expect(NameSuggestion.closest(to: "ab", among: ["a", "b", "abc", "abd", "xy"]).count == 3)
        #expect(NameSuggestion.closest(to: "x", among: ["x", "x"]) == ["x"])
        #expect(NameSuggestion.closest(to: "*", among: ["alice", "bob"]) == [])
    }

    @Test func theMessageNamesTheSuggestionsAndTheListCommand() {
        let known = ["li-min", "liming", "wang"]

        #expect(
            NameSuggestion.unknownTechnicianMessage("li-ming", known: known)
                == "no technician 'li-ming': did you mean li-min, liming? List them with `fieldsync dispatch technicians`")
        #expect(
            NameSuggestion.unknownTechnicianMessage("nobody-here", known: known)
                == "no technician 'nobody-here': list the technicians with `fieldsync dispatch technicians`")
        #expect(
            NameSuggestion.unknownTechnicianMessage("wamg", problem: "technician wamg is disabled", known: known)
                == "technician wamg is disabled: did you mean wang? List them with `fieldsync dispatch technicians`")
    }
}
