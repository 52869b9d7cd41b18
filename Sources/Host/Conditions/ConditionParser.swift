/// Parses the condition language: `field:value` terms; `NOT` binds tightest, then `AND`, then
/// `OR`; parentheses group; keywords in any case; values exact, with `*`/`?` globs, or `~text~`
/// to match contained text; double quotes let a value hold spaces and parentheses.
public struct ConditionParser {
    struct Token: Equatable {
        enum Kind: Equatable { case word(String), open, close, end }
        var kind: Kind
        var column: Int
    }

    private var tokens: [Token]
    private var position = 0
    /// Parentheses and NOTs open around the current token.
    private var depth = 0

    /// What a condition may hold. Every later stage (evaluation, printing, freeing) walks the
    /// parsed tree recursively; these bounds keep that recursion far from any thread's stack.
    public static let maximumLength = 4096
    public static let maximumTerms = 256
    public static let maximumNesting = 64

    /// Parses `text` or throws a `ConditionError` naming the column and what was expected.
    public static func parse(_ text: String) throws(ConditionError) -> Condition {
        guard text.count <= maximumLength else {
            throw ConditionError(
                column: maximumLength + 1, message: "the condition is longer than \(maximumLength) characters")
        }
        // A NUL or another control character can match no process name or label: a typo or worse.
        if let (offset, scalar) = text.unicodeScalars.enumerated().first(where: { ($0.element.value < 0x20 && $0.element != "\t") || $0.element.value == 0x7F }) {
            throw ConditionError(
                column: offset + 1,
                message: "a control character (\(QuotedInput.quote(String(scalar)))) in the condition")
        }
        let tokens = try tokenize(text)
        let terms = tokens.filter {
            if case .word(let word) = $0.kind { return !["AND", "OR", "NOT"].contains(word.uppercased()) }
            return false
        }
        if terms.count > maximumTerms {
            throw ConditionError(column: terms[maximumTerms].column, message: "more than \(maximumTerms) terms")
        }
        var parser = ConditionParser(tokens: tokens)
        if case .end = parser.peek.kind {
            throw ConditionError(column: 1, message: "empty condition; expected field:value")
        }
        let condition = try parser.parseOr()
        switch parser.peek.kind {
        case .end: return condition
        case .close: throw ConditionError(column: parser.peek.column, message: "unexpected ')' with no '(' before it")
        default:
            throw ConditionError(
                column: parser.peek.column, message: "expected AND or OR before '\(QuotedInput.quote(parser.peek.text))'")
        }
    }

    private var peek: Token { tokens[position] }

    private mutating func parseOr() throws(ConditionError) -> Condition {
        var left = try parseAnd()
        while let column = consumeKeyword("OR") {
            left = .or(left, try operand(after: "OR", column: column) { (p: inout ConditionParser) throws(ConditionError) in try p.parseAnd() })
        }
        return left
    }

    private mutating func parseAnd() throws(ConditionError) -> Condition {
        var left = try parseNot()
        while let column = consumeKeyword("AND") {
            left = .and(left, try operand(after: "AND", column: column) { (p: inout ConditionParser) throws(ConditionError) in try p.parseNot() })
        }
        return left
    }

    private mutating func parseNot() throws(ConditionError) -> Condition {
        if let column = consumeKeyword("NOT") {
            try enter(column)
            defer { depth -= 1 }
            return .not(try operand(after: "NOT", column: column) { (p: inout ConditionParser) throws(ConditionError) in try p.parseNot() })
        }
        return try parsePrimary()
    }

    /// One level deeper (a parenthesis, a NOT), refused past the limit.
    private mutating func enter(_ column: Int) throws(ConditionError) {
        depth += 1
        if depth > Self.maximumNesting {
            throw ConditionError(column: column, message: "nested deeper than \(Self.maximumNesting) levels")
        }
    }

    private mutating func parsePrimary() throws(ConditionError) -> Condition {
        let token = peek
        switch token.kind {
        case .open:
            position += 1
            try enter(token.column)
            defer { depth -= 1 }
            let inner = try parseOr()
            guard case .close = peek.kind else {
                throw ConditionError(column: token.column, message: "'(' is never closed")
            }
            position += 1
            return inner
        case .close:
            throw ConditionError(column: token.column, message: "expected field:value, found ')'")
        case .end:
            throw ConditionError(column: token.column, message: "expected field:value at the end")
        case .word(let word):
            if ["AND", "OR", "NOT"].contains(word.uppercased()) {
                throw ConditionError(column: token.column, message: "expected field:value before '\(QuotedInput.quote(word))'")
            }
            position += 1
            return .term(try TermParser.parse(word, column: token.column))
        }
    }

    /// Parses the operand of a binary or unary keyword, with a dangling-operator error.
    private mutating func operand(
        after keyword: String, column: Int,
        _ parse: (inout ConditionParser) throws(ConditionError) -> Condition
    ) throws(ConditionError) -> Condition {
        switch peek.kind {
        case .end, .close:
            throw ConditionError(column: column, message: "'\(keyword)' needs a condition after it")
        case .word(let word) where ["AND", "OR"].contains(word.uppercased()):
            throw ConditionError(column: peek.column, message: "'\(QuotedInput.quote(word))' cannot follow '\(keyword)'")
        default:
            return try parse(&self)
        }
    }

    private mutating func consumeKeyword(_ keyword: String) -> Int? {
        guard case .word(let word) = peek.kind, word.uppercased() == keyword else { return nil }
        position += 1
        return tokens[position - 1].column
    }

    /// Splits into words and parentheses; quotes keep spaces and parentheses inside a word.
    static func tokenize(_ text: String) throws(ConditionError) -> [Token] {
        var tokens: [Token] = []
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let column = index + 1
            if character.isWhitespace {
                index += 1
            } else if character == "(" || character == ")" {
                tokens.append(Token(kind: character == "(" ? .open : .close, column: column))
                index += 1
            } else {
                var word = ""
                while index < characters.count {
                    let next = characters[index]
                    if next.isWhitespace || next == "(" || next == ")" { break }
                    if next == "\"" {
                        guard let close = characters[(index + 1)...].firstIndex(of: "\"") else {
                            throw ConditionError(column: index + 1, message: "'\"' is never closed")
                        }
                        word += String(characters[(index + 1)..<close])
                        index = close + 1
                    } else {
                        word.append(next)
                        index += 1
                    }
                }
                tokens.append(Token(kind: .word(word), column: column))
            }
        }
        tokens.append(Token(kind: .end, column: characters.count + 1))
        return tokens
    }
}

extension ConditionParser.Token {
    var text: String {
        switch kind {
        case .word(let word): return word
        case .open: return "("
        case .close: return ")"
        case .end: return ""
        }
    }
}
