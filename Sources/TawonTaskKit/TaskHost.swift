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
        if rc != tawon_rc(TAWON_RC_OK) { throw TaskError("the host would not hook function \(functionID) (code \(rc))") }
    }
}

private func copy(_ text: UnsafePointer<CChar>?) -> String {
    text.map { String(cString: $0) } ?? ""
}
