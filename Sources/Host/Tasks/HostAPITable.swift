import Foundation
import Logging
import TaskABI

/// The `tawon_host_api` table every instance gets: C entry points into the host.
enum HostAPITable {
    /// Allocated once; the ABI wants it valid until `destroy` returns, so it is never freed.
    // Immutable after initialization, so sharing it across threads is safe.
    nonisolated(unsafe) static let shared: UnsafePointer<tawon_host_api> = {
        let table = UnsafeMutablePointer<tawon_host_api>.allocate(capacity: 1)
        table.initialize(
            to: tawon_host_api(
                struct_size: UInt32(MemoryLayout<tawon_host_api>.size),
                abi_major: TaskABIVersion.host.major, abi_minor: TaskABIVersion.host.minor,
                abi_patch: TaskABIVersion.host.patch, log: hostLog, emit: hostEmit,
                process_info: hostProcessInfo, hook_function: hostHookFunction))
        return UnsafePointer(table)
    }()
}

private func hostLog(_ context: OpaquePointer?, _ level: tawon_log_level, _ message: UnsafePointer<CChar>?) {
    guard let context = InstanceContext.from(context), let message else { return }
    let levels: [Logger.Level] = [.trace, .debug, .info, .notice, .warning, .error, .critical]
    let level = levels[Int(min(max(level, 0), 6))]
    context.services.logger.log(level: level, "\(String(cString: message))", metadata: context.logMetadata)
}

private func hostEmit(_ context: OpaquePointer?, _ record: UnsafePointer<tawon_record>?) -> tawon_rc {
    guard let context = InstanceContext.from(context), let record,
        record.pointee.struct_size >= MemoryLayout<tawon_record>.size, let json = record.pointee.json
    else { return tawon_rc(TAWON_RC_INVALID_ARGUMENT) }
    let bytes = UnsafeRawBufferPointer(start: json, count: Int(record.pointee.json_length))
    guard JSONObjectCheck.isObject(bytes) else { return tawon_rc(TAWON_RC_INVALID_ARGUMENT) }
    var timestamp = record.pointee.timestamp_ns
    if timestamp == 0 { timestamp = WallClock.nowNanoseconds() }
    context.services.emit(
        EmittedRecord(
            taskName: context.taskName, directiveID: context.directiveID,
            json: String(decoding: bytes, as: UTF8.self), timestampNanoseconds: timestamp))
    return tawon_rc(TAWON_RC_OK)
}

private func hostProcessInfo(
    _ context: OpaquePointer?, _ pid: UInt32, _ out: UnsafeMutablePointer<tawon_process_info>?
) -> tawon_rc {
    guard let context = InstanceContext.from(context), let out,
        out.pointee.struct_size >= MemoryLayout<tawon_process_info>.size
    else { return tawon_rc(TAWON_RC_INVALID_ARGUMENT) }
    guard let process = context.services.processInfo(pid) else { return tawon_rc(TAWON_RC_NOT_FOUND) }
    let strings = context.keep([
        process.name, process.cmd, process.exe, process.ns, process.containerID, process.containerName,
    ])
    out.pointee = tawon_process_info(
        struct_size: UInt32(MemoryLayout<tawon_process_info>.size), pid: process.pid,
        ppid: process.ppid, name: strings[0], cmd: strings[1], exe: strings[2], ns: strings[3],
        started_at_ns: process.startedAtNanoseconds, container_id: strings[4],
        container_name: strings[5], generation: process.generation)
    return tawon_rc(TAWON_RC_OK)
}

private func hostHookFunction(_ context: OpaquePointer?, _ id: UInt64) -> tawon_rc {
    guard let context = InstanceContext.from(context) else { return tawon_rc(TAWON_RC_INVALID_ARGUMENT) }
    return tawon_rc(context.hook(id))
}

/// Wall-clock time in nanoseconds since the epoch.
enum WallClock {
    static func nowNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
