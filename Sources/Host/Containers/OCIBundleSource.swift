import Foundation
import Logging

/// Containers as their OCI bundles describe them: the `annotations` of the `config.json` a CRI
/// runtime writes for runc, read from the runtime's state directories. It knows a container's
/// name and its pod's uid, name and namespace, not labels; the directory asks it only about
/// containers no runtime socket described.
///
/// A bundle exists before its container's first process runs, so an answer rarely waits.
/// Files are read on a thread of its own, never on the caller's (nor on a shared pool that
/// blocking work elsewhere may keep busy); its mutable state is touched only there.
final class OCIBundleSource: ContainerSource, @unchecked Sendable {
    let name: String
    let roots: [String]
    private let directory: ContainerDirectory
    private let logger: Logger
    private let worker = SerialWorker(name: "tawon-container-bundles")
    /// Ids this source described, with the bundle that did: gone with its bundle.
    private var described: [String: String] = [:]
    private var stopped = false
    private var warnedOfNamespaces = false

    /// Where runtimes keep bundles: containerd's tasks (a folder per namespace: k8s.io, moby),
    /// cri-o's and podman's containers (`ID/userdata`).
    static let defaultRoots = [
        "/run/containerd/io.containerd.runtime.v2.task",
        "/run/containers/storage/overlay-containers",
        "/var/lib/containers/storage/overlay-containers",
    ]
    /// A config.json larger than this is not read (runc's are ~10–30 KiB).
    static let maximumConfigBytes = 4 << 20
    /// Namespace folders looked through under one root (containerd has a handful).
    static let maximumNamespaces = 1024
    /// Names and pod fields are cut to this many bytes (Kubernetes allows at most 253).
    static let maximumNameBytes = 1024
    /// A container the kernel shows may be looked up a moment before its bundle is written:
    /// asked again after these pauses before it counts as unknown.
    static let retries: [Duration] = [.milliseconds(100), .milliseconds(300), .seconds(1)]
    static let removalCheckInterval: Duration = .seconds(10)

    init(roots: [String], directory: ContainerDirectory, logger: Logger) {
        self.roots = roots
        self.name = "oci-bundles " + roots.joined(separator: ",")
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

    /// Whether some root exists now: a runtime started after tawon makes its own.
    var hasRoots: Bool { !Self.existing(roots).isEmpty }

    func requestLookup(_ id: String) {
        worker.run { [self] in lookUp(id, attempt: 0) }
    }

    private func lookUp(_ id: String, attempt: Int) {
        guard !stopped else { return }
        guard Self.isContainerID(id) else { return directory.notFound(id) }
        if let (path, metadata) = describe(id) {
            described[id] = path
            return directory.learned(metadata)
        }
        guard attempt < Self.retries.count, !directory.isKnown(id) else { return directory.notFound(id) }
        worker.run(after: Self.retries[attempt]) { [self] in lookUp(id, attempt: attempt + 1) }
    }

    func start() {
        worker.run(after: Self.removalCheckInterval) { [self] in checkRemovals() }
    }

    func stop() {
        worker.run { [self] in stopped = true }
        worker.stop()
    }

    /// A container whose bundle is gone has been removed.
    private func checkRemovals() {
        guard !stopped else { return }
        for (id, path) in described where !FileManager.default.fileExists(atPath: path) {
            described[id] = nil
            directory.removed(id)
        }
        worker.run(after: Self.removalCheckInterval) { [self] in checkRemovals() }
    }

    /// The first bundle of `id` under the roots that names it or its pod.
    private func describe(_ id: String) -> (String, ContainerMetadata)? {
        for path in candidatePaths(id) {
            guard let annotations = Self.annotations(at: path) else {
                logger.debug("container bundle \(QuotedInput.quote(path)): not a config.json with annotations; skipped")
                continue
            }
            guard let metadata = Self.metadata(id: id, annotations: annotations) else { continue }
            return (path, metadata)
        }
        return nil
    }

    private func candidatePaths(_ id: String) -> [String] {
        Self.existing(roots).flatMap { root -> [String] in
            ["\(root)/\(id)/config.json", "\(root)/\(id)/userdata/config.json"]
                + namespaces(in: root).map { "\(root)/\($0)/\(id)/config.json" }
        }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// The folders under `root` that are not containers' own: containerd's namespaces.
    private func namespaces(in root: String) -> [String] {
        guard let folder = opendir(root) else { return [] }
        defer { closedir(folder) }
        var found: [String] = []
        while let entry = readdir(folder) {
            guard entry.pointee.d_type == DT_DIR else { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name != ".", name != "..", !Self.isContainerID(name) else { continue }
            guard found.count < Self.maximumNamespaces else {
                if !warnedOfNamespaces {
                    warnedOfNamespaces = true
                    logger.warning("container bundles: \(QuotedInput.quote(root)) has more than \(Self.maximumNamespaces) namespace folders; only the first are searched")
                }
                break
            }
            found.append(name)
        }
        return found
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
        func first(_ keys: String...) -> String {
            let value = keys.lazy.compactMap { annotations[$0] }.first ?? ""
            return value.utf8.count <= maximumNameBytes ? value : String(decoding: value.utf8.prefix(maximumNameBytes), as: UTF8.self)
        }
        var pod = PodIdentity()
        pod.id = first("io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid")
        pod.name = first("io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name")
        pod.namespace = first("io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace")
        let isSandbox = first("io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType") == "sandbox"
        let name = isSandbox ? "" : first("io.kubernetes.cri.container-name", "io.kubernetes.container.name")
        guard !name.isEmpty || !pod.id.isEmpty || !pod.name.isEmpty || !pod.namespace.isEmpty else { return nil }
        return ContainerMetadata(
            id: id, name: name, labels: [:], pod: pod, image: first("io.kubernetes.cri.image-name", "io.kubernetes.cri-o.ImageName"))
    }
}

/// One thread that runs work in the order it is due: now, or after a pause.
final class SerialWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var due: [(at: ContinuousClock.Instant, sequence: Int, work: () -> Void)] = []
    private var sequence = 0
    private var stopping = false

    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    func run(after pause: Duration = .zero, _ work: @escaping () -> Void) {
        condition.withLock {
            guard !stopping else { return }
            sequence += 1
            due.append((.now + pause, sequence, work))
            condition.signal()
        }
    }

    /// Ends the thread once the work due now has run; later work is dropped.
    func stop() {
        condition.withLock {
            stopping = true
            due.removeAll { $0.at > .now }
            condition.signal()
        }
    }

    private func loop() {
        while true {
            let work: (() -> Void)? = condition.withLock {
                while true {
                    if let next = due.indices.min(by: { (due[$0].at, due[$0].sequence) < (due[$1].at, due[$1].sequence) }) {
                        let wait = due[next].at - .now
                        if wait <= .zero { return due.remove(at: next).work }
                        _ = condition.wait(until: Date(timeIntervalSinceNow: wait.timeInterval))
                    } else if stopping {
                        return nil
                    } else {
                        condition.wait()
                    }
                }
            }
            guard let work else { return }
            work()
        }
    }
}
