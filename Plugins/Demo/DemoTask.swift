import TaskABI
import TawonTaskKit

/// The demo task: simulates privileged syscalls so an operator can prove the agent sees them.
final class DemoTask: TawonTask {
    static var registration: TaskRegistrationInfo { DemoRegistration.info }

    private let simulations: [String]

    init(host: TaskHost, options: TaskOptions) throws {
        simulations = try Self.simulations(options.string("simulations"))
    }

    static func simulations(_ text: String) throws -> [String] {
        let known = DemoRegistration.simulations.map(\.name)
        var names: [String] = []
        for part in text.split(separator: "+", omittingEmptySubsequences: false).map(String.init) {
            if part == "all" {
                names += known
            } else if known.contains(part) {
                names.append(part)
            } else {
                throw TaskError(
                    "demo: unknown simulation '\(part)' (supported: \((known + ["all"]).joined(separator: ", ")))")
            }
        }
        return names
    }

    func start() throws {}

    func handle(_ event: TaskEvent) throws {}

    func stop() throws {}
}

@_cdecl("tawon_task_entry")
public func tawonTaskEntry() -> UnsafePointer<tawon_task_descriptor> {
    TaskExport.descriptor(for: DemoTask.self)
}
