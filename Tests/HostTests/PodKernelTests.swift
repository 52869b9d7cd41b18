import CRI
import Foundation
import Host
import Synchronization
import Testing

/// Pods from a real containerd with its CRI plugin (scripts/containerd-cri.sh), made through the
/// CRI as a kubelet would: two pods with the same label in two namespaces, each running a program
/// with CAP_NET_RAW that opens raw sockets.
@Suite("Pods (kernel, containerd CRI)", .serialized)
struct PodKernelTests {
    static let script = TestSupport.packageRoot.appending(path: "scripts/containerd-cri.sh").path
    static let workloadImage = "localhost/tawon-busybox:2"
    /// Opens a raw ICMP socket (CAP_NET_RAW) every 0.2 s.
    static let rawSockets = ["/bin/sh", "-c", "while true; do ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1; sleep 0.2; done"]
    /// Where these tests run their CRI calls: a queue of their own. On the concurrency pool they
    /// would wait behind the suite's blocking tests, past the calls' deadlines.
    static let executor = ContainerSourceExecutor(label: "tawon.tests.cri")

    /// A private containerd for one test, with a CRI client connected to it; stopped and
    /// cleaned up by `stop`.
    final class Containerd {
        let directory: URL
        let client: RuntimeClient
        private let connection: Task<Void, any Error>
        var socket: String { directory.appending(path: "containerd.sock").path }

        init() throws {
            directory = try TestSupport.temporaryDirectory("containerd")
            let started = try TestSupport.run("/bin/bash", [PodKernelTests.script, "start", directory.path])
            guard started.status == 0 else {
                _ = try? TestSupport.run("/bin/bash", [PodKernelTests.script, "stop", directory.path])
                throw TestFailure("containerd-cri.sh start: \(started.stderr)")
            }
            client = try RuntimeClient(socketPath: directory.appending(path: "containerd.sock").path)
            connection = Task(executorPreference: PodKernelTests.executor) { [client] in try await client.run() }
        }

        func stop() {
            client.close()
            connection.cancel()
            _ = try? TestSupport.run("/bin/bash", [PodKernelTests.script, "stop", directory.path])
            try? FileManager.default.removeItem(at: directory)
        }
    }

    struct Pod {
        var sandbox: String
        var container: String
    }

    /// Runs a pod with host networking and one container, as a kubelet would ask.
    static func runPod(
        _ client: RuntimeClient, name: String, uid: String, namespace: String, labels: [String: String],
        container: String, containerLabels: [String: String]
    ) async throws -> Pod {
        var config = Runtime_V1_PodSandboxConfig()
        config.metadata.name = name
        config.metadata.uid = uid
        config.metadata.namespace = namespace
        config.labels = labels
        config.linux.securityContext.namespaceOptions.network = .node
        let sandbox = try await client.runPodSandbox(config)
        var containerConfig = Runtime_V1_ContainerConfig()
        containerConfig.metadata.name = container
        containerConfig.image.image = workloadImage
        containerConfig.command = rawSockets
        containerConfig.labels = containerLabels
        let id = try await client.createContainer(in: sandbox, containerConfig, sandboxConfig: config)
        try await client.startContainer(id)
        return Pod(sandbox: sandbox, container: id)
    }

