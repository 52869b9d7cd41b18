import CTawonBPF

/// One record from the kernel, decoded by its kind.
public enum KernelEvent: Sendable, Equatable {
    case syscall(SyscallRecord)
    case process(ProcessRecord)
    case cgroup(CgroupRecord)
}

/// The decoders of kernel records, by kind: adding a kind of record is adding its layout in
/// `bpf/` and registering its decoder here.
struct KernelRecordDecoders: Sendable {
    typealias Decode = @Sendable (UnsafeRawBufferPointer) -> KernelEvent?

    /// Indexed by kind: kinds are small numbers, and this is looked up for every record.
    private var decoders: [Decode?] = []

    mutating func register(_ kind: tawon_record_kind, _ decode: @escaping Decode) {
        let index = Int(kind.rawValue)
        if decoders.count <= index { decoders += Array(repeating: nil, count: index + 1 - decoders.count) }
        decoders[index] = decode
    }

    /// The record decoded, its header read already; nil when it is malformed or of a kind
    /// nobody registered.
    func decode(_ raw: UnsafeRawBufferPointer, header: RecordHeader) -> KernelEvent? {
        guard Int(header.kind) < decoders.count, let decode = decoders[Int(header.kind)] else { return nil }
        return decode(UnsafeRawBufferPointer(rebasing: raw[..<Int(header.recordSize)]))
    }

    /// Whether some decoder reads records of this kind.
    func knows(_ kind: UInt16) -> Bool { Int(kind) < decoders.count && decoders[Int(kind)] != nil }

    /// Every kind the programs in `bpf/` write.
    static let standard: KernelRecordDecoders = {
        var decoders = KernelRecordDecoders()
        decoders.register(TAWON_RECORD_SYSCALL_ENTER) { SyscallRecord($0).map(KernelEvent.syscall) }
        decoders.register(TAWON_RECORD_SYSCALL_EXIT) { SyscallRecord($0).map(KernelEvent.syscall) }
        decoders.register(TAWON_RECORD_SYSCALL_PENDING) { SyscallRecord($0).map(KernelEvent.syscall) }
        decoders.register(TAWON_RECORD_SYSCALL_FINAL) { SyscallRecord($0).map(KernelEvent.syscall) }
        decoders.register(TAWON_RECORD_PROCESS_EXEC) { ProcessRecord($0, change: .exec).map(KernelEvent.process) }
        decoders.register(TAWON_RECORD_PROCESS_FORK) { ProcessRecord($0, change: .fork).map(KernelEvent.process) }
        decoders.register(TAWON_RECORD_PROCESS_EXIT) { ProcessRecord($0, change: .exit).map(KernelEvent.process) }
        decoders.register(TAWON_RECORD_PROCESS_RENAME) { ProcessRecord($0, change: .rename).map(KernelEvent.process) }
        decoders.register(TAWON_RECORD_CGROUP_MKDIR) { CgroupRecord($0, change: .made).map(KernelEvent.cgroup) }
        decoders.register(TAWON_RECORD_CGROUP_RMDIR) { CgroupRecord($0, change: .removed).map(KernelEvent.cgroup) }
        return decoders
    }()
}
