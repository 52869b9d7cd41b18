import CTawonBPF

/// A process lifecycle record: what the kernel said about a process at fork, exec or exit.
public struct ProcessRecord: Sendable, Equatable {
    public enum Change: Sendable, Equatable {
        /// The process runs a new program: decide whether to watch it.
        case exec
        /// A watched process made this child, which inherited its mask.
        case fork
        /// The process (thread group) ended.
        case exit
        /// The process renamed its main thread (`comm` is the new name).
        case rename
    }

    public var change: Change
    /// CLOCK_BOOTTIME nanoseconds.
    public var bootNanoseconds: UInt64
    public var cpu: UInt32
    public var pid: UInt32
    public var tid: UInt32
    /// exec: every active directive; fork: the mask the child inherited; exit: the mask it had.
    public var directives: UInt64
    public var ppid: UInt32
    public var comm: String
    /// Nanoseconds since boot.
    public var startBoottimeNanoseconds: UInt64
    /// Inode number of the mount namespace.
    public var mountNamespace: UInt32
    /// The process's capability sets at that moment.
    public var capabilities: CapabilitySets
    /// The file executed (exec only; "" otherwise).
    public var exe: String
    /// The command line's arguments (exec only).
    public var arguments: [String]
    /// The wait status (exit only).
    public var exitStatus: Int32
    /// The name of the process's cgroup (the last component of its path in the unified
    /// hierarchy): it holds a container's id.
    public var cgroupName = ""

    public init(
        change: Change, pid: UInt32, ppid: UInt32, comm: String, startBoottimeNanoseconds: UInt64 = 0,
        mountNamespace: UInt32 = 0, exe: String = "", arguments: [String] = [], bootNanoseconds: UInt64 = 0,
        directives: UInt64 = 0, capabilities: CapabilitySets = .init(), exitStatus: Int32 = 0
    ) {
        self.change = change
        self.bootNanoseconds = bootNanoseconds
        self.cpu = 0
        self.pid = pid
        self.tid = pid
        self.directives = directives
        self.ppid = ppid
        self.comm = comm
        self.startBoottimeNanoseconds = startBoottimeNanoseconds
        self.mountNamespace = mountNamespace
        self.capabilities = capabilities
        self.exe = exe
        self.arguments = arguments
        self.exitStatus = exitStatus
    }

    /// Parses a fork, exec or exit record; nil for a record too short for the layout.
    init?(_ raw: UnsafeRawBufferPointer, change: Change) {
        guard raw.count >= MemoryLayout<process_event>.size else { return nil }
        let event = raw.loadUnaligned(as: process_event.self)
        let exe = withUnsafeBytes(of: event.exe) { Array($0.prefix(min(Int(event.exe_length), $0.count))) }
        let arguments = withUnsafeBytes(of: event.args) { Array($0.prefix(min(Int(event.args_length), $0.count))) }
        self.init(
            change: change, pid: event.header.tgid, ppid: event.parent_tgid, comm: cString(event.comm),
            startBoottimeNanoseconds: event.start_boottime, mountNamespace: event.mnt_ns,
            exe: String(decoding: exe, as: UTF8.self),
            arguments: arguments.split(separator: 0).map { String(decoding: $0, as: UTF8.self) },
            bootNanoseconds: event.header.timestamp_ns, directives: event.header.directives,
            capabilities: CapabilitySets(
                inheritable: event.cap_inheritable, permitted: event.cap_permitted, effective: event.cap_effective,
                bounding: event.cap_bounding, ambient: event.cap_ambient),
            exitStatus: event.exit_code)
        cpu = event.header.cpu
        tid = event.header.tid
        cgroupName = cString(event.cgroup)
    }
}
