import CTawonBPF

/// The common header every kernel record starts with (`struct tawon_record_header`).
struct RecordHeader {
    static let size = MemoryLayout<tawon_record_header>.size

    let kind: UInt16
    /// Bytes in the whole record, as the program says.
    let recordSize: UInt32
    /// When the kernel took the record (CLOCK_BOOTTIME nanoseconds).
    let timestamp: UInt64

    /// Reads the header of `raw`; nil when the record is too short for one or says it is
    /// longer than the bytes the ring buffer gave.
    init?(_ raw: UnsafeRawBufferPointer) {
        guard raw.count >= Self.size else { return nil }
        kind = raw.loadUnaligned(fromByteOffset: MemoryLayout<tawon_record_header>.offset(of: \.kind)!, as: UInt16.self)
        recordSize = raw.loadUnaligned(fromByteOffset: MemoryLayout<tawon_record_header>.offset(of: \.size)!, as: UInt32.self)
        guard recordSize >= UInt32(Self.size), Int(recordSize) <= raw.count else { return nil }
        timestamp = raw.loadUnaligned(
            fromByteOffset: MemoryLayout<tawon_record_header>.offset(of: \.timestamp_ns)!, as: UInt64.self)
    }

    /// A syscall's record (at entry, at exit, pending or final).
    var isSyscall: Bool {
        switch UInt32(kind) {
        case TAWON_RECORD_SYSCALL_ENTER.rawValue, TAWON_RECORD_SYSCALL_EXIT.rawValue,
            TAWON_RECORD_SYSCALL_PENDING.rawValue, TAWON_RECORD_SYSCALL_FINAL.rawValue:
            true
        default: false
        }
    }

    /// A process's record (exec, fork, exit, rename).
    var isProcess: Bool {
        switch UInt32(kind) {
        case TAWON_RECORD_PROCESS_EXEC.rawValue, TAWON_RECORD_PROCESS_FORK.rawValue,
            TAWON_RECORD_PROCESS_EXIT.rawValue, TAWON_RECORD_PROCESS_RENAME.rawValue:
            true
        default: false
        }
    }
}
