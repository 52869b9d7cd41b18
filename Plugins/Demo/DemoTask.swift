import DemoSimulation
import Foundation
import JSONText
import TaskABI
import TawonTaskKit

/// The demo task: runs the simulations in the background, one short-lived process per run, and
/// emits a record per simulation saying whether its calls succeeded.
final class DemoTask: TawonTask {
    static var registration: TaskRegistrationInfo { DemoRegistration.info }

    private let loop: DemoLoop

    init(host: TaskHost, options: TaskOptions) throws {
        let names: [String]
        do { names = try DemoSimulator.names(from: options.string("simulations")) } catch {
            throw TaskError("simulations: \(error)")
        }
        guard (1...86_400).contains(options.int64("interval")) else {
            throw TaskError("interval: \(options.int64("interval")) is not a number of seconds from 1 to 86400")
        }
        loop = DemoLoop(
            names: names, interval: Double(options.int64("interval")),
            report: { pid, outcomes in
                for outcome in outcomes { try? host.emit(json: Self.record(outcome, pid: pid)) }
            },
            failure: { reason in host.log(.error, "demo: \(reason)") })
    }

    static func record(_ outcome: DemoSimulator.Outcome, pid: pid_t) -> String {
        var json = JSONText(capacity: 160)
        json.raw("{\"demo\":{\"ok\":")
        json.bool(outcome.ok)
        json.raw(",\"pid\":")
        json.number(Int64(pid))
        json.raw(",\"reason\":")
        json.string(outcome.reason)
        json.raw(",\"simulation\":")
        json.string(outcome.name)
        json.raw("}}")
        return json.string
    }

    func start() throws { loop.start() }

    func handle(_ event: TaskEvent) throws {}

    func stop() throws { loop.stop() }
}

@_cdecl("tawon_task_entry")
public func tawonTaskEntry() -> UnsafePointer<tawon_task_descriptor> {
    TaskExport.descriptor(for: DemoTask.self)
}
