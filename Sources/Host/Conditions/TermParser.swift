/// Parses one `field:value` term and checks its value against the field.
enum TermParser {
    static func parse(_ word: String, column: Int) throws(ConditionError) -> Condition.Term {
        guard let colon = word.firstIndex(of: ":") else {
            throw ConditionError(column: column, message: "expected field:value, found '\(QuotedInput.quote(word))'")
        }
        let name = String(word[..<colon])
        let value = String(word[word.index(after: colon)...])
        let valueColumn = column + name.count + 1
        guard let field = Condition.Field(rawValue: name.lowercased()) else {
            let known = Condition.Field.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConditionError(column: column, message: "unknown field '\(QuotedInput.quote(name))'; expected one of \(known)")
        }
        guard !value.isEmpty else {
            throw ConditionError(column: valueColumn, message: "empty value for \(field.rawValue)")
        }
        let pattern = try pattern(value, column: valueColumn)
        try check(pattern, for: field, column: valueColumn)
        return Condition.Term(field: field, pattern: pattern)
    }

    static func pattern(_ value: String, column: Int) throws(ConditionError) -> Condition.Pattern {
        if value.count >= 2, value.hasPrefix("~"), value.hasSuffix("~") {
            let inner = String(value.dropFirst().dropLast())
            guard !inner.isEmpty else { throw ConditionError(column: column, message: "empty text inside ~~") }
            return .contains(inner)
        }
        return value.contains("*") || value.contains("?") ? .glob(value) : .exact(value)
    }

    static func check(_ pattern: Condition.Pattern, for field: Condition.Field, column: Int) throws(ConditionError) {
        switch (field, pattern) {
        case (.processPID, .exact(let text)):
            guard UInt32(text) != nil else {
                throw ConditionError(column: column, message: "process.pid needs a number, found '\(QuotedInput.quote(text))'")
            }
        case (.processPID, _):
            throw ConditionError(column: column, message: "process.pid needs a number, not a pattern")
        case (let capabilityField, .exact(let name)) where capabilityField.isCapability:
            guard CapabilityNames.number(of: name) != nil else {
                throw ConditionError(
                    column: column,
                    message: "unknown capability '\(QuotedInput.quote(name))' for \(field.rawValue); expected a name like CAP_NET_RAW or ~NET~")
            }
        case (.containerID, .exact(let id)):
            guard id.count >= 12, id.count <= 64, id.allSatisfy(\.isHexDigit) else {
                throw ConditionError(
                    column: column, message: "container.id needs the whole id or a prefix of at least 12 hex digits")
            }
        default:
            break
        }
    }
}
