import Foundation
import Logging

/// What a container runtime says about one container.
public struct ContainerMetadata: Sendable, Equatable {
    /// The whole 64-hex-digit id.
    public var id: String
    /// As the runtime names it: Docker's API keeps a leading "/".
    public var name: String
    public var labels: [String: String]
    public var pod = PodIdentity()
    /// The image it runs, as the runtime names it (e.g. "docker.io/library/busybox:latest").
    public var image = ""

    public init(id: String, name: String, labels: [String: String], pod: PodIdentity = PodIdentity(), image: String = "") {
        self.id = id
        self.name = name
        self.labels = labels
        self.pod = pod
        self.image = image
    }
}

/// The containers the runtimes' sources have described, by id: the process model's one place to
/// look up a container's name, labels and pod. Lookups never wait: an id no source has described
/// yet is asked of every source, and is `pending` until each has answered (or the probe of the
/// sockets found none). `onChange` then says which id became known or unknown, off the polling
/// thread, so the decisions made while it was pending can be made again.
public final class ContainerDirectory: @unchecked Sendable {
    public enum Lookup: Equatable {
        case known(ContainerMetadata)
        /// Asked, not yet answered: a condition on it cannot be decided yet.
        case pending
        /// No source knows it (or there is none).
        case unknown
    }

    /// Source names (e.g. "docker-engine /run/podman/podman.sock") as found by the probe, the
    /// bundles' last.
    public var foundSources: [String] { lock.withLock { (sources + availableFallbacksLocked).map(\.name) } }
    /// The fallbacks that can answer now: bundle folders appear when their runtime starts.
    private var availableFallbacksLocked: [any ContainerSource] {
        fallbacks.filter { ($0 as? OCIBundleSource)?.hasRoots ?? true }
    }
    /// Whether the probe of the sockets has finished.
    public var probed: Bool { lock.withLock { probeDone } }

    private let lock = NSLock()
    private var known: [String: ContainerMetadata] = [:]
    /// Ids no source knows, oldest first; bounded, as a flood of short-lived containers might be.
    private var unknownIDs: Set<String> = []
    private var unknownOrder: [String] = []
    /// Ids asked of the sources, with how many have not answered yet (-1: asked before the
    /// probe finished), and whether those are the fallbacks.
    private var asked: [String: (remaining: Int, ofFallbacks: Bool)] = [:]
    /// When each id in `asked` was first asked: the log says how long describing it took.
    private var askedAt: [String: ContinuousClock.Instant] = [:]
    private var logger: Logger?
    /// Removed containers, kept a while: their last processes' events may still be queued.
    private var removedAt: [String: ContinuousClock.Instant] = [:]
    private var sources: [any ContainerSource] = []
    /// Asked only about containers no source above knows: the OCI bundles, which know names
    /// and pods but no labels.
    private var fallbacks: [any ContainerSource] = []
    private var probeDone = false
    private var changeHandlers: [@Sendable (String) -> Void] = []
    private var running: [any ContainerSource] = []
    private var stopRequested = false
    private var probedSockets: [String] = []

    static let maximumContainers = 65_536
    static let keptAfterRemoval: Duration = .seconds(30)

    public init() {}

    /// Called with an id whenever its lookup changes (known, unknown, relabelled).
    public func onChange(_ handler: @escaping @Sendable (String) -> Void) {
        lock.withLock { changeHandlers.append(handler) }
    }

    public func lookup(_ id: String) -> Lookup {
        let (result, ask): (Lookup, [any ContainerSource]) = lock.withLock {
            if let metadata = known[id] { return (.known(metadata), []) }
            if unknownIDs.contains(id) { return (.unknown, []) }
            if asked[id] != nil { return (.pending, []) }
            askedAt[id] = .now
            guard probeDone else {
                asked[id] = (-1, false)
                return (.pending, [])
            }
            let ask = sources.isEmpty ? fallbacks : sources
            if ask.isEmpty { return (.unknown, []) }
            asked[id] = (ask.count, sources.isEmpty)
            return (.pending, ask)
        }
        for source in ask { source.requestLookup(id) }
        return result
    }

