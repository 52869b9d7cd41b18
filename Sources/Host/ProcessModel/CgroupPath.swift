/// Finds a container's id in a process's cgroup path, for the runtimes tawon knows.
public enum CgroupPath {
    /// The cgroup line most likely to name a container: the unified (v2) one, else the first
    /// v1 hierarchy whose path holds a container id.
    static func containerCgroup(_ procCgroup: String) -> String {
        let paths = procCgroup.split(separator: "\n").compactMap { line -> String? in
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            return parts.count == 3 ? String(parts[2]) : nil
        }
        return paths.first { containerID(in: $0) != nil } ?? paths.first ?? ""
    }

    /// The 64-hex-digit id in the last path component that holds one, in the forms of
    /// docker (`/docker/ID`, `docker-ID.scope`), podman (`libpod-ID`, `libpod-conmon-ID`
    /// excluded), containerd/CRI (`cri-containerd-ID.scope`, `/kubepods/.../ID`) and cri-o
    /// (`crio-ID.scope`).
    public static func containerID(in path: String) -> String? {
        for component in path.split(separator: "/").reversed() {
            if let container = container(named: component, parent: "") { return container.id }
        }
        return nil
    }

    /// The runtimes' prefixes of a container's cgroup name, and the runtime each stands for.
    private static let prefixes = [
        ("docker-", "docker"), ("libpod-", "podman"), ("cri-containerd-", "containerd"), ("crio-", "crio"),
        ("containerd-", "containerd"),
    ]

    /// The container a cgroup is, when it is one by its name: its id, and the runtime the name
    /// says made it ("" when it does not say: a bare id, as the kubelet's cgroupfs driver names it;
    /// under `/docker` it is dockerd's, under `/k8s.io` containerd's).
    public static func container(named component: Substring, parent: Substring) -> (id: String, runtime: String)? {
        var name = component
        if name.hasPrefix("libpod-conmon-") { return nil }  // podman's monitor, not the container
        if name.hasSuffix(".scope") { name = name.dropLast(".scope".count) }
        var runtime = ""
        for (prefix, named) in prefixes where name.hasPrefix(prefix) {
            name = name.dropFirst(prefix.count)
            runtime = named
            break
        }
        guard name.count == 64, name.allSatisfy(\.isHexDigit) else { return nil }
        // podman names a pod's cgroup by the pod's bare id, its containers' inside it libpod-ID.
        if runtime.isEmpty && parent == "libpod_parent" { return nil }
        // With cgroupfs, dockerd makes /docker/ID and containerd's CRI /k8s.io/ID.
        if runtime.isEmpty { runtime = parent == "docker" ? "docker" : parent == "k8s.io" ? "containerd" : "" }
        return (name.lowercased(), runtime)
    }

    /// The container a cgroup path's last component is (not one it is nested in).
    public static func container(atEndOf path: String) -> (id: String, runtime: String)? {
        let components = path.split(separator: "/")
        guard let last = components.last else { return nil }
        return container(named: last, parent: components.dropLast().last ?? "")
    }
}
