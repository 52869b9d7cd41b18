import Foundation

/// The container lifecycle events a task can subscribe to (`TAWON_CONTAINER_*`).
public enum ContainerEventKind: UInt64, Sendable, Hashable, CaseIterable {
    /// Once, when a directive starts: the namespaces of the host's init process.
    case initNamespaces = 1
    /// Once per container running when a directive starts.
    case existing = 2
    /// A container's cgroup was made.
    case create = 3
    /// A container's cgroup was removed.
    case remove = 4

    /// The name tasks see as the event's function name.
    public var name: String {
        switch self {
        case .initNamespaces: return "init_namespaces"
        case .existing: return "existing_container"
        case .create: return "container_create"
        case .remove: return "container_remove"
        }
    }

    /// Derived from the kernel's cgroup records: these need the cgroups program attached.
    var isDerivedFromCgroups: Bool { self == .create || self == .remove }
}

/// One container lifecycle event, before the runtime's metadata is added.
struct ContainerLifecycleEvent: Sendable {
    var kind: ContainerEventKind
    /// The whole 64-hex-digit id; "" for init_namespaces.
    var containerID = ""
    /// The runtime the cgroup's name says made it ("docker", "podman", "containerd", "crio"),
    /// or "" when it does not say.
    var runtime = ""
    /// When it happened, wall clock, nanoseconds since the Unix epoch.
    var timestampNanoseconds: UInt64
    /// When the container's cgroup was made, wall clock, nanoseconds since the Unix epoch.
    var createdNanoseconds: UInt64 = 0
    var cgroupPath = ""
    /// The process that made or removed the cgroup (0 for events at a directive's start).
    var pid: UInt32 = 0
    var tid: UInt32 = 0
    var cpu: UInt32 = 0
    var comm = ""
    /// init_namespaces: each namespace's name and inode number, in the order tasks get them.
    var namespaces: [(name: String, inode: UInt64)] = []
    /// Events at a directive's start go to that directive alone; derived ones to every
    /// directive that wants them.
    var directiveID: String?
}

/// What the host reads of its own machine for the events at a directive's start.
enum ContainerLifecycleScan {
    /// The namespaces /proc/PID/ns holds, in the order init_namespaces lists them.
    static let namespaceNames = [
        "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts",
    ]

    /// init_namespaces: the inode number of each of pid 1's namespaces (0 where the kernel has
    /// none of that kind), read from `/proc/1/ns`. Where a supervisor running as pid 1 does not
    /// let itself be inspected (EACCES even for root), they are read from kthreadd's (pid 2):
    /// the kernel's threads live in the initial namespaces.
    static func initNamespaces(procRoot: String = "/proc") -> [(name: String, inode: UInt64)] {
        let kthreadd = (try? String(contentsOfFile: "\(procRoot)/2/comm", encoding: .utf8)) == "kthreadd\n"
        return namespaceNames.map { name in
            var status = stat()
            if stat("\(procRoot)/1/ns/\(name)", &status) == 0 { return (name, UInt64(status.st_ino)) }
            if kthreadd, stat("\(procRoot)/2/ns/\(name)", &status) == 0 { return (name, UInt64(status.st_ino)) }
            return (name, 0)
        }
    }

    /// Containers running now: the cgroups under `root` (the unified hierarchy's mount) whose
    /// names are containers', each with its path and the time it was made. A container's nested
    /// cgroups are not containers of their own. Bounded: a host with a runaway cgroup tree costs
    /// at most `limit` directories read.
    static func existingContainers(
        root: String = "/sys/fs/cgroup", limit: Int = 100_000
    ) -> [(id: String, runtime: String, path: String, createdNanoseconds: UInt64)] {
        var found: [(String, String, String, UInt64)] = []
        var seen: Set<String> = []
        var queue: [(path: String, depth: Int)] = [("", 0)]
        var read = 0
        while !queue.isEmpty, read < limit {
            let (relative, depth) = queue.removeFirst()
            read += 1
            guard let directory = opendir(root + relative) else { continue }
            defer { closedir(directory) }
            let parent = relative.split(separator: "/").last ?? ""
            while let entry = readdir(directory) {
                guard entry.pointee.d_type == DT_DIR else { continue }
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                guard name != ".", name != ".." else { continue }
                let path = relative + "/" + name
                if let container = CgroupPath.container(named: Substring(name), parent: parent) {
                    // A container's cgroup a runtime left behind empty is no running container.
                    guard isPopulated(root + path), seen.insert(container.id).inserted else { continue }
                    var status = stat()
                    let created = stat(root + path, &status) == 0
                        ? UInt64(status.st_ctim.tv_sec) * 1_000_000_000 + UInt64(status.st_ctim.tv_nsec) : 0
                    found.append((container.id, container.runtime, path, created))
                } else if depth < 8 {
                    queue.append((path, depth + 1))
                }
            }
        }
        return found.sorted { $0.3 < $1.3 }
    }

    /// Whether a cgroup (or one below it) holds a process: `populated 1` in its cgroup.events
    /// (cgroup v2). Without that file (v1), whether its cgroup.procs lists one.
    static func isPopulated(_ directory: String) -> Bool {
        if let events = try? String(contentsOfFile: directory + "/cgroup.events", encoding: .utf8) {
            return events.split(separator: "\n").contains("populated 1")
        }
        let procs = (try? String(contentsOfFile: directory + "/cgroup.procs", encoding: .utf8)) ?? ""
        return !procs.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }
}
