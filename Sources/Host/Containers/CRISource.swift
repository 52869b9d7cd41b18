import CRI
import Dispatch
import Foundation
import Logging
import Synchronization

/// Containers and their pods as a CRI runtime (containerd, cri-o) describes them: a container's
/// name and labels, its pod sandbox's uid, name, namespace and labels (without the
/// `io.kubernetes.*` keys the runtime adds). The CRI has no event stream here (containerd 1.6),
/// so it lists everything at start and every `relistInterval`, and looks up each container the
/// kernel shows before a listing has.
final class CRISource: ContainerSource {
    let socketPath: String
    let name: String
    private let client: RuntimeClient
    private let directory: ContainerDirectory
    private let logger: Logger
    private let lookups: AsyncStream<String>
    private let lookupContinuation: AsyncStream<String>.Continuation
    private let tasks = Mutex<[Task<Void, Never>]>([])
    /// The containers the last listing had, by id.
    private let listedBefore = Mutex<Set<String>>([])
    private let outage = RuntimeOutage()

    static let relistInterval: Duration = .seconds(10)
    static let lookupRetries: [Duration] = [.milliseconds(100), .milliseconds(300)]

    init(socketPath: String, directory: ContainerDirectory, logger: Logger) throws {
        self.socketPath = socketPath
        self.name = "cri \(socketPath)"
        self.client = try RuntimeClient(socketPath: socketPath)
        self.directory = directory
        self.logger = logger
        (lookups, lookupContinuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(4096))
    }

    /// Whether the socket answers the CRI (a ListPodSandbox call). Blocks; not on an event loop.
    func ping() -> Bool {
        let answered = Mutex<Bool?>(nil)
        let connection = Task(executorPreference: ContainerSourceExecutor.shared) { [client] in _ = try? await client.run() }
        let probe = Task(executorPreference: ContainerSourceExecutor.shared) { [client, logger, name] in
            do {
                _ = try await client.listPodSandboxes(timeout: .seconds(3))
                answered.withLock { $0 = true }
            } catch {
                logger.debug("\(name): ListPodSandbox: \(error)")
                answered.withLock { $0 = false }
            }
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while answered.withLock({ $0 }) == nil, ContinuousClock.now < deadline { usleep(5000) }
        probe.cancel()
        let found = answered.withLock { $0 } ?? false
        if found {
            tasks.withLock { $0.append(connection) }
        } else {
            client.close()
            connection.cancel()
        }
        return found
    }

    func start() {
        let relisting = Task(executorPreference: ContainerSourceExecutor.shared) { [self] in
            while !Task.isCancelled {
                await relist()
                try? await Task.sleep(for: Self.relistInterval)
            }
        }
        let answering = Task(executorPreference: ContainerSourceExecutor.shared) { [self] in
            await withTaskGroup(of: Void.self) { group in
                for await id in lookups {
                    group.addTask { await self.lookUp(id) }
                }
            }
        }
        tasks.withLock { $0 += [relisting, answering] }
    }

    func stop() {
        lookupContinuation.finish()
        client.close()
        tasks.withLock { $0 }.forEach { $0.cancel() }
    }

    func requestLookup(_ id: String) { lookupContinuation.yield(id) }

    // MARK: - Listing

    /// Lists every container; one this source listed before and lists no more is gone (the CRI
    /// here has no events to say so).
    private func relist() async {
        do {
            let sandboxes = try await client.listPodSandboxes()
            let pods = Dictionary(sandboxes.map { ($0.id, Self.pod(of: $0)) }, uniquingKeysWith: { first, _ in first })
            let containers = try await client.listContainers()
            for container in containers {
                learn(container, pod: pods[container.podSandboxID])
            }
            let listed = Set(containers.map { $0.id.lowercased() })
            let gone = listedBefore.withLock { before in
                defer { before = listed }
                return before.subtracting(listed)
            }
            gone.forEach(directory.removed)
            outage.answered(name, logger: logger)
        } catch {
            outage.failed(name, error, logger: logger)
            logger.debug("\(name): listing: \(error)")
        }
    }

    /// One container, by its id; tried again shortly when the runtime does not list it yet.
    private func lookUp(_ id: String) async {
        for pause in [Duration.zero] + Self.lookupRetries {
            if pause > .zero { try? await Task.sleep(for: pause) }
            do {
                if let container = try await client.listContainers(id: id).first(where: { $0.id == id }) {
                    let sandbox = try await client.listPodSandboxes(id: container.podSandboxID).first
                    return learn(container, pod: sandbox.map(Self.pod))
                }
            } catch {
                logger.debug("\(name): looking up \(id.prefix(12)): \(error)")
            }
            if directory.isKnown(id) { return }
        }
        directory.notFound(id)
    }

    private func learn(_ container: Runtime_V1_Container, pod: PodIdentity?) {
        guard container.id.count == 64 else { return }
        directory.learned(ContainerMetadata(
            id: container.id.lowercased(), name: container.metadata.name, labels: container.labels,
            pod: pod ?? PodIdentity(), image: container.image.image))
    }

    /// A pod as users label it: the runtime's own `io.kubernetes.*` labels are left out.
    static func pod(of sandbox: Runtime_V1_PodSandbox) -> PodIdentity {
        var pod = PodIdentity()
        pod.id = sandbox.metadata.uid
        pod.name = sandbox.metadata.name
        pod.namespace = sandbox.metadata.namespace
        pod.labels = sandbox.labels.filter { !$0.key.hasPrefix("io.kubernetes.") }
        return pod
    }
}

/// Where container sources' async work runs: a queue of its own, so that nothing they do waits
/// for a thread of Swift's concurrency pool, which a host's blocking work may keep busy.
public final class ContainerSourceExecutor: TaskExecutor {
    static let shared = ContainerSourceExecutor(label: "tawon.container-sources")
    private let queue: DispatchQueue

    /// An executor of its own for another runtime client (a test's).
    public init(label: String) {
        queue = DispatchQueue(label: label)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
