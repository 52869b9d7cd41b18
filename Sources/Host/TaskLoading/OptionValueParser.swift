/// Parses the text of a task option into its registered type.
public enum OptionValueParser {
    /// A parsed value.
    public enum Value: Sendable, Equatable {
        case string(String)
        case bool(Bool)
        case int64(Int64)
    }

    /// Parses `text` as `type`, or says what was expected.
    public static func parse(
        _ text: String, as type: TaskDescription.OptionType
    ) -> Result<Value, OptionValueError> {
        switch type {
        case .string:
            return .success(.string(text))
        case .bool:
            switch text.lowercased() {
            case "true": return .success(.bool(true))
            case "false": return .success(.bool(false))
            default: return .failure(OptionValueError(text: text, expected: "true or false"))
            }
        case .int64:
            guard let value = Int64(text) else {
                return .failure(OptionValueError(text: text, expected: "a whole number"))
            }
            return .success(.int64(value))
        }
    }
}

/// An option value that does not parse as its type.
public struct OptionValueError: Error, Equatable, CustomStringConvertible {
    public let text: String
    public let expected: String

    public init(text: String, expected: String) {
        self.text = text
        self.expected = expected
    }

    public var description: String { "'\(QuotedInput.quote(text))' is not \(expected)" }
}
