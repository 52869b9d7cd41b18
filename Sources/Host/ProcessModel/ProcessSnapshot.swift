/// What the host knows about one process, as tasks see it (`syscall.process` in the output).
public struct ProcessSnapshot: Sendable, Equatable, Codable {
    public var pid: UInt32
    public var ppid: UInt32
    public var name: String
    public var cmd: String
    public var exe: String
    /// Mount namespace as "{device ID}-{inode number}".
    public var ns: String
    /// Wall-clock start time, nanoseconds since the Unix epoch.
    public var startedAtNanoseconds: Int64
    public var containerID: String
    public var containerName: String
    /// The container's labels, as its runtime reports them.
    public var containerLabels: [String: String] = [:]
    /// The pod the container belongs to; empty when unknown.
    public var pod = PodIdentity()
    /// The container's runtime has been asked about it and has not answered yet: conditions on
    /// its name, labels or pod cannot be decided.
    public var containerPending = false
    /// The cgroup path (v2 unified, or the first v1 hierarchy naming a container).
    public var cgroup: String = ""
    /// Unique to this snapshot: changes whenever the host's view of the pid changes.
    public var generation: UInt64 = 0

    public init(
        pid: UInt32, ppid: UInt32, name: String, cmd: String, exe: String, ns: String,
        startedAtNanoseconds: Int64, containerID: String = "", containerName: String = "",
        cgroup: String = ""
    ) {
        self.pid = pid
        self.ppid = ppid
        self.name = name
        self.cmd = cmd
        self.exe = exe
        self.ns = ns
        self.startedAtNanoseconds = startedAtNanoseconds
        self.containerID = containerID
        self.containerName = containerName
        self.cgroup = cgroup
    }
}

/// A Kubernetes pod, as the container runtime knows it.
public struct PodIdentity: Sendable, Equatable, Codable {
    /// The pod's UID.
    public var id = ""
    public var name = ""
    public var namespace = ""
    public var labels: [String: String] = [:]

    public init() {}
}