    @Test("The seed's headline directive selects exactly the first pod's raw sockets; pod.name, pod.id, container.name and container.label each select its process; meta:pod and pod.min publish the pod; existing_container carries it")
    func headlineDirective() async throws {
        try KernelSupport.require()
        try await withTaskExecutorPreference(Self.executor) {
            let containerd = try Containerd()
            defer { containerd.stop() }
            let client = containerd.client
            let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let web = try await Self.runPod(
                client, name: "web-\(suffix)", uid: "uid-web-\(suffix)", namespace: "default", labels: ["tier": "prod"],
                container: "raw-\(suffix)", containerLabels: ["role": "raw-\(suffix)"])
            let twin = try await Self.runPod(
                client, name: "twin-\(suffix)", uid: "uid-twin-\(suffix)", namespace: "other-\(suffix)", labels: ["tier": "prod"],
                container: "raw-twin-\(suffix)", containerLabels: ["role": "twin-\(suffix)"])

            let tracer = CollectingSession(containerSockets: ["cri:" + containerd.socket])
            let rawTask = "syscalls|capabilities:CAP_NET_RAW"
            let selections: [(condition: String, task: String)] = [
                ("process.capprm:CAP_NET_RAW AND pod.namespace:default AND pod.label:prod", rawTask),
                ("pod.name:web-\(suffix)", "syscalls|functions:socket;meta:process+pod"),
                ("pod.id:uid-web-\(suffix)", "syscalls|functions:socket;meta:container+pod.min"),
                ("container.name:raw-\(suffix)", "syscalls|functions:socket"),
                ("container.label:role=raw-\(suffix)", "syscalls|functions:socket"),
            ]
            @Sendable func calls(_ directive: DirectiveSummary) throws -> [SyscallData] {
                try tracer.collector.all.filter { $0.directiveID == directive.id }
                    .map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)) }
            }
            let twinCondition = "pod.namespace:other-\(suffix) AND pod.label:tier=prod"
            let (directives, twinDirective, lifecycle) = try await TestSupport.onOwnThread {
                () throws -> ([DirectiveSummary], DirectiveSummary, DirectiveSummary) in
                TestSupport.waitForContainerProbe(tracer.session)
                let directives = try selections.map {
                    try tracer.session.add(DirectiveRequest(conditions: $0.condition, tasks: [try TaskSpec.parse($0.task)]))
                }
                let twinDirective = try tracer.session.add(
                    DirectiveRequest(conditions: twinCondition, tasks: [try TaskSpec.parse(rawTask)]))
                let lifecycle = try tracer.session.add(DirectiveRequest(
                    conditions: "pod.namespace:default AND pod.name:web-\(suffix)", tasks: [try TaskSpec.parse("containers|events:existing_container")]))
                let deadline = ContinuousClock.now + .seconds(15)
                while ContinuousClock.now < deadline,
                    try (directives + [twinDirective]).contains(where: { try calls($0).count < 3 })
                        || !tracer.collector.all.contains(where: { $0.directiveID == lifecycle.id }) {
                    try tracer.session.poll(timeoutMilliseconds: 50)
                }
                tracer.session.close()
                return (directives, twinDirective, lifecycle)
            }
            // The pod's container as the CRI describes it; its sandbox's pause container is no container the CRI lists.
            let existing = tracer.collector.all.filter { $0.directiveID == lifecycle.id }
                .compactMap { ContainerLifecycleKernelTests.LifecycleRecord($0.json) }
            #expect(existing.map(\.event) == ["existing_container"])
            #expect(existing.first?.text("container_id") == web.container)
            #expect(existing.first?.text("container_name") == "raw-\(suffix)")
            #expect(existing.first?.text("pod_name") == "web-\(suffix)")
            #expect(existing.first?.text("pod_namespace") == "default")
            #expect(existing.first?.text("pod_uid") == "uid-web-\(suffix)")
            #expect(existing.first?.text("runtime") == "containerd")
            #expect(existing.first?.text("container_image")?.isEmpty == false)
            #expect((directives + [twinDirective]).allSatisfy { $0.warnings.isEmpty }, "\(directives.map { $0.warnings })")

            for (selection, directive) in zip(selections, directives) {
                let selected = try calls(directive)
                #expect(selected.count >= 3, "\(selection.condition): \(selected.count) calls")
                #expect(
                    selected.allSatisfy { $0.process?.container?.id == web.container && $0.process?.container?.name == "raw-\(suffix)" },
                    "\(selection.condition): \(selected.compactMap { $0.process?.container?.name })")
            }
            let headlineFunctions = Set(try calls(directives[0]).map(\.function))
            #expect(headlineFunctions.contains("socket"), "\(headlineFunctions)")
            #expect(try calls(directives[1]).first?.process?.pod == .init(
                id: "uid-web-\(suffix)", name: "web-\(suffix)", namespace: "default", labels: ["tier": "prod"]))
            #expect(try calls(directives[2]).first?.process?.pod == .init(name: "web-\(suffix)", namespace: "default"))
            let twinCalls = try calls(twinDirective)
            #expect(twinCalls.count >= 3)
            #expect(twinCalls.allSatisfy { $0.process?.container?.id == twin.container })
        }
    }

    @Test("With no runtime socket, the OCI bundles' annotations name containers and pods: pod.name, pod.namespace, pod.id and container.name select a pod's process, one started while tracing from its first calls; label terms warn")
    func bundlesWithoutSocket() async throws {
        try KernelSupport.require()
        try await withTaskExecutorPreference(Self.executor) {
            let containerd = try Containerd()
            defer { containerd.stop() }
            let client = containerd.client
            let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let web = try await Self.runPod(
                client, name: "web-\(suffix)", uid: "uid-web-\(suffix)", namespace: "default", labels: ["tier": "prod"],
                container: "raw-\(suffix)", containerLabels: ["role": "raw"])
            let bundles = containerd.directory.appending(path: "state/io.containerd.runtime.v2.task").path
            let tracer = CollectingSession(containerSockets: [], containerBundleRoots: [bundles])
            let selections = [
                "pod.name:web-\(suffix) AND pod.namespace:default", "pod.id:uid-web-\(suffix)", "container.name:raw-\(suffix)",
                "container.name:late-\(suffix) AND pod.name:late-\(suffix)",
            ]
            TestSupport.waitForContainerProbe(tracer.session)
            #expect(tracer.session.containers.foundSources == ["oci-bundles " + bundles])
            let directives = try selections.map {
                try tracer.session.add(DirectiveRequest(conditions: $0, tasks: [try TaskSpec.parse("syscalls|functions:socket;meta:process+pod")]))
            }
            #expect(directives.allSatisfy { $0.warnings.isEmpty }, "\(directives.map(\.warnings))")
            let labelled = try tracer.session.add(DirectiveRequest(
                conditions: "pod.label:tier=prod OR container.label:role=raw", tasks: [try TaskSpec.parse("syscalls|functions:socket")]))
            #expect(labelled.warnings.map { $0.prefix(9) } == ["container", "pod.label"], "\(labelled.warnings)")
            #expect(labelled.warnings.last?.contains("no source here describes pods' labels") == true, "\(labelled.warnings)")

            @Sendable func calls(_ directive: DirectiveSummary) throws -> [SyscallData] {
                try tracer.collector.all.filter { $0.directiveID == directive.id }
                    .map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)) }
            }
            let polling = Task {
                try await TestSupport.onOwnThread {
                    let deadline = ContinuousClock.now + .seconds(20)
                    while ContinuousClock.now < deadline, try directives.contains(where: { try calls($0).count < 3 }) {
                        try tracer.session.poll(timeoutMilliseconds: 50)
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(500))
            let late = try await Self.runPod(
                client, name: "late-\(suffix)", uid: "uid-late-\(suffix)", namespace: "default", labels: [:],
                container: "late-\(suffix)", containerLabels: [:])
            try await polling.value
            tracer.session.close()

            for (selection, directive) in zip(selections.prefix(3), directives) {
                let selected = try calls(directive)
                #expect(selected.count >= 3, "\(selection): \(selected.count) calls")
                #expect(selected.allSatisfy { $0.process?.container?.id == web.container && $0.process?.container?.name == "raw-\(suffix)" })
                #expect(selected.first?.process?.pod == .init(id: "uid-web-\(suffix)", name: "web-\(suffix)", namespace: "default", labels: [:]))
            }
            // The late pod's shell opens its first raw socket at once: it is there, as strace would see it.
            let lateCalls = try calls(directives[3])
            #expect(lateCalls.count >= 3, "late pod: \(lateCalls.count) calls")
            #expect(lateCalls.allSatisfy { $0.process?.container?.id == late.container })
            #expect(tracer.session.counters().decidedWithoutContainer == 0)
            #expect(try calls(labelled).isEmpty)
        }
    }
}
