import TaskABI

/// Collects what a plugin registers during `describe`, copying every string at once (the ABI
/// lends registration structs only for the duration of each call).
final class TaskRegistration {
    var description = TaskDescription()
    private(set) var infoCount = 0
    /// The first malformed call, in words; the plugin is refused with it.
    private(set) var malformed: String?

    func note(_ problem: String) -> tawon_rc {
        if malformed == nil { malformed = problem }
        return tawon_rc(TAWON_RC_INVALID_ARGUMENT)
    }

    func setInfo(_ info: tawon_task_info) {
        infoCount += 1
        description.name = string(info.name)
        description.version = string(info.version)
        description.description = string(info.description)
    }

    /// Calls the plugin's `describe` with the host's registrar and returns what it registered.
    static func run(
        _ describe: @convention(c) (OpaquePointer?, UnsafePointer<tawon_registrar>?) -> tawon_rc
    ) -> (registration: TaskRegistration, rc: tawon_rc) {
        let registration = TaskRegistration()
        var registrar = tawon_registrar(
            struct_size: UInt32(MemoryLayout<tawon_registrar>.size),
            set_info: registerInfo, add_function: registerFunction,
            add_capability_set: registerCapabilitySet, add_output_field: registerOutputField,
            add_option: registerOption)
        let handle = OpaquePointer(Unmanaged.passUnretained(registration).toOpaque())
        let rc = withExtendedLifetime(registration) { describe(handle, &registrar) }
        return (registration, rc)
    }
}

/// Copies a C string the plugin lends; NULL becomes "".
func string(_ pointer: UnsafePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
}

/// Copies `count` C strings from a lent array; NULL entries become "".
func strings(_ array: UnsafePointer<UnsafePointer<CChar>?>?, count: UInt32) -> [String] {
    guard let array else { return [] }
    return (0..<Int(count)).map { string(array[$0]) }
}

/// Checks a lent struct: present and at least as large as ABI 1.0 defined it. Only the bytes
/// its struct_size covers are read (a plugin built for an older minor has a shorter struct).
private func borrow<Struct>(
    _ handle: OpaquePointer?, _ pointer: UnsafePointer<Struct>?, _ what: String, minimumSize: UInt32,
    _ body: (TaskRegistration, Struct) -> Void
) -> tawon_rc {
    guard let handle else { return tawon_rc(TAWON_RC_INVALID_ARGUMENT) }
    let registration = Unmanaged<TaskRegistration>.fromOpaque(UnsafeRawPointer(handle))
        .takeUnretainedValue()
    guard let pointer else { return registration.note("passed NULL to \(what)") }
    let size = UnsafeRawPointer(pointer).load(as: UInt32.self)
    guard size >= minimumSize else {
        return registration.note("\(what) got a struct of \(size) bytes; task ABI 1.0 needs \(minimumSize)")
    }
    body(registration, ABIStructSizes.read(pointer, size: size))
    return tawon_rc(TAWON_RC_OK)
}

private func registerInfo(
    _ handle: OpaquePointer?, _ info: UnsafePointer<tawon_task_info>?
) -> tawon_rc {
    borrow(handle, info, "set_info", minimumSize: ABIStructSizes.taskInfo) { registration, info in
        if info.name == nil {
            _ = registration.note("registered a NULL task name")
        } else {
            registration.setInfo(info)
        }
    }
}

private func registerFunction(
    _ handle: OpaquePointer?, _ function: UnsafePointer<tawon_function>?
) -> tawon_rc {
    borrow(handle, function, "add_function", minimumSize: ABIStructSizes.function) { registration, function in
        let names = strings(function.argument_names, count: function.argument_count)
        let types = strings(function.argument_types, count: function.argument_count)
        registration.description.functions.append(
            .init(
                name: string(function.name), id: function.id,
                arguments: zip(names, types).map { .init(name: $0, type: $1) }))
    }
}

private func registerCapabilitySet(
    _ handle: OpaquePointer?, _ set: UnsafePointer<tawon_capability_set>?
) -> tawon_rc {
    borrow(handle, set, "add_capability_set", minimumSize: ABIStructSizes.capabilitySet) { registration, set in
        registration.description.capabilitySets.append(
            .init(
                name: string(set.name), description: string(set.description),
                functions: strings(set.function_names, count: set.function_count)))
    }
}

private func registerOutputField(
    _ handle: OpaquePointer?, _ field: UnsafePointer<tawon_output_field>?
) -> tawon_rc {
    borrow(handle, field, "add_output_field", minimumSize: ABIStructSizes.outputField) { registration, field in
        registration.description.outputFields.append(
            .init(
                name: string(field.name), type: string(field.type),
                description: string(field.description)))
    }
}

private func registerOption(
    _ handle: OpaquePointer?, _ option: UnsafePointer<tawon_option>?
) -> tawon_rc {
    borrow(handle, option, "add_option", minimumSize: ABIStructSizes.option) { registration, option in
        let type: TaskDescription.OptionType
        switch Int(option.type) {
        case Int(TAWON_OPTION_STRING): type = .string
        case Int(TAWON_OPTION_BOOL): type = .bool
        case Int(TAWON_OPTION_INT64): type = .int64
        default:
            _ = registration.note("option '\(string(option.name))' has unknown type \(option.type)")
            return
        }
        registration.description.options.append(
            .init(
                name: string(option.name), type: type,
                defaultValue: option.default_value.map { String(cString: $0) },
                description: string(option.description)))
    }
}
