import JSONText
import TaskABI
#if canImport(Glibc)
import Glibc
#endif

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

    /// Whether the event is a syscall or a process lifecycle event.
    public var isProcessEvent: Bool { raw.pointee.kind == tawon_event_kind(TAWON_EVENT_PROCESS) }
    /// Whether the event is a container lifecycle event (ABI 1.2).
    public var isContainerEvent: Bool { raw.pointee.kind == tawon_event_kind(TAWON_EVENT_CONTAINER) }
    /// The call's result, when the event reports its return.
    public var returnValue: Int64? { raw.pointee.has_return_value != 0 ? raw.pointee.return_value : nil }
    /// Joins the two events of a call that blocked past the host's deadline; 0 otherwise.
    public var callID: UInt64 { raw.pointee.call_id }
    /// The call's entry without its return: a call still blocked (with a call id), or one
    /// that never returns.
    public var isEntryOnly: Bool { raw.pointee.phase == tawon_event_phase(TAWON_PHASE_ENTRY) }

    /// The function's name as UTF-8, lent for the call: no copy, for a task on the hot path.
    public var functionNameUTF8: UnsafeRawBufferPointer { utf8(raw.pointee.function_name) }

    /// Argument `index` (0 ..< argumentCount), its strings copied.
    public func argument(_ index: Int) -> TaskEventArgument {
        TaskEventArgument(argumentView(index))
    }

    /// Argument `index` (0 ..< argumentCount) in place: its bytes are lent for the call.
    public func argumentView(_ index: Int) -> TaskEventArgumentView {
        precondition(index >= 0 && index < argumentCount, "argument index out of range")
        return TaskEventArgumentView(raw.pointee.args![index]!)
    }
}

/// One decoded argument viewed in the host's memory: valid only during `TawonTask.handle(_:)`.
public struct TaskEventArgumentView {
    public enum Value {
        case signed(Int64)
        case unsigned(UInt64)
        /// The decoded rendering as UTF-8 bytes.
        case text(UnsafeRawBufferPointer, truncated: Bool)
    }

    private let argument: UnsafePointer<tawon_event_arg>

    init(_ argument: UnsafePointer<tawon_event_arg>) { self.argument = argument }

    public var nameUTF8: UnsafeRawBufferPointer { utf8(argument.pointee.name) }
    public var typeUTF8: UnsafeRawBufferPointer { utf8(argument.pointee.type) }
    /// The raw register value.
    public var raw: UInt64 { argument.pointee.value }

    public var value: Value {
        switch Int(argument.pointee.kind) {
        case Int(TAWON_VALUE_SIGNED): return .signed(Int64(bitPattern: argument.pointee.value))
        case Int(TAWON_VALUE_TEXT):
            let text = argument.pointee.text.map {
                UnsafeRawBufferPointer(start: $0, count: Int(argument.pointee.text_length))
            } ?? UnsafeRawBufferPointer(start: nil, count: 0)
            return .text(text, truncated: argument.pointee.truncated != 0)
        default: return .unsigned(argument.pointee.value)
        }
    }
}

extension TaskEventArgumentView {
    /// Writes the argument as `{"name":…,"value":…}`: numbers as numbers, text as a string.
    public func writeJSON(into json: inout JSONText) {
        json.raw("{\"name\":")
        json.string(utf8: nameUTF8)
        json.raw(",\"value\":")
        switch value {
        case .signed(let number): json.number(number)
        case .unsigned(let number): json.number(number)
        case .text(let text, _): json.string(utf8: text)
        }
        json.raw("}")
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

    init(_ view: TaskEventArgumentView) {
        name = String(decoding: view.nameUTF8, as: UTF8.self)
        type = String(decoding: view.typeUTF8, as: UTF8.self)
        raw = view.raw
        switch view.value {
        case .signed(let number): value = .signed(number)
        case .unsigned(let number): value = .unsigned(number)
        case .text(let bytes, let truncated): value = .text(String(decoding: bytes, as: UTF8.self), truncated: truncated)
        }
    }
}

private func text(_ pointer: UnsafePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
}

/// A NUL-terminated C string's bytes, without the NUL; empty for NULL.
private func utf8(_ pointer: UnsafePointer<CChar>?) -> UnsafeRawBufferPointer {
    guard let pointer else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: pointer, count: strlen(pointer))
}
