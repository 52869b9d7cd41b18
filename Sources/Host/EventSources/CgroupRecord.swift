import CTawonBPF

/// A cgroup made or removed, as the kernel reported it.
public struct CgroupRecord: Sendable, Equatable {
    public enum Change: Sendable, Equatable {
        case made
        case removed
    }

    public var change: Change
    /// CLOCK_BOOTTIME nanoseconds.
    public var bootNanoseconds: UInt64
    public var cpu: UInt32
    /// The process that made or removed it (a runtime's).
    public var pid: UInt32
    public var tid: UInt32
    public var comm: String
    /// The cgroup's kernfs id.
    public var cgroupID: UInt64
    /// 0 for the unified (v2) hierarchy.
    public var hierarchyID: UInt32
    /// Within its hierarchy, e.g. "/machine.slice/libpod-ID.scope".
    public var path: String

    public init(
        change: Change, path: String, cgroupID: UInt64 = 0, hierarchyID: UInt32 = 0, pid: UInt32 = 0, comm: String = "",
        bootNanoseconds: UInt64 = 0
    ) {
        self.change = change
        self.path = path
        self.cgroupID = cgroupID
        self.hierarchyID = hierarchyID
        self.pid = pid
        self.tid = pid
        self.cpu = 0
        self.comm = comm
        self.bootNanoseconds = bootNanoseconds
    }

    /// Parses a mkdir or rmdir record; nil for a record too short for the layout.
    init?(_ raw: UnsafeRawBufferPointer, change: Change) {
        guard raw.count >= MemoryLayout<cgroup_event>.size else { return nil }
        let event = raw.loadUnaligned(as: cgroup_event.self)
        let path = withUnsafeBytes(of: event.path) { Array($0.prefix(min(Int(event.path_length), $0.count))) }
        self.init(
            change: change, path: String(decoding: path, as: UTF8.self), cgroupID: event.cgroup_id,
            hierarchyID: event.hierarchy_id, pid: event.header.tgid, comm: cString(event.comm),
            bootNanoseconds: event.header.timestamp_ns)
        cpu = event.header.cpu
        tid = event.header.tid
    }
}
