import TaskABI
import TawonTaskKit

/// The syscalls task: one record per hooked syscall a selected process makes.
final class SyscallsTask: TawonTask {
    static var registration: TaskRegistrationInfo { SyscallsRegistration.info }

    private let host: TaskHost
    private let selection: FunctionSelection

    init(host: TaskHost, options: TaskOptions) throws {
        self.host = host
        selection = try FunctionSelection(options: options)
        for id in selection.functionIDs { try host.hook(id) }
    }

    func start() throws {}

    func handle(_ event: TaskEvent) throws {}

    func stop() throws {}
}

@_cdecl("tawon_task_entry")
public func tawonTaskEntry() -> UnsafePointer<tawon_task_descriptor> {
    TaskExport.descriptor(for: SyscallsTask.self)
}
