import DemoSimulation
import JSONText
import TaskABI
import TawonTaskKit

/// The syscalls task: one record per hooked syscall a selected process makes, shaped as the
/// seed's sample: `{"args":[{"name","value"}],"function","process":{...}}`.
final class SyscallsTask: TawonTask {
    static var registration: TaskRegistrationInfo { SyscallsRegistration.info }

    private let host: TaskHost
    private let compact: Bool
    private let meta: MetaSelection
    private var processes = ProcessFragmentCache()
    private var json = JSONText(capacity: 1024)
    private let demo: DemoLoop?

    init(host: TaskHost, options: TaskOptions) throws {
        self.host = host
        compact = options.bool("compact")
        meta = try MetaSelection(options.string("meta"))
        demo = try Self.demoLoop(options, host: host)
        for id in try FunctionSelection(options: options).functionIDs { try host.hook(id) }
    }

    /// `demo:NAME[+NAME]` runs simulations in the background every `demoInterval` seconds,
    /// while the directive is active; a simulation that cannot run says why in the log.
    private static func demoLoop(_ options: TaskOptions, host: TaskHost) throws -> DemoLoop? {
        guard options.isSet("demo") else { return nil }
        let names: [String]
        do { names = try DemoSimulator.names(from: options.string("demo")) } catch { throw TaskError("demo: \(error)") }
        guard options.int64("demoInterval") > 0 else { throw TaskError("demoInterval: must be at least 1 second") }
        return DemoLoop(
            names: names, interval: Double(options.int64("demoInterval")),
            report: { _, outcomes in
                for outcome in outcomes where !outcome.ok {
                    host.log(.warning, "demo: \(outcome.name) failed: \(outcome.reason)")
                }
            },
            failure: { reason in host.log(.error, "demo: \(reason)") })
    }

    func start() throws { demo?.start() }

    func handle(_ event: TaskEvent) throws {
        // One buffer for every record: events come one at a time (the ABI serializes them).
        json.removeAll()
        json.raw("{")
        if !compact {
            json.raw("\"args\":[")
            for index in 0..<event.argumentCount {
                if index > 0 { json.raw(",") }
                write(event.argumentView(index))
            }
            json.raw("],")
        }
        json.raw("\"function\":")
        json.string(utf8: event.functionNameUTF8)
        if meta.includesProcess {
            json.raw(",\"process\":")
            json.rawJSON(processes.fragment(for: event, meta: meta, host: host))
        }
        json.raw("}")
        try host.emit(json: json, timestampNanoseconds: event.timestampNanoseconds)
    }

    func stop() throws { demo?.stop() }

    private func write(_ argument: TaskEventArgumentView) {
        json.raw("{\"name\":")
        json.string(utf8: argument.nameUTF8)
        json.raw(",\"value\":")
        switch argument.value {
        case .signed(let number): json.number(number)
        case .unsigned(let number): json.number(number)
        case .text(let text, _): json.string(utf8: text)
        }
        json.raw("}")
    }
}

@_cdecl("tawon_task_entry")
public func tawonTaskEntry() -> UnsafePointer<tawon_task_descriptor> {
    TaskExport.descriptor(for: SyscallsTask.self)
}
