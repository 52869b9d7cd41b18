extension TaskDescription {
    /// Type names an output field may use; `a|b` unions of them are allowed too.
    public static let outputFieldTypes: Set<String> = [
        "string", "bool", "int32", "int64", "uint32", "uint64", "double", "bytes", "timestamp",
        "map", "list",
    ]

    /// The most arguments a function can have (a syscall's register arguments).
    static let maximumArguments = 6

    /// Checks what the task registered and returns the first problem, in words, or nil.
    func problem() -> String? {
        nameProblem() ?? functionProblem() ?? capabilitySetProblem() ?? outputFieldProblem()
            ?? optionProblem()
    }

    private func nameProblem() -> String? {
        if name.isEmpty { return "registered an empty task name" }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_-")
        if !name.allSatisfy(allowed.contains) {
            return "task name '\(name)' may hold only a-z, 0-9, '_' and '-'"
        }
        if version.isEmpty { return "task '\(name)' registered no version" }
        if description.isEmpty { return "task '\(name)' registered no description" }
        return nil
    }

    private func functionProblem() -> String? {
        if let name = firstDuplicate(functions.map(\.name)) {
            return "function '\(name)' is registered twice"
        }
        if let id = firstDuplicate(functions.map(\.id)) {
            return "function id \(id) is registered twice"
        }
        for function in functions {
            if function.name.isEmpty { return "a function (id \(function.id)) has an empty name" }
            if function.arguments.count > Self.maximumArguments {
                return "function '\(function.name)' has \(function.arguments.count) arguments"
                    + " (at most \(Self.maximumArguments))"
            }
        }
        return nil
    }

    private func capabilitySetProblem() -> String? {
        if let name = firstDuplicate(capabilitySets.map(\.name)) {
            return "capability set '\(name)' is registered twice"
        }
        let known = Set(functions.map(\.name))
        for set in capabilitySets {
            if set.name.isEmpty { return "a capability set has an empty name" }
            if let missing = set.functions.first(where: { !known.contains($0) }) {
                return "capability set '\(set.name)' names unregistered function '\(missing)'"
            }
        }
        return nil
    }

    private func outputFieldProblem() -> String? {
        if let name = firstDuplicate(outputFields.map(\.name)) {
            return "output field '\(name)' is registered twice"
        }
        for field in outputFields {
            if field.name.isEmpty { return "an output field has an empty name" }
            let parts = field.type.split(separator: "|", omittingEmptySubsequences: false)
            if let unknown = parts.first(where: { !Self.outputFieldTypes.contains(String($0)) }) {
                return "output field '\(field.name)' has unknown type '\(unknown)'"
                    + " (known: \(Self.outputFieldTypes.sorted().joined(separator: ", ")))"
            }
        }
        return nil
    }

    private func optionProblem() -> String? {
        if let name = firstDuplicate(options.map(\.name)) {
            return "option '\(name)' is registered twice"
        }
        for option in options {
            if option.name.isEmpty { return "an option has an empty name" }
            if let text = option.defaultValue,
                case .failure(let error) = OptionValueParser.parse(text, as: option.type)
            {
                return "option '\(option.name)' has a bad default: \(error)"
            }
        }
        return nil
    }
}

private func firstDuplicate<Element: Hashable>(_ elements: [Element]) -> Element? {
    var seen = Set<Element>()
    return elements.first { !seen.insert($0).inserted }
}
