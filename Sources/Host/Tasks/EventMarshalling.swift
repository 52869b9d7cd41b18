import Foundation
import TaskABI

/// Lays a `DeliverableEvent` out as the ABI's `tawon_event` for the duration of one call.
enum EventMarshalling {
    static func withCEvent<Result>(
        _ event: DeliverableEvent, directiveID: String, _ body: (UnsafePointer<tawon_event>) -> Result
    ) -> Result {
        var strings: [UnsafeMutablePointer<CChar>] = []
        func keep(_ text: String) -> UnsafePointer<CChar> {
            let copy = strdup(text)!
            strings.append(copy)
            return UnsafePointer(copy)
        }
        defer { strings.forEach { free($0) } }

        let count = event.arguments.count
        let arguments = UnsafeMutablePointer<tawon_event_arg>.allocate(capacity: max(count, 1))
        defer { arguments.deallocate() }
        let pointers = UnsafeMutablePointer<UnsafePointer<tawon_event_arg>?>.allocate(capacity: max(count, 1))
        defer { pointers.deallocate() }
        for (index, argument) in event.arguments.enumerated() {
            var value = tawon_event_arg()
            value.struct_size = UInt32(MemoryLayout<tawon_event_arg>.size)
            value.name = keep(argument.name)
            value.type = keep(argument.type)
            value.value = argument.raw
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
                value.text = keep(text)
                value.text_length = UInt32(text.utf8.count)
                value.truncated = truncated ? 1 : 0
            }
            arguments[index] = value
            pointers[index] = UnsafePointer(arguments + index)
        }
        var cEvent = tawon_event(
            struct_size: UInt32(MemoryLayout<tawon_event>.size),
            timestamp_ns: event.timestampNanoseconds, cpu: event.cpu, pid: event.pid, tid: event.tid,
            compat: event.isCompat ? 1 : 0, function_id: event.functionID,
            function_name: keep(event.functionName), comm: keep(event.comm),
            directive_id: keep(directiveID), args: UnsafePointer(pointers), arg_count: UInt32(count),
            process_generation: event.processGeneration)
        return body(&cEvent)
    }
}
