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
                process_info: hostProcessInfo, hook_function: hostHookFunction, subscribe: hostSubscribe,
                process_field: hostProcessField, last_error: hostLastError))
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
    guard let context = InstanceContext.from(context) else { return tawon_rc(TAWON_RC_INVALID_ARGUMENT) }
    // tawon_record has not grown since 1.0: a struct that large holds every field read here.
    guard let record, record.pointee.struct_size >= ABIStructSizes.record, let json = record.pointee.json else {
        return context.refuse(TAWON_RC_INVALID_ARGUMENT, "emit: a NULL record, a struct smaller than 1.0's, or NULL json")
    }
    let bytes = UnsafeRawBufferPointer(start: json, count: Int(record.pointee.json_length))
    guard JSONObjectCheck.isObject(bytes) else {
        return context.refuse(TAWON_RC_INVALID_ARGUMENT, "emit: the record is not one JSON object")
    }
    var timestamp = record.pointee.timestamp_ns
    if timestamp == 0 { timestamp = UInt64(KernelClock.nanoseconds(CLOCK_REALTIME)) }
    if let emitJSON = context.emitJSON, emitJSON(context.taskName, context.directiveID, bytes, timestamp) {
        return tawon_rc(TAWON_RC_OK)
    }
    context.emit(
        EmittedRecord(
            taskName: context.taskName, directiveID: context.directiveID,
            json: String(decoding: bytes, as: UTF8.self), timestampNanoseconds: timestamp,
            event: context.attachesEvents ? context.eventOfCallingThread : nil))
    return tawon_rc(TAWON_RC_OK)
}

private func hostProcessInfo(
    _ context: OpaquePointer?, _ pid: UInt32, _ out: UnsafeMutablePointer<tawon_process_info>?
) -> tawon_rc {
    guard let context = InstanceContext.from(context) else { return tawon_rc(TAWON_RC_INVALID_ARGUMENT) }
    guard let out, out.pointee.struct_size >= ABIStructSizes.processInfo else {
        return context.refuse(TAWON_RC_INVALID_ARGUMENT, "process_info: NULL, or a struct smaller than 1.0's")
    }
    guard let process = context.processInfo(pid) else {
        return context.refuse(TAWON_RC_NOT_FOUND, "process_info: no process \(pid) known")
    }
    let strings = context.lend([
        process.name, process.cmd, process.exe, process.ns, process.containerID, process.containerName,
    ])
    ABIStructSizes.fill(
        out,
        with: tawon_process_info(
            struct_size: 0, pid: process.pid, ppid: process.ppid, name: strings[0], cmd: strings[1],
            exe: strings[2], ns: strings[3], started_at_ns: process.startedAtNanoseconds,
            container_id: strings[4], container_name: strings[5], generation: process.generation))
    return context.succeed()
}

private func hostProcessField(
    _ context: OpaquePointer?, _ pid: UInt32, _ name: UnsafePointer<CChar>?,
    _ out: UnsafeMutablePointer<tawon_field_value>?
) -> tawon_rc {
    guard let context = InstanceContext.from(context) else { return tawon_rc(TAWON_RC_INVALID_ARGUMENT) }
    guard let name, let out, out.pointee.struct_size >= ABIStructSizes.fieldValue else {
        return context.refuse(TAWON_RC_INVALID_ARGUMENT, "process_field: a NULL name or out, or a struct too small")
    }
    let fieldName = String(cString: name)
    guard let field = ProcessField(rawValue: fieldName) else {
        return context.refuse(
            TAWON_RC_NOT_FOUND, "process_field: unknown field '\(fieldName.prefix(64))' (known: \(ProcessField.names))")
    }
    guard let process = context.processInfo(pid) else {
        return context.refuse(TAWON_RC_NOT_FOUND, "process_field: no process \(pid) known")
    }
    let (type, text, number): (Int, String, UInt64)
    switch field.value(of: process) {
    case .string(let value): (type, text, number) = (TAWON_FIELD_STRING, value, 0)
    case .unsigned(let value): (type, text, number) = (TAWON_FIELD_UINT64, "\(value)", value)
    case .signed(let value): (type, text, number) = (TAWON_FIELD_INT64, "\(value)", UInt64(bitPattern: value))
    case .json(let value): (type, text, number) = (TAWON_FIELD_JSON, value, 0)
    }
    let lent = context.lend([text])
    ABIStructSizes.fill(
        out,
        with: tawon_field_value(
            struct_size: 0, type: tawon_field_type(type), text: lent[0], text_length: UInt32(text.utf8.count),
            number: number))
    return context.succeed()
}

private func hostHookFunction(_ context: OpaquePointer?, _ id: UInt64) -> tawon_rc {
    guard let context = InstanceContext.from(context) else { return tawon_rc(TAWON_RC_INVALID_ARGUMENT) }
    return context.hook(id)
}

private func hostSubscribe(_ context: OpaquePointer?, _ kind: tawon_event_kind, _ id: UInt64) -> tawon_rc {
    guard let context = InstanceContext.from(context) else { return tawon_rc(TAWON_RC_INVALID_ARGUMENT) }
    return context.subscribe(kind: kind, id: id)
}

private func hostLastError(_ context: OpaquePointer?) -> UnsafePointer<CChar>? {
    InstanceContext.from(context)?.lastError() ?? UnsafePointer(emptyString)
}

nonisolated(unsafe) private let emptyString: UnsafeMutablePointer<CChar> = strdup("")!
