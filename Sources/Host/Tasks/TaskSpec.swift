import Foundation

/// One `-t` argument of a directive: `TASK|name:value;name:value`.
public struct TaskSpec: Sendable, Equatable {
    public var taskName: String
    /// Options in the order given. A value may contain ':' (only the first one splits).
    public var options: [(name: String, value: String)]

    public init(taskName: String, options: [(name: String, value: String)] = []) {
        self.taskName = taskName
        self.options = options
    }

    /// Parses the text of a `-t` argument, or says what is wrong and where.
    public static func parse(_ text: String) throws(TaskSpecError) -> TaskSpec {
        let parts = text.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
        let taskName = parts[0].trimmingCharacters(in: .whitespaces)
        guard !taskName.isEmpty else { throw TaskSpecError("-t \"\(QuotedInput.quote(text))\": no task name before '|'") }
        var spec = TaskSpec(taskName: taskName)
        guard parts.count == 2 else { return spec }
        for item in parts[1].split(separator: ";", omittingEmptySubsequences: true) {
            let pair = item.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let name = pair[0].trimmingCharacters(in: .whitespaces)
            guard pair.count == 2, !name.isEmpty else {
                throw TaskSpecError("-t \"\(QuotedInput.quote(text))\": option '\(QuotedInput.quote(String(item)))' is not name:value")
            }
            if spec.options.contains(where: { $0.name == name }) {
                throw TaskSpecError("-t \"\(QuotedInput.quote(text))\": option '\(QuotedInput.quote(name))' is given twice")
            }
            spec.options.append((name, pair[1].trimmingCharacters(in: .whitespaces)))
        }
        return spec
    }

    public static func == (lhs: TaskSpec, rhs: TaskSpec) -> Bool {
        lhs.taskName == rhs.taskName && lhs.options.elementsEqual(rhs.options) { $0 == $1 }
    }
}

/// A `-t` argument that does not parse.
public struct TaskSpecError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
