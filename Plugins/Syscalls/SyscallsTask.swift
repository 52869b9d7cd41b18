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

    init(host: TaskHost, options: TaskOptions) throws {
        self.host = host
        compact = options.bool("compact")
        meta = try MetaSelection(options.string("meta"))
        for id in try FunctionSelection(options: options).functionIDs { try host.hook(id) }
    }

    func start() throws {}

    func handle(_ event: TaskEvent) throws {
        var json = JSONText(capacity: 512)
        json.raw("{")
        if !compact {
            json.raw("\"args\":[")
            for index in 0..<event.argumentCount {
                if index > 0 { json.raw(",") }
                write(event.argument(index), to: &json)
            }
            json.raw("],")
        }
        json.raw("\"function\":")
        json.string(event.functionName)
        if meta.includesProcess {
            json.raw(",\"process\":")
            json.rawJSON(processes.fragment(for: event, meta: meta, host: host))
        }
        json.raw("}")
        try host.emit(json: json.string, timestampNanoseconds: event.timestampNanoseconds)
    }

    func stop() throws {}

    private func write(_ argument: TaskEventArgument, to json: inout JSONText) {
        json.raw("{\"name\":")
        json.string(argument.name)
        json.raw(",\"value\":")
        switch argument.value {
        case .signed(let number): json.number(number)
        case .unsigned(let number): json.number(number)
        case .text(let text, _): json.string(text)
        }
        json.raw("}")
    }
}

@_cdecl("tawon_task_entry")
public func tawonTaskEntry() -> UnsafePointer<tawon_task_descriptor> {
    TaskExport.descriptor(for: SyscallsTask.self)
}