    /// A line for each field of `fields` that no source found here can supply: the directive
    /// runs, but such a term is false for every process. Waits for the probe (at most `probeWait`):
    /// it is quick, and a directive's creation should not wait long for it.
    public func warnings(for fields: Set<Condition.Field>, probeWait: Duration = .seconds(1)) -> [String] {
        let runtimeFields = fields.filter(\.isRuntimeFact)
        guard !runtimeFields.isEmpty else { return [] }
        let deadline = ContinuousClock.now + probeWait
        while !probed && ContinuousClock.now < deadline { usleep(5000) }
        // A probe still running (a socket that accepts but is slow to answer) may yet find one.
        guard probed else { return [] }
        let (runtimes, available, sockets) = lock.withLock { (sources, availableFallbacksLocked, probedSockets) }
        let found = (runtimes + available).map(\.name)
        let bundles = !available.isEmpty
        let probed = "probed \(sockets.isEmpty ? "none" : sockets.joined(separator: ", "))"
        return runtimeFields.sorted { $0.rawValue < $1.rawValue }.compactMap { field in
            let labels = field == .podLabel || field == .containerLabel
            if field.rawValue.hasPrefix("pod.") {
                // The Docker Engine API knows no pods; a CRI runtime does, and bundles (no labels).
                guard !runtimes.contains(where: { $0 is CRISource }), labels || !bundles else { return nil }
                return "\(field.rawValue): no source here describes pods\(labels && bundles ? "' labels" : "")"
                    + (found.isEmpty ? " (no container runtime found)" : " (found: \(found.joined(separator: ", ")))")
                    + "; the term is false for every process"
            }
            guard runtimes.isEmpty, labels || !bundles else { return nil }
            let reason = bundles ? "bundles describe no labels and no container runtime answered" : "no container runtime found"
            return "\(field.rawValue): \(reason) (\(probed)); the term is false for every process"
        }
    }

    // MARK: - What sources report

    func isKnown(_ id: String) -> Bool { lock.withLock { known[id] != nil } }

    /// The probe's result: the sources that answered, and the fallbacks. Ids asked meanwhile
    /// go to them now.
    func probeFinished(with found: [any ContainerSource], fallbacks: [any ContainerSource] = []) {
        let (waiting, ask, handlers): ([String], [any ContainerSource], [@Sendable (String) -> Void]) = lock.withLock {
            sources = found
            self.fallbacks = fallbacks
            probeDone = true
            let ask = found.isEmpty ? fallbacks : found
            let waiting = asked.filter { $0.value.remaining == -1 }.map(\.key)
            for id in waiting { asked[id] = (ask.count, found.isEmpty) }
            if ask.isEmpty {
                for id in waiting { markUnknownLocked(id) }
            }
            return (waiting, ask, changeHandlers)
        }
        if ask.isEmpty {
            for id in waiting { handlers.forEach { $0(id) } }
        } else {
            for id in waiting { ask.forEach { $0.requestLookup(id) } }
        }
    }

    /// A source described a container (listed, inspected, or from its events).
    func learned(_ described: ContainerMetadata) {
        // Tasks read names through C strings: a NUL a runtime let through would cut them short.
        var metadata = described
        metadata.name = Self.withoutNUL(metadata.name)
        metadata.image = Self.withoutNUL(metadata.image)
        metadata.labels = Self.withoutNUL(metadata.labels)
        metadata.pod.name = Self.withoutNUL(metadata.pod.name)
        metadata.pod.namespace = Self.withoutNUL(metadata.pod.namespace)
        metadata.pod.id = Self.withoutNUL(metadata.pod.id)
        metadata.pod.labels = Self.withoutNUL(metadata.pod.labels)
        var askedAt: ContinuousClock.Instant?
        let handlers: [@Sendable (String) -> Void]? = lock.withLock {
            if known[metadata.id] == metadata { return nil }
            if known[metadata.id] == nil, known.count >= Self.maximumContainers { evictRemovedLocked(all: true) }
            guard known[metadata.id] != nil || known.count < Self.maximumContainers else { return nil }
            known[metadata.id] = metadata
            asked[metadata.id] = nil
            askedAt = self.askedAt.removeValue(forKey: metadata.id)
            removedAt[metadata.id] = nil
            if unknownIDs.remove(metadata.id) != nil { unknownOrder.removeAll { $0 == metadata.id } }
            return changeHandlers
        }
        if let askedAt, let logger = lock.withLock({ logger }) {
            logger.debug("container \(metadata.id.prefix(12)) described \((ContinuousClock.now - askedAt).nanoseconds / 1000) µs after it was asked for")
        }
        handlers?.forEach { $0(metadata.id) }
    }

