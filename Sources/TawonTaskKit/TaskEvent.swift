import TaskABI

/// One event, viewed in place: valid only during `TawonTask.handle(_:)`. Properties read the
/// host's memory lazily, so a task pays only for what it looks at.
public struct TaskEvent {
    private let raw: UnsafePointer<tawon_event>

    init(_ raw: UnsafePointer<tawon_event>) { self.raw = raw }

    public var timestampNanoseconds: UInt64 { raw.pointee.timestamp_ns }
    public var cpu: UInt32 { raw.pointee.cpu }
    public var pid: UInt32 { raw.pointee.pid }
    public var tid: UInt32 { raw.pointee.tid }
    public var isCompat: Bool { raw.pointee.compat != 0 }
    public var functionID: UInt64 { raw.pointee.function_id }
    public var functionName: String { text(raw.pointee.function_name) }
    public var comm: String { text(raw.pointee.comm) }
    public var directiveID: String { text(raw.pointee.directive_id) }
    public var argumentCount: Int { Int(raw.pointee.arg_count) }
    /// Changes whenever the host's information about `pid` changes: cache per (pid, this).
    public var processGeneration: UInt64 { raw.pointee.process_generation }

    /// Argument `index` (0 ..< argumentCount).
    public func argument(_ index: Int) -> TaskEventArgument {
        precondition(index >= 0 && index < argumentCount, "argument index out of range")
        return TaskEventArgument(raw.pointee.args![index]!.pointee)
    }
}

/// One decoded argument, copied out of the event.
public struct TaskEventArgument: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case signed(Int64)
        case unsigned(UInt64)
        case text(String, truncated: Bool)
    }

    public var name: String
    public var type: String
    public var raw: UInt64
    public var value: Value

    init(_ argument: tawon_event_arg) {
        name = text(argument.name)
        type = text(argument.type)
        raw = argument.value
        switch Int(argument.kind) {
        case Int(TAWON_VALUE_SIGNED): value = .signed(Int64(bitPattern: argument.value))
        case Int(TAWON_VALUE_TEXT): value = .text(text(argument.text), truncated: argument.truncated != 0)
        default: value = .unsigned(argument.value)
        }
    }
}

private func text(_ pointer: UnsafePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
}
