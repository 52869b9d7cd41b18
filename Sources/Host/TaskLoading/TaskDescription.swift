/// Everything a task registered through the ABI, copied into Swift values.
///
/// `tawonctl task describe` prints this; nothing about a task is written by hand elsewhere.
public struct TaskDescription: Codable, Sendable, Equatable {
    public struct Argument: Codable, Sendable, Equatable {
        public var name: String
        public var type: String
    }

    public struct Function: Codable, Sendable, Equatable {
        public var name: String
        public var id: UInt64
        public var arguments: [Argument]
    }

    public struct CapabilitySet: Codable, Sendable, Equatable {
        public var name: String
        public var description: String
        public var functions: [String]
    }

    public struct OutputField: Codable, Sendable, Equatable {
        public var name: String
        public var type: String
        public var description: String
    }

    public enum OptionType: String, Codable, Sendable {
        case string, bool, int64
    }

    public struct Option: Codable, Sendable, Equatable {
        public var name: String
        public var type: OptionType
        public var defaultValue: String?
        public var description: String
    }

    public var name: String
    public var version: String
    public var description: String
    public var functions: [Function] = []
    public var capabilitySets: [CapabilitySet] = []
    public var outputFields: [OutputField] = []
    public var options: [Option] = []

    public init(name: String = "", version: String = "", description: String = "") {
        self.name = name
        self.version = version
        self.description = description
    }

    /// The function with this name, if registered.
    public func function(named name: String) -> Function? {
        functions.first { $0.name == name }
    }
}
