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
            writeProcess(pid: event.pid, comm: event.comm, to: &json)
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

    /// The process object, keys in the sample's order; only the fields `meta` selects.
    private func writeProcess(pid: UInt32, comm: String, to json: inout JSONText) {
        let process = host.process(pid)
        var first = true
        func field(_ selected: MetaSelection.Field, _ write: (inout JSONText) -> Void) {
            guard meta.fields.contains(selected) else { return }
            json.raw(first ? "{" : ",")
            first = false
            json.key(selected.rawValue)
            write(&json)
        }
        field(.cmd) { $0.string(process?.cmd ?? "") }
        field(.container) { json in
            json.raw("{\"id\":")
            json.string(process?.containerID ?? "")
            json.raw(",\"name\":")
            json.string(process?.containerName ?? "")
            json.raw("}")
        }
        field(.exe) { $0.string(process?.exe ?? "") }
        field(.name) { $0.string(process?.name ?? comm) }
        field(.ns) { $0.string(process?.ns ?? "") }
        field(.pid) { $0.number(pid) }
        field(.ppid) { $0.number(process?.ppid ?? 0) }
        field(.startedAt) { json in
            json.string(process.map { RFC3339.format(nanosecondsSinceEpoch: $0.startedAtNanoseconds, fractional: false) } ?? "")
        }
        json.raw(first ? "{}" : "}")
    }
}

@_cdecl("tawon_task_entry")
public func tawonTaskEntry() -> UnsafePointer<tawon_task_descriptor> {
    TaskExport.descriptor(for: SyscallsTask.self)
}
