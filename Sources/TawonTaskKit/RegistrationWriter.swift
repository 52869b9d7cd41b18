import Foundation
import TaskABI

/// Hands a `TaskRegistrationInfo` to the host's registrar as the C structs the ABI defines.
struct RegistrationWriter {
    let registration: OpaquePointer?
    let registrar: tawon_registrar
    let arena: CStringArena

    /// Registers everything; stops at and returns the first code that is not OK.
    func write(_ info: TaskRegistrationInfo) -> tawon_rc {
        var calls: [() -> tawon_rc] = [{ setInfo(info) }]
        calls += info.functions.map { function in { add(function) } }
        calls += info.capabilitySets.map { set in { add(set) } }
        calls += info.outputFields.map { field in { add(field) } }
        calls += info.options.map { option in { add(option) } }
        for call in calls {
            let rc = call()
            if rc != tawon_rc(TAWON_RC_OK) { return rc }
        }
        return tawon_rc(TAWON_RC_OK)
    }

    private func setInfo(_ info: TaskRegistrationInfo) -> tawon_rc {
        var value = tawon_task_info(
            struct_size: size(of: tawon_task_info.self), name: arena.string(info.name),
            version: arena.string(info.version), description: arena.string(info.description))
        return registrar.set_info?(registration, &value) ?? missing
    }

    private func add(_ function: TaskRegistrationInfo.Function) -> tawon_rc {
        var value = tawon_function(
            struct_size: size(of: tawon_function.self), name: arena.string(function.name),
            id: function.id, argument_names: arena.strings(function.arguments.map(\.name)),
            argument_types: arena.strings(function.arguments.map(\.type)),
            argument_count: UInt32(function.arguments.count))
        return registrar.add_function?(registration, &value) ?? missing
    }

    private func add(_ set: TaskRegistrationInfo.CapabilitySet) -> tawon_rc {
        var value = tawon_capability_set(
            struct_size: size(of: tawon_capability_set.self), name: arena.string(set.name),
            description: arena.string(set.description), function_names: arena.strings(set.functions),
            function_count: UInt32(set.functions.count))
        return registrar.add_capability_set?(registration, &value) ?? missing
    }

    private func add(_ field: TaskRegistrationInfo.OutputField) -> tawon_rc {
        var value = tawon_output_field(
            struct_size: size(of: tawon_output_field.self), name: arena.string(field.name),
            type: arena.string(field.type), description: arena.string(field.description))
        return registrar.add_output_field?(registration, &value) ?? missing
    }

    private func add(_ option: TaskRegistrationInfo.Option) -> tawon_rc {
        let type: Int
        switch option.kind {
        case .string: type = Int(TAWON_OPTION_STRING)
        case .bool: type = Int(TAWON_OPTION_BOOL)
        case .int64: type = Int(TAWON_OPTION_INT64)
        }
        var value = tawon_option(
            struct_size: size(of: tawon_option.self), name: arena.string(option.name),
            type: tawon_option_type(type), default_value: option.defaultValue.map(arena.string),
            description: arena.string(option.description))
        return registrar.add_option?(registration, &value) ?? missing
    }

    private var missing: tawon_rc { tawon_rc(TAWON_RC_UNSUPPORTED) }

    private func size<T>(of type: T.Type) -> UInt32 { UInt32(MemoryLayout<T>.size) }
}

/// C strings and string arrays that live until `release()`: long enough for one registrar call.
final class CStringArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    func string(_ text: String) -> UnsafePointer<CChar> {
        let copy = strdup(text)!
        allocations.append(UnsafeMutableRawPointer(copy))
        return UnsafePointer(copy)
    }

    func strings(_ texts: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
        // malloc, not allocate(): release() frees every allocation with free().
        let bytes = MemoryLayout<UnsafePointer<CChar>?>.stride * max(texts.count, 1)
        let array = malloc(bytes)!.bindMemory(to: UnsafePointer<CChar>?.self, capacity: max(texts.count, 1))
        for (index, text) in texts.enumerated() { array[index] = string(text) }
        allocations.append(UnsafeMutableRawPointer(array))
        return UnsafePointer(array)
    }

    func release() {
        for allocation in allocations { free(allocation) }
        allocations.removeAll()
    }
}
