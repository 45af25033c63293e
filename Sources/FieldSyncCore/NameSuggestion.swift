/// "Did you mean …?" for a mistyped user name: the few known names closest to it.
///
/// The CLI (before recording an assign) and the server (refusing one with
/// `unknown_technician`) both call this, so a dispatcher gets the same suggestions from
/// either. Closeness is the Levenshtein distance between the lower-cased names, counted in
/// characters, so `li-ming` finds `li-min` and `Liming`, and `王五` finds `王武`.
///
/// ```swift
/// NameSuggestion.closest(to: "li-ming", among: ["li-min", "liming", "wang"])  // ["li-min", "liming"]
/// ```
public enum NameSuggestion {
    /// At most this many names are suggested.
    public static let maxSuggestions = 3

    /// The known names within reach of `name`, closest first (ties by name), at most
    /// ``maxSuggestions``.
    ///
    /// Within reach means a distance of at most max(2, length of `name` ÷ 3): two typos
    /// in a short name, more in a long one, but never a name that merely shares a letter.
    public static func closest(to name: String, among known: [String]) -> [String] {
        let typed = Array(name.lowercased())
        let reach = max(2, typed.count / 3)
        return Set(known)
            .map { (name: $0, distance: distance(typed, Array($0.lowercased()))) }
            .filter { $0.distance <= reach }
            .sorted { ($0.distance, $0.name) < ($1.distance, $1.name) }
            .prefix(maxSuggestions)
            .map(\.name)
    }

    /// The Levenshtein distance between `a` and `b`, case-insensitive: the fewest
    /// single-character insertions, deletions and substitutions from one to the other.
    public static func distance(_ a: String, _ b: String) -> Int {
        distance(Array(a.lowercased()), Array(b.lowercased()))
    }

    /// The message for a name that is not an enabled technician, shared by the CLI and
    /// the server: what is wrong, the closest names, and the command that lists them.
    ///
    /// - Parameters:
    ///   - problem: what is wrong with the name; default "no technician 'NAME'".
    ///   - known: the enabled technicians' names, to suggest from.
    public static func unknownTechnicianMessage(
        _ name: String, problem: String? = nil, known: [String]
    ) -> String {
        let problem = problem ?? "no technician '\(name)'"
        let list = "`fieldsync dispatch technicians`"
        let suggestions = closest(to: name, among: known)
        if suggestions.isEmpty { return "\(problem): list the technicians with \(list)" }
        return "\(problem): did you mean \(suggestions.joined(separator: ", "))? List them with \(list)"
    }

    /// Two-row dynamic programming: O(|a|·|b|) time, O(|b|) memory.
    private static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