    static func withoutNUL(_ text: String) -> String {
        text.contains("\0") ? text.replacingOccurrences(of: "\0", with: "\u{FFFD}") : text
    }

    static func withoutNUL(_ labels: [String: String]) -> [String: String] {
        Dictionary(labels.map { (withoutNUL($0.key), withoutNUL($0.value)) }, uniquingKeysWith: { first, _ in first })
    }

    /// A source that was asked about `id` does not know it. When none does, the fallbacks are
    /// asked, if they were not.
    func notFound(_ id: String) {
        let (handlers, ask): ([@Sendable (String) -> Void], [any ContainerSource]) = lock.withLock {
            guard let (remaining, ofFallbacks) = asked[id], remaining > 0 else { return ([], []) }
            if remaining > 1 {
                asked[id] = (remaining - 1, ofFallbacks)
                return ([], [])
            }
            if !ofFallbacks && !fallbacks.isEmpty {
                asked[id] = (fallbacks.count, true)
                return ([], fallbacks)
            }
            markUnknownLocked(id)
            return (changeHandlers, [])
        }
        ask.forEach { $0.requestLookup(id) }
        handlers.forEach { $0(id) }
    }

    /// The container is gone; it stays known a while for the events still queued.
    func removed(_ id: String) {
        lock.withLock {
            guard known[id] != nil else { return }
            removedAt[id] = .now
            evictRemovedLocked(all: false)
        }
    }

    private func markUnknownLocked(_ id: String) {
        asked[id] = nil
        askedAt[id] = nil
        guard unknownIDs.insert(id).inserted else { return }
        unknownOrder.append(id)
        if unknownOrder.count > 4096 { unknownIDs.remove(unknownOrder.removeFirst()) }
    }

    private func evictRemovedLocked(all: Bool) {
        let now = ContinuousClock.now
        for (id, at) in removedAt where all || now - at > Self.keptAfterRemoval {
            removedAt[id] = nil
            known[id] = nil
        }
    }

    // MARK: - Starting the sources

    /// The Unix sockets probed when none are configured: dockerd's, podman's, containerd's and
    /// cri-o's usual places.
    public static let defaultSockets = [
        "/run/docker.sock", "/var/run/docker.sock", "/run/podman/podman.sock",
        "cri:/run/containerd/containerd.sock", "cri:/run/crio/crio.sock",
    ]

    /// How a socket is spoken to: `cri:PATH` (gRPC CRI), `docker:PATH` (Docker Engine API), or a
    /// plain path, CRI when it names containerd or cri-o.
    static func kind(of entry: String) -> (cri: Bool, path: String) {
        if entry.hasPrefix("cri:") { return (true, String(entry.dropFirst(4))) }
        if entry.hasPrefix("docker:") { return (false, String(entry.dropFirst(7))) }
        let file = URL(fileURLWithPath: entry).lastPathComponent
        return (file.contains("containerd") || file.contains("crio"), entry)
    }

    /// How often sockets that did not answer are probed again: a runtime started after tawon
    /// is found within this.
    static let reprobeInterval: Duration = .seconds(10)

