import CTawonBPF

/// A syscall as the kernel saw it: at entry, at its return, while it had not returned, or as
/// it ended its thread.
public struct SyscallRecord: Sendable, Equatable {
    /// When the kernel reported the call.
    public enum Moment: Sendable, Equatable {
        /// At entry, for directives that hook the call there.
        case entry
        /// At its return, with its result: the call whole.
        case exit
        /// Not returned yet: its thread blocked in it, or it is an exec replacing the image.
        case pending
        /// exit or exit_group: it ended its thread and never returns.
        case final
    }

    /// Captured user memory of one argument.
    public struct Capture: Sendable, Equatable {
        /// `structure`: a struct the call filled (stat, utsname, a pipe's fds), raw bytes.
        /// `strings`: an array of strings (execve's argv), each ended by a NUL.
        public enum Kind: Sendable, Equatable { case string, buffer, sockaddr, structure, strings }
        public var argument: Int
        public var kind: Kind
        public var truncated: Bool
        /// The memory could not be read (a bad pointer).
        public var fault: Bool
        public var bytes: [UInt8]
    }

    /// CLOCK_BOOTTIME nanoseconds (`KernelClock` turns them into wall-clock time).
    public var bootNanoseconds: UInt64
    public var moment: Moment
    /// At exit: the raw return value (a negative errno on failure).
    public var returnValue: Int64
    public var cpu: UInt32
    /// Directives watching both the process and the syscall (bit n: directive slot n).
    public var directives: UInt64
    public var arguments: SyscallArguments
    public var capabilities: CapabilitySets
    public var pid: UInt32
    public var tid: UInt32
    public var number: Int
    public var isCompat: Bool
    public var comm: String
    public var captures: [Capture]

    /// Bytes in a record's fixed part: all of a record that captured nothing.
    static let headerSize = MemoryLayout<syscalls_event_header>.size
    /// Where a record with captures has its capture slots, and where its captured memory starts.
    static let slotsOffset = MemoryLayout<syscalls_event>.offset(of: \.captures)!
    static let dataOffset = slotsOffset + Int(SYSCALLS_MAX_CAPTURES) * MemoryLayout<syscalls_capture>.stride

    init?(_ raw: UnsafeRawBufferPointer) {
        guard raw.count >= Self.headerSize, let base = raw.baseAddress else { return nil }
        // Ring buffer records are 8-byte aligned: the header is read where it lies, field by
        // field, not copied whole (it was the largest copy per record).
        if Int(bitPattern: base) % MemoryLayout<syscalls_event_header>.alignment == 0 {
            self.init(header: base.assumingMemoryBound(to: syscalls_event_header.self), raw: raw)
        } else {
            var header = raw.loadUnaligned(as: syscalls_event_header.self)
            self.init(header: &header, raw: raw)
        }
    }

    private init(header pointer: UnsafePointer<syscalls_event_header>, raw: UnsafeRawBufferPointer) {
        bootNanoseconds = pointer.pointee.header.timestamp_ns
        moment = Self.moment(of: UInt32(pointer.pointee.header.kind))
        returnValue = pointer.pointee.ret
        cpu = pointer.pointee.header.cpu
        directives = pointer.pointee.header.directives
        arguments = SyscallArguments(pointer.pointee.args)
        capabilities = CapabilitySets(
            inheritable: pointer.pointee.cap_inheritable, permitted: pointer.pointee.cap_permitted,
            effective: pointer.pointee.cap_effective, bounding: pointer.pointee.cap_bounding,
            ambient: pointer.pointee.cap_ambient)
        pid = pointer.pointee.header.tgid
        tid = pointer.pointee.header.tid
        number = Int(pointer.pointee.syscall_nr)
        isCompat = pointer.pointee.compat != 0
        comm = cString(pointer.pointee.comm)
        let count = min(Int(pointer.pointee.capture_count), Int(SYSCALLS_MAX_CAPTURES))
        guard count > 0 else {
            captures = []
            return
        }
        guard raw.count >= Self.dataOffset else {
            captures = []
            return
        }
        let data = UnsafeRawBufferPointer(rebasing: raw[Self.dataOffset...])
        captures = (0..<count).map { index in
            let slot = raw.loadUnaligned(fromByteOffset: Self.slotsOffset + index * MemoryLayout<syscalls_capture>.stride, as: syscalls_capture.self)
            let start = min(Int(slot.offset), data.count)
            let end = min(start + Int(slot.length), data.count)
            return Capture(
                argument: Int(slot.arg),
                kind: Self.kind(of: slot.kind),
                truncated: slot.truncated != 0, fault: slot.fault != 0, bytes: Array(data[start..<end]))
        }
    }

