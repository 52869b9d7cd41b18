import TaskABI

/// A directive's options for one instance, parsed by the host (defaults filled in).
public struct TaskOptions: Sendable {
    public struct Value: Sendable, Equatable {
        public var text: String
        public var isSet: Bool
        public var int64: Int64
        public var bool: Bool
    }

    public private(set) var values: [String: Value] = [:]

    public init(_ values: [String: Value]) {
        self.values = values
    }

    init(_ options: UnsafePointer<UnsafePointer<tawon_option_value>?>?, count: UInt32) {
        for index in 0..<Int(count) {
            guard let option = options?[index]?.pointee, let name = option.name else { continue }
            values[String(cString: name)] = Value(
                text: option.text.map { String(cString: $0) } ?? "", isSet: option.is_set != 0,
                int64: option.int_value, bool: option.bool_value != 0)
        }
    }

    /// The option's text (given or default), or "" when neither.
    public func string(_ name: String) -> String { values[name]?.text ?? "" }
    /// The option as a boolean (false when unset without default).
    public func bool(_ name: String) -> Bool { values[name]?.bool ?? false }
    /// The option as an integer (0 when unset without default).
    public func int64(_ name: String) -> Int64 { values[name]?.int64 ?? 0 }
    /// Whether the directive set the option itself.
    public func isSet(_ name: String) -> Bool { values[name]?.isSet ?? false }
}
