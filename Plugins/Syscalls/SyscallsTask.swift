import DemoSimulation
import JSONText
import SyscallTable
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
    /// Calls are published once they returned (not entryOnly).
    private let wholeCalls: Bool

    init(host: TaskHost, options: TaskOptions) throws {
        self.host = host
        compact = options.bool("compact")
        meta = try MetaSelection(options.string("meta"))
        demo = try Self.demoLoop(options, host: host)
        // By default each call is published once it returned, with what it wrote and its
        // result; entryOnly publishes at entry, sooner, without them.
        let entryOnly = options.bool("entryOnly")
        wholeCalls = !entryOnly
        for id in try FunctionSelection(options: options).functionIDs {
            if entryOnly { try host.hook(id) } else { try host.subscribeCalls(id) }
        }
    }

    /// `demo:NAME[+NAME]` runs simulations in the background every `demoInterval` seconds,
    /// while the directive is active; a simulation that cannot run says why in the log.
    private static func demoLoop(_ options: TaskOptions, host: TaskHost) throws -> DemoLoop? {
        guard options.isSet("demo") else { return nil }
        let names: [String]
        do { names = try DemoSimulator.names(from: options.string("demo")) } catch { throw TaskError("demo: \(error)") }
        guard (1...86_400).contains(options.int64("demoInterval")) else {
            throw TaskError("demoInterval: \(options.int64("demoInterval")) is not a number of seconds from 1 to 86400")
        }
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
                event.argumentView(index).writeJSON(into: &json)
            }
            json.raw("],")
        }
        let result = event.returnValue.map(CallResult.init)
        if event.callID != 0 {
            json.raw("\"callID\":")
            json.number(event.callID)
            json.raw(",")
        }
        if let errno = result?.errno {
            json.raw("\"errno\":")
            json.string(errno)
            json.raw(",")
        }
        json.raw("\"function\":")
        json.string(utf8: event.functionNameUTF8)
        if meta.includesProcess {
            json.raw(",\"process\":")
            json.rawJSON(processes.fragment(for: event, meta: meta, host: host))
        }
        if event.callID != 0 && result != nil { json.raw(",\"resumed\":true") }
        if let result {
            json.raw(",\"return\":")
            json.number(result.value)
        } else if event.isEntryOnly && wholeCalls {
            json.raw(",\"unfinished\":true")  // still blocked (with a callID), or never returns
        }
        json.raw("}")
        try host.emit(json: json, timestampNanoseconds: event.timestampNanoseconds)
    }

    func stop() throws { demo?.stop() }

}

/// A call's result as strace shows it: the value, or -1 and the errno's name on failure.
struct CallResult {
    let value: Int64
    let errno: String?

    init(_ raw: Int64) {
        if raw < 0 && raw >= -4095 {
            value = -1
            errno = ErrnoNames.byNumber[Int32(-raw)] ?? "E\(-raw)"
        } else {
            value = raw
            errno = nil
        }
    }
}

@_cdecl("tawon_task_entry")
public func tawonTaskEntry() -> UnsafePointer<tawon_task_descriptor> {
    TaskExport.descriptor(for: SyscallsTask.self)
}
