/// The kernel event source: the process program, the syscalls and cgroups programs over its maps,
/// and the reader of the ring buffer they share. Records are decoded by kind and handed on in the order
/// the ring buffer holds them.
final class KernelEventSource {
    let process: ProcessProgram
    let syscalls: SyscallsProgram
    let cgroups: CgroupsProgram
    let reader: RingBufferReader

    /// Loads and attaches the programs; `onEvent` gets each decoded record, `onMalformed` is
    /// called for a record no decoder accepts.
    init(
        configuration: KernelConfiguration, decoders: KernelRecordDecoders = .standard,
        onEvent: @escaping (KernelEvent) -> Void, onMalformed: @escaping () -> Void
    ) throws {
        process = try ProcessProgram(configuration: configuration)
        syscalls = try SyscallsProgram(configuration: configuration, sharingMapsOf: process)
        cgroups = try CgroupsProgram(configuration: configuration, sharingMapsOf: process)
        reader = try RingBufferReader(mapDescriptor: process.eventsMap) { raw in
            if let event = decoders.decode(raw) { onEvent(event) } else { onMalformed() }
        }
    }

    /// The kernel's IDs of every program loaded.
    func programIDs() throws -> [UInt32] {
        try process.programIDs() + syscalls.programIDs() + cgroups.programIDs()
    }

    /// Detaches and unloads everything, readers first.
    func close() {
        reader.close()
        cgroups.close()
        syscalls.close()
        process.close()
    }
}
