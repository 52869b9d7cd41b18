import Foundation
import Logging

/// Containers as their OCI bundles describe them: the `annotations` of the `config.json` a CRI
/// runtime writes for runc, read from the runtime's state directories. It knows a container's
/// name and its pod's uid, name and namespace, not labels; the directory asks it only about
/// containers no runtime socket described.
///
/// A bundle exists before its container's first process runs, so an answer never waits for a
/// runtime. Files are read on a queue of its own, never on the caller's thread.
/// Its mutable state is touched only on `queue`.
final class OCIBundleSource: ContainerSource, @unchecked Sendable {
    let name: String
    let roots: [String]
    private let directory: ContainerDirectory
    private let logger: Logger
    private let queue = DispatchQueue(label: "tawon.container-bundles")
    /// Ids this source described, with the bundle that did: gone with its bundle.
    private var described: [String: String] = [:]
    private var stopped = false

    /// Where runtimes keep bundles: containerd's tasks (a folder per namespace: k8s.io, moby),
    /// cri-o's and podman's containers (`ID/userdata`).
    static let defaultRoots = [
        "/run/containerd/io.containerd.runtime.v2.task",
        "/run/containers/storage/overlay-containers",
        "/var/lib/containers/storage/overlay-containers",
    ]
    static let namePrefix = "oci-bundles "
    /// A config.json larger than this is not read (runc's are ~10–30 KiB).
    static let maximumConfigBytes = 4 << 20
    /// Namespace folders looked through under one root.
    static let maximumNamespaces = 64
    static let removalCheckInterval: DispatchTimeInterval = .seconds(10)

    init(roots: [String], directory: ContainerDirectory, logger: Logger) {
        self.roots = roots
        self.name = Self.namePrefix + roots.joined(separator: ",")
        self.directory = directory
        self.logger = logger
    }

    /// The roots among `candidates` that exist as directories.
    static func existing(_ candidates: [String]) -> [String] {
        candidates.filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
    }

    func requestLookup(_ id: String) {
        queue.async { [self] in
            guard !stopped else { return }
            guard Self.isContainerID(id), let (path, metadata) = describe(id) else { return directory.notFound(id) }
            described[id] = path
            directory.learned(metadata)
        }
    }

    func start() {
        queue.asyncAfter(deadline: .now() + Self.removalCheckInterval) { [self] in checkRemovals() }
    }

    func stop() {
        queue.sync { stopped = true }
    }

    /// A container whose bundle is gone has been removed.
    private func checkRemovals() {
        guard !stopped else { return }
        for (id, path) in described where !FileManager.default.fileExists(atPath: path) {
            described[id] = nil
            directory.removed(id)
        }
        queue.asyncAfter(deadline: .now() + Self.removalCheckInterval) { [self] in checkRemovals() }
    }

    /// The first bundle of `id` under the roots that names it or its pod.
    private func describe(_ id: String) -> (String, ContainerMetadata)? {
        for path in candidatePaths(id) {
            guard let annotations = Self.annotations(at: path), let metadata = Self.metadata(id: id, annotations: annotations)
            else { continue }
            return (path, metadata)
        }
        return nil
    }

    private func candidatePaths(_ id: String) -> [String] {
        roots.flatMap { root -> [String] in
            let namespaces = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
                .filter { !Self.isContainerID($0) }.sorted().prefix(Self.maximumNamespaces)
            return ["\(root)/\(id)/config.json", "\(root)/\(id)/userdata/config.json"]
                + namespaces.map { "\(root)/\($0)/\(id)/config.json" }
        }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    static func isContainerID(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// The string annotations of a config.json; nil if it cannot be read or is not one.
    static func annotations(at path: String) -> [String: String]? {
        // Without blocking on a FIFO someone left there: only a regular file is read.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG,
              let data = try? handle.read(upToCount: maximumConfigBytes + 1), data.count <= maximumConfigBytes,
              let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let annotations = config["annotations"] as? [String: Any]
        else { return nil }
        return annotations.compactMapValues { $0 as? String }
    }

    /// What the annotations say of the container: containerd's CRI (`io.kubernetes.cri.*`) or
    /// cri-o's (`io.kubernetes.pod.*`, `io.kubernetes.container.name`). A pod's sandbox is
    /// described by its pod, with no container name. nil where they name neither.
    static func metadata(id: String, annotations: [String: String]) -> ContainerMetadata? {
        func first(_ keys: String...) -> String { keys.lazy.compactMap { annotations[$0] }.first ?? "" }
        var pod = PodIdentity()
        pod.id = first("io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid")
        pod.name = first("io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name")
        pod.namespace = first("io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace")
        let isSandbox = first("io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType") == "sandbox"
        let name = isSandbox ? "" : first("io.kubernetes.cri.container-name", "io.kubernetes.container.name")
        guard !name.isEmpty || !pod.id.isEmpty || !pod.name.isEmpty else { return nil }
        return ContainerMetadata(
            id: id, name: name, labels: [:], pod: pod, image: first("io.kubernetes.cri.image-name", "io.kubernetes.cri-o.ImageName"))
    }
}
