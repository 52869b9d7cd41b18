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
            var name = Substring(component)
            if name.hasPrefix("libpod-conmon-") { continue }  // podman's monitor, not the container
            if name.hasSuffix(".scope") { name = name.dropLast(".scope".count) }
            for prefix in ["docker-", "libpod-", "cri-containerd-", "crio-", "containerd-"]
            where name.hasPrefix(prefix) {
                name = name.dropFirst(prefix.count)
                break
            }
            if name.count == 64, name.allSatisfy(\.isHexDigit) { return name.lowercased() }
        }
        return nil
    }
}
