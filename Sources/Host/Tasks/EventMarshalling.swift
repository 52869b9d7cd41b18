import Foundation
import TaskABI

/// Lays `DeliverableEvent`s out as the ABI's `tawon_event`, one at a time, reusing its memory:
/// this runs for every event, so names and types become C strings once per function, and the
/// per-event text goes into one arena that is rewound, not freed. Not thread-safe: each task
/// instance has its own, used under the instance's lock.
final class EventMarshaller {
    /// The C strings of one function's name and its arguments' names and types, with the
    /// Strings they were made from (to notice an event that names them differently).
    private final class FunctionStrings {
        let name: String
        let argumentNames: [String]
        let argumentTypes: [String]
        let cName: UnsafeMutablePointer<CChar>
        let cArgumentNames: [UnsafeMutablePointer<CChar>]
        let cArgumentTypes: [UnsafeMutablePointer<CChar>]

        init(_ event: DeliverableEvent) {
            name = event.functionName
            argumentNames = event.arguments.map(\.name)
            argumentTypes = event.arguments.map(\.type)
            cName = strdup(name)!
            cArgumentNames = argumentNames.map { strdup($0)! }
            cArgumentTypes = argumentTypes.map { strdup($0)! }
        }

        deinit {
            free(cName)
            (cArgumentNames + cArgumentTypes).forEach { free($0) }
        }

        /// Equal Strings made from the same storage compare by their bits first: cheap.
        func describes(_ event: DeliverableEvent) -> Bool {
            guard name == event.functionName, argumentNames.count == event.arguments.count else { return false }
            for (index, argument) in event.arguments.enumerated()
            where argument.name != argumentNames[index] || argument.type != argumentTypes[index] {
                return false
            }
            return true
        }
    }

    /// Bounds the cache for tasks fed events that are not from the syscall table.
    private static let functionsToKeep = 4096

    private let directiveID: UnsafeMutablePointer<CChar>
    private struct FunctionKey: Hashable {
        let kind: DeliverableEvent.Kind
        let id: UInt64
        let compat: Bool
    }

    private var functions: [FunctionKey: FunctionStrings] = [:]
    /// The last function's strings, asked for again without hashing: a traced process tends to
    /// make the same call many times in a row.
    private var lastFunction: (key: FunctionKey, strings: FunctionStrings)?
    private var arena: [CChar] = []
    private var textOffsets: [Int] = []
    private var arguments = UnsafeMutablePointer<tawon_event_arg>.allocate(capacity: 8)
    private var argumentPointers = UnsafeMutablePointer<UnsafePointer<tawon_event_arg>?>.allocate(capacity: 8)
    private var argumentCapacity = 8

    init(directiveID: String) {
        self.directiveID = strdup(directiveID)!
        arena.reserveCapacity(4096)
    }

    deinit {
        free(directiveID)
        arguments.deallocate()
        argumentPointers.deallocate()
    }

    /// Calls `body` with the event laid out in C; the layout is valid only during the call.
    func withCEvent<Result>(_ event: DeliverableEvent, _ body: (UnsafePointer<tawon_event>) -> Result) -> Result {
        let strings = functionStrings(for: event)
        reserveArguments(event.arguments.count)
        // Per-event text, NUL-terminated, into the arena; pointers are taken once it stops growing.
        arena.removeAll(keepingCapacity: true)
        let commOffset = append(event.comm)
        textOffsets.removeAll(keepingCapacity: true)
        for argument in event.arguments {
            if case .text(let text, _) = argument.value { textOffsets.append(append(text)) }
        }
        return arena.withUnsafeBufferPointer { arena in
            let base = arena.baseAddress!
            var nextText = 0
            for (index, argument) in event.arguments.enumerated() {
                var value = tawon_event_arg()
                value.struct_size = UInt32(MemoryLayout<tawon_event_arg>.size)
                value.name = UnsafePointer(strings.cArgumentNames[index])
                value.type = UnsafePointer(strings.cArgumentTypes[index])
                switch argument.value {
                case .signed(let number):
                    // Sign-extended from the C type's width: -1 in an int is -1, not 4294967295.
                    value.kind = tawon_value_kind(TAWON_VALUE_SIGNED)
                    value.value = UInt64(bitPattern: number)
                case .unsigned(let number):
                    value.kind = tawon_value_kind(TAWON_VALUE_UNSIGNED)
                    value.value = number
                case .text(let text, let truncated):
                    value.kind = tawon_value_kind(TAWON_VALUE_TEXT)
                    value.value = argument.raw
                    value.text = base + textOffsets[nextText]
                    value.text_length = UInt32(text.utf8.count)
                    value.truncated = truncated ? 1 : 0
                    nextText += 1
                }
                arguments[index] = value
                argumentPointers[index] = UnsafePointer(arguments + index)
            }
            var cEvent = tawon_event(
                struct_size: UInt32(MemoryLayout<tawon_event>.size),
                timestamp_ns: event.timestampNanoseconds, cpu: event.cpu, pid: event.pid, tid: event.tid,
                compat: event.isCompat ? 1 : 0, function_id: event.functionID,
                function_name: UnsafePointer(strings.cName), comm: base + commOffset,
                directive_id: UnsafePointer(directiveID), args: UnsafePointer(argumentPointers),
                arg_count: UInt32(event.arguments.count), process_generation: event.processGeneration,
                kind: event.kind.rawValue, phase: event.phase.rawValue, return_value: event.returnValue ?? 0,
                has_return_value: event.returnValue == nil ? 0 : 1, call_id: event.callID)
            return body(&cEvent)
        }
    }

    private func functionStrings(for event: DeliverableEvent) -> FunctionStrings {
        let key = FunctionKey(kind: event.kind, id: event.functionID, compat: event.isCompat)
        if let lastFunction, lastFunction.key == key, lastFunction.strings.describes(event) { return lastFunction.strings }
        let strings: FunctionStrings
        if let known = functions[key], known.describes(event) {
            strings = known
        } else {
            if functions.count >= Self.functionsToKeep { functions.removeAll() }
            strings = FunctionStrings(event)
            functions[key] = strings
        }
        lastFunction = (key, strings)
        return strings
    }

    private func reserveArguments(_ count: Int) {
        guard count > argumentCapacity else { return }
        arguments.deallocate()
        argumentPointers.deallocate()
        argumentCapacity = count
        arguments = .allocate(capacity: count)
        argumentPointers = .allocate(capacity: count)
    }

    /// Appends `text` and a NUL to the arena; returns where it starts.
    private func append(_ text: String) -> Int {
        let offset = arena.count
        var text = text
        text.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { arena.append(contentsOf: $0) }
        }
        arena.append(0)
        return offset
    }
}
