/// "Did you mean" for mistyped names.
enum NameSuggestion {
    /// Names longer than this are not compared (the cost grows with the product of the lengths).
    static let longestCompared = 64
    /// The candidate nearest to `name` by edit distance, ignoring '_' and case, when close enough.
    static func closest(to name: String, among candidates: [String]) -> String? {
        let target = normalized(name)
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(target, normalized(candidate))
            if distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        guard let best, best.distance <= max(1, target.count / 3) else { return nil }
        return best.name
    }

    private static func normalized(_ text: String) -> [Character] {
        Array(text.lowercased().filter { $0 != "_" })
    }

    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
