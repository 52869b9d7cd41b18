/// The kernel event source: the process program, the syscalls and cgroups programs over its maps,
/// and the reader of the ring buffer they share. Records are handed on raw, in the order the ring
/// buffer holds them, with their places in it: the owner may hold them there (see
/// `RingBufferReader`) and decode them by kind with `decoders` when it gets to them.
final class KernelEventSource {
    let process: ProcessProgram
    let syscalls: SyscallsProgram
    let cgroups: CgroupsProgram
    let reader: RingBufferReader
    let decoders: KernelRecordDecoders

    /// Loads and attaches the programs; `onRecord` gets each record and its place in the ring;
    /// `releasePoint` says where the first record the owner still holds lies (`UInt64.max`: none).
    init(
        configuration: KernelConfiguration, decoders: KernelRecordDecoders = .standard,
        releasePoint: @escaping () -> UInt64, onRecord: @escaping RingBufferReader.RecordHandler
    ) throws {
        self.decoders = decoders
        process = try ProcessProgram(configuration: configuration)
        syscalls = try SyscallsProgram(configuration: configuration, sharingMapsOf: process)
        cgroups = try CgroupsProgram(configuration: configuration, sharingMapsOf: process)
        reader = try RingBufferReader(mapDescriptor: process.eventsMap, holding: releasePoint, onRecord: onRecord)
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