    /// Probes `sockets` (on a thread of its own), starts a source for each that answers, and
    /// logs which were found; those that did not answer are probed again every 10 s until they
    /// do. Sockets that lead to the same file are probed once. The OCI bundles under those of
    /// `bundleRoots` that exist describe what no socket does.
    public func start(sockets: [String], bundleRoots: [String] = [], logger: Logger) {
        lock.withLock {
            probedSockets = sockets
            self.logger = logger
        }
        // Folders that do not exist yet are looked in once they do (a runtime started later).
        let roots = OCIBundleSource.existing(bundleRoots)
        let bundles: [any ContainerSource] = bundleRoots.isEmpty ? [] : [OCIBundleSource(roots: bundleRoots, directory: self, logger: logger)]
        if !roots.isEmpty { logger.info("container bundles read from \(roots.map { QuotedInput.quote($0) }.joined(separator: ", "))") }
        for missing in bundleRoots where !roots.contains(missing) && !OCIBundleSource.defaultRoots.contains(missing) {
            logger.warning("container bundles: \(QuotedInput.quote(missing)) is not a directory yet; read once it is")
        }
        if sockets.isEmpty {
            lock.withLock { running = bundles }
            probeFinished(with: [], fallbacks: bundles)
            bundles.forEach { $0.start() }
            return
        }
        let probe = Thread { [self] in
            var seen: Set<String> = []
            var absent: [String] = []
            var found: [any ContainerSource] = []
            for entry in sockets {
                guard seen.insert(URL(fileURLWithPath: Self.kind(of: entry).path).resolvingSymlinksInPath().path).inserted
                else { continue }
                if let source = Self.source(at: entry, directory: self, logger: logger) { found.append(source) } else { absent.append(entry) }
            }
            if found.isEmpty {
                let rest = bundles.isEmpty ? "and names and pods too" : "names and pods come from bundles only"
                logger.info("no container runtime found (probed \(sockets.joined(separator: ", "))): container labels are unknown, \(rest)")
            } else {
                logger.info("container metadata from \(found.map(\.name).joined(separator: ", "))")
            }
            let stopped = lock.withLock { () -> Bool in
                running = found + bundles
                return stopRequested
            }
            if stopped { return probeFinished(with: []) }
            probeFinished(with: found, fallbacks: bundles)
            (found + bundles).forEach { $0.start() }
            probeAgain(absent, logger: logger)
        }
        probe.name = "tawon-containers-probe"
        probe.start()
    }

    /// A source for the socket `entry` if it answers its protocol; nil (logged) otherwise.
    private static func source(at entry: String, directory: ContainerDirectory, logger: Logger) -> (any ContainerSource)? {
        let (cri, path) = kind(of: entry)
        guard case .answered = UnixSocketProbe.probe(path) else { return nil }
        if cri {
            guard let source = try? CRISource(socketPath: path, directory: directory, logger: logger), source.ping() else {
                logger.info("container socket \(path) answers, but not as a CRI runtime")
                return nil
            }
            return source
        }
        let source = DockerEngineSource(socketPath: path, directory: directory, logger: logger)
        guard source.ping() else {
            logger.info("container socket \(path) answers, but not as the Docker Engine API")
            return nil
        }
        return source
    }

    /// Probes the sockets that did not answer every `reprobeInterval`, on the probe's thread,
    /// until each has or the directory stops; a runtime found later is used from then on.
    private func probeAgain(_ absent: [String], logger: Logger) {
        var absent = absent
        while !absent.isEmpty {
            let deadline = ContinuousClock.now + Self.reprobeInterval
            while ContinuousClock.now < deadline {
                if lock.withLock({ stopRequested }) { return }
                usleep(100_000)
            }
            absent.removeAll { entry in
                guard let source = Self.source(at: entry, directory: self, logger: logger) else { return false }
                let stopped = lock.withLock { () -> Bool in
                    guard !stopRequested else { return true }
                    sources.append(source)
                    running.append(source)
                    // Ids nobody knew may be this runtime's: ask again.
                    unknownIDs.removeAll()
                    unknownOrder.removeAll()
                    return false
                }
                guard !stopped else { return true }
                logger.info("container metadata from \(source.name) (found after start)")
                source.start()
                return true
            }
        }
    }

    /// Stops following the runtimes (what is known stays).
    public func stop() {
        let sources = lock.withLock {
            stopRequested = true
            return running
        }
        sources.forEach { $0.stop() }
    }
}

/// A runtime that describes containers.
protocol ContainerSource: Sendable {
    var name: String { get }
    /// Asks the runtime about `id`; the answer goes to the directory (`learned` or `notFound`).
    func requestLookup(_ id: String)
    /// Lists what exists, then follows the runtime's changes, until stopped.
    func start()
    func stop()
}
