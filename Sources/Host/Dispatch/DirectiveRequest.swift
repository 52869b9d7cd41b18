/// What a user asks for: whose syscalls (`-c`) and which tasks with which options (`-t`).
public struct DirectiveRequest: Sendable, Equatable {
    public var conditions: String
    public var tasks: [TaskSpec]

    public init(conditions: String, tasks: [TaskSpec]) {
        self.conditions = conditions
        self.tasks = tasks
    }
}

/// A directive the host refused, in one line that says what was wrong and where.
public struct DirectiveError: Error, Equatable, CustomStringConvertible {
    public let description: String
    /// The request was fine but the machine could not run it (no privilege to load BPF...).
    public let isEnvironmental: Bool
    public init(_ description: String, isEnvironmental: Bool = false) {
        self.description = description
        self.isEnvironmental = isEnvironmental
    }

    /// Tracing has closed (the daemon is stopping): no directive starts any more.
    public static let stopping = DirectiveError("tawon is stopping: no directive starts now", isEnvironmental: true)

    /// The seed's rule: tasks do not run without a condition.
    public static let missingCondition = DirectiveError(
        "a directive needs a condition (-c): tasks won't run without at least one condition;"
            + " any will do, e.g. -c \"process.name:*\"")
}

/// A running directive as the host reports it.
public struct DirectiveSummary: Sendable, Equatable, Codable {
    public var id: String
    public var conditions: String
    public var tasks: [String]
    /// Syscall numbers hooked.
    public var functions: [Int]
    /// What the user should know about the directive though it runs (a field no source here
    /// can supply), one line each.
    public var warnings: [String] = []

    public init(id: String, conditions: String, tasks: [String], functions: [Int], warnings: [String] = []) {
        self.id = id
        self.conditions = conditions
        self.tasks = tasks
        self.functions = functions
        self.warnings = warnings
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        conditions = try container.decode(String.self, forKey: .conditions)
        tasks = try container.decode([String].self, forKey: .tasks)
        functions = try container.decode([Int].self, forKey: .functions)
        warnings = try container.decodeIfPresent([String].self, forKey: .warnings) ?? []
    }
}

/// User input quoted back in an error: cut to a readable length, control characters escaped,
/// so a huge or hostile input gives a one-line error, not a copy of itself.
public enum QuotedInput {
    public static let limit = 80

    public static func quote(_ text: String, limit: Int = QuotedInput.limit) -> String {
        var clipped = ""
        for scalar in text.unicodeScalars.prefix(limit) {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                clipped += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
            } else if (scalar.properties.isWhitespace && scalar.value > 0xFF) || scalar.properties.generalCategory == .format {
                // Line and paragraph separators break a line too; format characters hide or reorder text.
                clipped += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                clipped.unicodeScalars.append(scalar)
            }
        }
        return text.unicodeScalars.count > limit ? clipped + "…" : clipped
    }

    /// A message of several lines (a parser's) as one quoted line.
    public static func oneLine(_ text: String, limit: Int = QuotedInput.limit) -> String {
        quote(text.split(whereSeparator: \.isNewline).joined(separator: "; "), limit: limit)
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
