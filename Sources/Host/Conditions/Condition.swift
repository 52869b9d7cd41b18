/// A parsed `-c` condition: terms joined by AND, OR and NOT.
public indirect enum Condition: Sendable, Equatable, CustomStringConvertible {
    case term(Term)
    case and(Condition, Condition)
    case or(Condition, Condition)
    case not(Condition)

    /// `field:value`.
    public struct Term: Sendable, Equatable {
        public var field: Field
        public var pattern: Pattern
    }

    /// The fields a condition may test.
    public enum Field: String, Sendable, CaseIterable {
        case processPID = "process.pid"
        case processName = "process.name"
        case processCmd = "process.cmd"
        case processExe = "process.exe"
        case processCapInh = "process.capinh"
        case processCapPrm = "process.capprm"
        case processCapEff = "process.capeff"
        case processCapBnd = "process.capbnd"
        case processCapAmb = "process.capamb"
        case containerID = "container.id"
        case containerName = "container.name"
        case containerLabel = "container.label"
        case podID = "pod.id"
        case podName = "pod.name"
        case podNamespace = "pod.namespace"
        case podLabel = "pod.label"

        public var isCapability: Bool { rawValue.hasPrefix("process.cap") }
        /// What a container runtime supplies (not the kernel or /proc).
        public var isRuntimeFact: Bool { rawValue.hasPrefix("pod.") || (rawValue.hasPrefix("container.") && self != .containerID) }
    }

    /// The fields the condition tests.
    public var fields: Set<Field> {
        switch self {
        case .term(let term): return [term.field]
        case .and(let a, let b), .or(let a, let b): return a.fields.union(b.fields)
        case .not(let a): return a.fields
        }
    }

    /// How a value matches.
    public enum Pattern: Sendable, Equatable, CustomStringConvertible {
        case exact(String)
        /// `*` and `?` wildcards (fnmatch).
        case glob(String)
        /// `~text~`: the value contains text.
        case contains(String)

        public var description: String {
            switch self {
            case .exact(let text): return text
            case .glob(let text): return "glob(\(text))"
            case .contains(let text): return "~\(text)~"
            }
        }
    }

    /// A fully parenthesized rendering, for tests and logs.
    public var description: String {
        switch self {
        case .term(let term): return "\(term.field.rawValue):\(term.pattern)"
        case .and(let a, let b): return "(\(a) AND \(b))"
        case .or(let a, let b): return "(\(a) OR \(b))"
        case .not(let a): return "NOT \(a)"
        }
    }

    /// The kernel keeps 15 bytes of a process's name (TASK_COMM_LEN, with its NUL).
    public static let processNameBytes = 15

    /// One line for each `process.name` term no process can satisfy: a longer exact name, or
    /// longer contained text.
    public var nameTermWarnings: [String] {
        terms.compactMap { term in
            guard term.field == .processName else { return nil }
            switch term.pattern {
            case .exact(let text), .contains(let text):
                guard text.utf8.count > Self.processNameBytes else { return nil }
                return "process.name:'\(QuotedInput.quote(term.pattern.description))': a process's name is at most"
                    + " \(Self.processNameBytes) bytes, so the term is false for every process"
                    + " (process.exe and process.cmd hold the whole name)"
            case .glob: return nil
            }
        }
    }

    /// Every term, left to right.
    public var terms: [Term] {
        switch self {
        case .term(let term): return [term]
        case .and(let a, let b), .or(let a, let b): return a.terms + b.terms
        case .not(let a): return a.terms
        }
    }
}

/// A condition that does not parse, with the 1-based column where the problem is.
public struct ConditionError: Error, Equatable, CustomStringConvertible {
    public let column: Int
    public let message: String
    public var description: String { "column \(column): \(message)" }
}
