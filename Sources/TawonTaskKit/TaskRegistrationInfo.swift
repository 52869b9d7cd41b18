/// Everything a task registers, in Swift values.
public struct TaskRegistrationInfo: Sendable {
    public var name: String
    public var version: String
    public var description: String
    public var functions: [Function]
    public var capabilitySets: [CapabilitySet]
    public var outputFields: [OutputField]
    public var options: [Option]

    public init(
        name: String, version: String, description: String, functions: [Function] = [],
        capabilitySets: [CapabilitySet] = [], outputFields: [OutputField] = [],
        options: [Option] = []
    ) {
        self.name = name
        self.version = version
        self.description = description
        self.functions = functions
        self.capabilitySets = capabilitySets
        self.outputFields = outputFields
        self.options = options
    }

    /// A function the task can hook, with its arguments' names and C types.
    public struct Function: Sendable {
        public var name: String
        public var id: UInt64
        public var arguments: [(name: String, type: String)]
        public init(name: String, id: UInt64, arguments: [(name: String, type: String)] = []) {
            self.name = name
            self.id = id
            self.arguments = arguments
        }
    }

    /// A named shorthand for a list of functions.
    public struct CapabilitySet: Sendable {
        public var name: String
        public var description: String
        public var functions: [String]
        public init(name: String, description: String, functions: [String]) {
            self.name = name
            self.description = description
            self.functions = functions
        }
    }

    /// One dotted field of the task's records.
    public struct OutputField: Sendable {
        public var name: String
        public var type: String
        public var description: String
        public init(_ name: String, _ type: String, _ description: String) {
            self.name = name
            self.type = type
            self.description = description
        }
    }

    /// An option a directive may set.
    public struct Option: Sendable {
        public enum Kind: Sendable { case string, bool, int64 }
        public var name: String
        public var kind: Kind
        public var defaultValue: String?
        public var description: String
        public init(_ name: String, _ kind: Kind, default defaultValue: String?, _ description: String) {
            self.name = name
            self.kind = kind
            self.defaultValue = defaultValue
            self.description = description
        }
    }
}
