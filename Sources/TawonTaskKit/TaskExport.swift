import Foundation
import Synchronization
import TaskABI

/// Builds the C descriptor that exports a Swift `TawonTask` through the task ABI.
public enum TaskExport {
    private struct Exported: @unchecked Sendable {
        let type: any TawonTask.Type
        let descriptor: UnsafeMutablePointer<tawon_task_descriptor>
    }

    private static let exported = Mutex<Exported?>(nil)

    /// The descriptor for `type`; call it from the plugin's public `tawon_task_entry`.
    /// A plugin exports exactly one task type.
    public static func descriptor<Task: TawonTask>(
        for type: Task.Type
    ) -> UnsafePointer<tawon_task_descriptor> {
        // The lock hands out the address: raw pointers are not Sendable.
        let address = exported.withLock { exported -> UInt in
            if let exported {
                precondition(
                    ObjectIdentifier(exported.type) == ObjectIdentifier(type),
                    "a plugin exports exactly one task type")
                return UInt(bitPattern: exported.descriptor)
            }
            // Allocated once and never freed: the ABI wants it valid until the library unloads.
            let descriptor = UnsafeMutablePointer<tawon_task_descriptor>.allocate(capacity: 1)
            descriptor.initialize(
                to: tawon_task_descriptor(
                    struct_size: UInt32(MemoryLayout<tawon_task_descriptor>.size),
                    abi_major: UInt32(TAWON_TASK_ABI_MAJOR), abi_minor: UInt32(TAWON_TASK_ABI_MINOR),
                    abi_patch: UInt32(TAWON_TASK_ABI_PATCH), describe: describeTask,
                    create: createInstance, last_error: lastError, start: startInstance,
                    on_event: deliverEvent, stop: stopInstance, destroy: destroyInstance))
            exported = Exported(type: type, descriptor: descriptor)
            return UInt(bitPattern: descriptor)
        }
        return UnsafePointer(bitPattern: address)!
    }

    static var exportedType: (any TawonTask.Type)? {
        exported.withLock { $0?.type }
    }
}

/// One instance as the host sees it: the task object and its last error.
private final class InstanceBox {
    var task: (any TawonTask)?
    var lastError: UnsafeMutablePointer<CChar>?

    func fail(_ error: any Error, _ code: Int) -> tawon_rc {
        free(lastError)
        lastError = strdup("\(error)")
        return tawon_rc(code)
    }

    deinit { free(lastError) }

    static func from(_ instance: OpaquePointer?) -> InstanceBox? {
        instance.map { Unmanaged<InstanceBox>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }
}

private func describeTask(
    _ registration: OpaquePointer?, _ registrar: UnsafePointer<tawon_registrar>?
) -> tawon_rc {
    guard let registrar = registrar?.pointee, let type = TaskExport.exportedType else {
        return tawon_rc(TAWON_RC_INVALID_ARGUMENT)
    }
    let arena = CStringArena()
    defer { arena.release() }
    return RegistrationWriter(registration: registration, registrar: registrar, arena: arena)
        .write(type.registration)
}

private func createInstance(
    _ host: UnsafePointer<tawon_host_api>?, _ context: OpaquePointer?,
    _ options: UnsafePointer<UnsafePointer<tawon_option_value>?>?, _ optionCount: UInt32,
    _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> tawon_rc {
    guard let host, let out, let type = TaskExport.exportedType else {
        return tawon_rc(TAWON_RC_INVALID_ARGUMENT)
    }
    let box = InstanceBox()
    out.pointee = OpaquePointer(Unmanaged.passRetained(box).toOpaque())
    do {
        box.task = try type.init(
            host: TaskHost(api: host, context: context),
            options: TaskOptions(options, count: optionCount))
        return tawon_rc(TAWON_RC_OK)
    } catch {
        return box.fail(error, Int(TAWON_RC_INVALID_ARGUMENT))
    }
}

private func lastError(_ instance: OpaquePointer?) -> UnsafePointer<CChar>? {
    InstanceBox.from(instance)?.lastError.map { UnsafePointer($0) }
}

private func startInstance(_ instance: OpaquePointer?) -> tawon_rc {
    run(instance) { try $0.start() }
}

private func deliverEvent(_ instance: OpaquePointer?, _ event: UnsafePointer<tawon_event>?) -> tawon_rc {
    guard let event else { return tawon_rc(TAWON_RC_INVALID_ARGUMENT) }
    return run(instance) { try $0.handle(TaskEvent(event)) }
}

private func stopInstance(_ instance: OpaquePointer?) -> tawon_rc {
    run(instance) { try $0.stop() }
}

private func destroyInstance(_ instance: OpaquePointer?) {
    guard let instance else { return }
    Unmanaged<InstanceBox>.fromOpaque(UnsafeRawPointer(instance)).release()
}

private func run(_ instance: OpaquePointer?, _ body: (any TawonTask) throws -> Void) -> tawon_rc {
    guard let box = InstanceBox.from(instance), let task = box.task else {
        return tawon_rc(TAWON_RC_WRONG_TIME)
    }
    do {
        try body(task)
        return tawon_rc(TAWON_RC_OK)
    } catch {
        return box.fail(error, Int(TAWON_RC_FAILURE))
    }
}