    private static func moment(of kind: UInt32) -> Moment {
        switch kind {
        case TAWON_RECORD_SYSCALL_EXIT.rawValue: return .exit
        case TAWON_RECORD_SYSCALL_PENDING.rawValue: return .pending
        case TAWON_RECORD_SYSCALL_FINAL.rawValue: return .final
        default: return .entry
        }
    }

    private static func kind(of raw: UInt8) -> Capture.Kind {
        switch UInt32(raw) {
        case SYSCALLS_CAPTURE_STRING.rawValue, SYSCALLS_CAPTURE_STRING_RETURN.rawValue: return .string
        case SYSCALLS_CAPTURE_SOCKADDR.rawValue, SYSCALLS_CAPTURE_SOCKADDR_LENGTH_POINTER.rawValue: return .sockaddr
        case SYSCALLS_CAPTURE_FIXED.rawValue: return .structure
        default: return .buffer
        }
    }

    /// The whole call: this entry's arguments, `exit`'s time and return value, and for each
    /// argument the memory read at entry, or at exit where entry could not read it (not yet
    /// paged in) or the call wrote it (an output, kept only when the call succeeded).
    public func completed(by exit: SyscallRecord) -> SyscallRecord {
        var whole = self
        whole.moment = .exit
        // Reported, like every call, when it returned: that is where it stands in time order.
        whole.bootNanoseconds = exit.bootNanoseconds
        whole.returnValue = exit.returnValue
        whole.captures = (0..<6).compactMap { index in
            let atEntry = capture(of: index)
            if let atEntry, !atEntry.fault { return atEntry }
            guard let atExit = exit.capture(of: index) else { return atEntry }
            if atEntry != nil { return atExit }  // an input the entry could not read
            return exit.returnValue >= 0 ? atExit : nil
        }
        return whole
    }

    /// A successful execve or execveat: it returned 0 in the new image, where its old arguments
    /// can no longer be read; the exec's own record has the file name and argv as passed.
    public func completedByExec(filename: String, argv: [String], argvTruncated: Bool) -> SyscallRecord {
        var whole = self
        whole.moment = .exit
        whole.returnValue = 0
        let (pathArgument, argvArgument) = number == 322 && !isCompat ? (1, 2) : (0, 1)  // execveat(dfd, ...)
        let kept = captures.filter { $0.argument != pathArgument && $0.argument != argvArgument }
        whole.captures = kept + [
            Capture(argument: pathArgument, kind: .string, truncated: false, fault: false, bytes: Array(filename.utf8)),
            Capture(argument: argvArgument, kind: .strings, truncated: argvTruncated, fault: false,
                    bytes: argv.flatMap { Array($0.utf8) + [0] }),
        ]
        return whole
    }

    /// The capture of argument `index`, if one was made.
    public func capture(of index: Int) -> Capture? {
        captures.first { $0.argument == index }
    }
}

/// A syscall's six argument registers, held inline: an array here cost an allocation per record.
public struct SyscallArguments: RandomAccessCollection, Sendable, Equatable {
    public typealias Registers = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    private var registers: Registers

    public init(_ registers: Registers) {
        self.registers = registers
    }

    /// The first six values, zeros after the last.
    public init(_ values: some Sequence<UInt64>) {
        registers = (0, 0, 0, 0, 0, 0)
        for (index, value) in values.prefix(6).enumerated() { self[index] = value }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { 6 }

    public subscript(index: Int) -> UInt64 {
        get {
            precondition(indices.contains(index), "argument \(index) of 6")
            return withUnsafeBytes(of: registers) { $0.load(fromByteOffset: index * 8, as: UInt64.self) }
        }
        set {
            precondition(indices.contains(index), "argument \(index) of 6")
            withUnsafeMutableBytes(of: &registers) { $0.storeBytes(of: newValue, toByteOffset: index * 8, as: UInt64.self) }
        }
    }

    public static func == (a: Self, b: Self) -> Bool { a.elementsEqual(b) }
}

/// The five capability sets of a task, as bit masks (bit n: capability n).
public struct CapabilitySets: Sendable, Equatable, Codable {
    public var inheritable: UInt64
    public var permitted: UInt64
    public var effective: UInt64
    public var bounding: UInt64
    public var ambient: UInt64

    /// Every set empty.
    public init() {
        self.init(inheritable: 0, permitted: 0, effective: 0, bounding: 0, ambient: 0)
    }

    public init(inheritable: UInt64, permitted: UInt64, effective: UInt64, bounding: UInt64, ambient: UInt64) {
        self.inheritable = inheritable
        self.permitted = permitted
        self.effective = effective
        self.bounding = bounding
        self.ambient = ambient
    }
}

/// A C char array (as Swift imports it: a tuple) up to its NUL, as a String.
func cString<Tuple>(_ tuple: Tuple) -> String {
    withUnsafeBytes(of: tuple) { bytes in
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}
