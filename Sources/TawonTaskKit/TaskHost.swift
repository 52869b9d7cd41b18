import JSONText
import TaskABI

/// The host's services, for one instance. Thread-safe: usable from any thread until the
/// instance is destroyed.
public final class TaskHost: @unchecked Sendable {
    public enum LogLevel: Int32, Sendable {
        case trace = 0, debug, info, notice, warning, error, critical
    }

    /// Process information as the host's process table knows it.
    public struct Process: Sendable, Equatable {
        public var pid: UInt32
        public var ppid: UInt32
        public var name: String
        public var cmd: String
        public var exe: String
        public var ns: String
        public var startedAtNanoseconds: Int64
        public var containerID: String
        public var containerName: String
        /// As `TaskEvent.processGeneration`.
        public var generation: UInt64
    }

    private let api: UnsafePointer<tawon_host_api>
    private let context: OpaquePointer?

    init(api: UnsafePointer<tawon_host_api>, context: OpaquePointer?) {
        self.api = api
        self.context = context
    }

    /// Writes one line to the host's log.
    public func log(_ level: LogLevel, _ message: String) {
        api.pointee.log?(context, level.rawValue, message)
    }

    /// Publishes one record: `json` must be one JSON object shaped by the output schema.
    public func emit(json: String, timestampNanoseconds: UInt64 = 0) throws {
        var json = json
        try json.withUTF8 { try emit(jsonUTF8: UnsafeRawBufferPointer($0), timestampNanoseconds: timestampNanoseconds) }
    }

    /// Publishes one record written with `JSONText`, without copying it.
    public func emit(json: JSONText, timestampNanoseconds: UInt64 = 0) throws {
        try json.bytes.withUnsafeBytes { try emit(jsonUTF8: $0, timestampNanoseconds: timestampNanoseconds) }
    }

    /// Publishes one record given as UTF-8 bytes; the host copies what it keeps.
    public func emit(jsonUTF8 bytes: UnsafeRawBufferPointer, timestampNanoseconds: UInt64 = 0) throws {
        var record = tawon_record(
            struct_size: UInt32(MemoryLayout<tawon_record>.size),
            json: bytes.baseAddress?.assumingMemoryBound(to: CChar.self), json_length: UInt32(bytes.count),
            timestamp_ns: timestampNanoseconds)
        let rc = api.pointee.emit?(context, &record) ?? tawon_rc(TAWON_RC_UNSUPPORTED)
        if rc != tawon_rc(TAWON_RC_OK) { throw TaskError("the host refused a record (code \(rc))") }
    }

    /// Looks up a process, or nil when the host does not know it.
    public func process(_ pid: UInt32) -> Process? {
        var info = tawon_process_info()
        info.struct_size = UInt32(MemoryLayout<tawon_process_info>.size)
        guard api.pointee.process_info?(context, pid, &info) == tawon_rc(TAWON_RC_OK) else { return nil }
        return Process(
            pid: info.pid, ppid: info.ppid, name: copy(info.name), cmd: copy(info.cmd),
            exe: copy(info.exe), ns: copy(info.ns), startedAtNanoseconds: info.started_at_ns,
            containerID: copy(info.container_id), containerName: copy(info.container_name),
            generation: info.generation)
    }

    /// Asks for events of a registered function. Call it from `init` or `start`.
    public func hook(_ functionID: UInt64) throws {
        let rc = api.pointee.hook_function?(context, functionID) ?? tawon_rc(TAWON_RC_UNSUPPORTED)
        if rc != tawon_rc(TAWON_RC_OK) { throw refusal("hook function \(functionID)", rc) }
    }

    /// Asks for each call of a registered function as a whole, once it has returned: its
    /// arguments (with what the call wrote) and its return value. Call it from `init` or `start`.
    public func subscribeCalls(_ functionID: UInt64) throws {
        try subscribe(TAWON_EVENT_SYSCALL, functionID, "calls of function \(functionID)", lacking: "reports no return values")
    }

    /// A process lifecycle event a task can subscribe to.
    public enum ProcessEvent: UInt64, Sendable {
        case exec = 1
        case exit = 2
    }

    /// Asks for process lifecycle events. Call it from `init` or `start`.
    public func subscribe(_ event: ProcessEvent) throws {
        try subscribe(TAWON_EVENT_PROCESS, event.rawValue, "\(event)", lacking: "has no process events")
    }

    /// A container lifecycle event a task can subscribe to (ABI 1.2).
    public enum ContainerEvent: UInt64, Sendable, CaseIterable {
        case initNamespaces = 1
        case existing = 2
        case create = 3
        case remove = 4
    }

    /// Asks for container lifecycle events. Call it from `init` or `start`.
    public func subscribe(_ event: ContainerEvent) throws {
        try subscribe(TAWON_EVENT_CONTAINER, event.rawValue, "\(event)", lacking: "has no container events")
    }

    /// `subscribe` of the host's table, its refusal thrown with the host's reason.
    private func subscribe(_ kind: Int, _ id: UInt64, _ what: String, lacking: String) throws {
        guard let subscribe = api.pointee.subscribe else { throw TaskError("this host \(lacking)") }
        let rc = subscribe(context, tawon_event_kind(kind), id)
        if rc != tawon_rc(TAWON_RC_OK) { throw refusal("subscribe to \(what)", rc) }
    }

    /// One fact about a process by its dotted name (`process.exe`, `pod.namespace`,
    /// `container.labels`...), as text: strings as they are, numbers in decimal, maps as JSON.
    public func field(_ name: String, of pid: UInt32) throws -> String {
        guard let processField = api.pointee.process_field else { throw TaskError("this host has no process fields") }
        var value = tawon_field_value()
        value.struct_size = UInt32(MemoryLayout<tawon_field_value>.size)
        let rc = processField(context, pid, name, &value)
        guard rc == tawon_rc(TAWON_RC_OK) else { throw refusal("read \(name) of process \(pid)", rc) }
        return copy(value.text)
    }

    /// The host's reason for a refused call, or its code when it gave none.
    private func refusal(_ what: String, _ rc: tawon_rc) -> TaskError {
        let reason = api.pointee.last_error.map { copy($0(context)) } ?? ""
        return TaskError("the host would not \(what): \(reason.isEmpty ? "code \(rc)" : reason)")
    }
}

private func copy(_ text: UnsafePointer<CChar>?) -> String {
    text.map { String(cString: $0) } ?? ""
}
