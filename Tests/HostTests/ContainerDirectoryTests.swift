import Foundation
import Synchronization
import Testing

@testable import Host

/// The container directory with a scripted source (the real one, the Docker Engine API, is
/// tried against podman in ContainerKernelTests).
@Suite("Container directory")
struct ContainerDirectoryTests {
    /// Records what it was asked; the test answers for it.
    final class ScriptedSource: ContainerSource {
        let name: String
        let asked = Mutex<[String]>([])
        init(_ name: String) { self.name = name }
        func requestLookup(_ id: String) { asked.withLock { $0.append(id) } }
        func start() {}
        func stop() {}
    }

    static let id = String(repeating: "ab", count: 32)
    static let process = ProcessSnapshot(
        pid: 7, ppid: 1, name: "sh", cmd: "sh", exe: "/bin/sh", ns: "", startedAtNanoseconds: 0, containerID: id)

    @Test("An id asked before the probe is pending, asked of every source found, known when one answers")
    func pendingThenKnown() {
        let directory = ContainerDirectory()
        let changed = Mutex<[String]>([])
        directory.onChange { id in changed.withLock { $0.append(id) } }
        #expect(directory.lookup(Self.id) == .pending)
        let (first, second) = (ScriptedSource("a"), ScriptedSource("b"))
        directory.probeFinished(with: [first, second])
        #expect(first.asked.withLock { $0 } == [Self.id] && second.asked.withLock { $0 } == [Self.id])
        directory.notFound(Self.id)
        #expect(directory.lookup(Self.id) == .pending, "one source has not answered yet")
        let metadata = ContainerMetadata(id: Self.id, name: "/web", labels: ["tier": "prod"])
        directory.learned(metadata)
        #expect(directory.lookup(Self.id) == .known(metadata))
        #expect(changed.withLock { $0 } == [Self.id])
    }

    @Test("Unknown once every source said so; with no source at all, unknown at once")
    func unknown() {
        let directory = ContainerDirectory()
        let source = ScriptedSource("a")
        directory.probeFinished(with: [source])
        #expect(directory.lookup(Self.id) == .pending)
        directory.notFound(Self.id)
        #expect(directory.lookup(Self.id) == .unknown)
        #expect(source.asked.withLock { $0.count } == 1, "not asked again")

        let empty = ContainerDirectory()
        #expect(empty.lookup(Self.id) == .pending)
        let changed = Mutex<[String]>([])
        empty.onChange { id in changed.withLock { $0.append(id) } }
        empty.probeFinished(with: [])
        #expect(empty.lookup(Self.id) == .unknown)
        #expect(changed.withLock { $0 } == [Self.id], "what waited is decided again")
    }

    @Test("Runtime terms are undecided while pending; decided on the name (with or without '/') and labels once known")
    func evaluation() throws {
        var process = Self.process
        process.containerPending = true
        let byName = try ConditionParser.parse("container.name:web")
        #expect(ConditionEvaluator.evaluate(byName, process: process, capabilities: nil) == nil)
        #expect(ConditionEvaluator.evaluate(try ConditionParser.parse("NOT pod.name:x"), process: process, capabilities: nil) == nil)
        #expect(ConditionEvaluator.evaluate(try ConditionParser.parse("container.id:abababababab"), process: process, capabilities: nil) == true)
        process.containerPending = false
        process.containerName = "/web"
        process.containerLabels = ["tier": "prod"]
        for (condition, expected) in [
            ("container.name:web", true), ("container.name:/web", true), ("container.name:we*", true),
            ("container.name:/we*", true), ("container.name:eb", false), ("container.label:prod", true),
            ("container.label:tier=prod", true), ("container.label:tier", false), ("pod.name:*", false),
        ] {
            #expect(ConditionEvaluator.evaluate(try ConditionParser.parse(condition), process: process, capabilities: nil) == expected, "\(condition)")
        }
    }

    @Test("The process model gives held processes of a container its metadata, with a new generation, when it arrives")
    func processModelFollows() {
        let directory = ContainerDirectory()
        directory.probeFinished(with: [ScriptedSource("a")])
        let model = ProcessModel(containers: directory, read: { _ in Self.process })
        let before = model.snapshot(7)
        #expect(before?.containerPending == true)
        #expect(model.awaitsContainer(7))
        directory.learned(ContainerMetadata(id: Self.id, name: "/web", labels: [:]))
        #expect(model.containerChanged(Self.id) == [7])
        let after = model.snapshot(7)
        #expect(after?.containerName == "/web" && after?.containerPending == false)
        #expect(after?.generation != before?.generation)
        #expect(model.containerChanged(Self.id) == [], "nothing new: no new generation")
    }

    /// Answers as fast as can be: while it is being asked (a bundle answers in microseconds).
    final class ImmediateSource: ContainerSource {
        let name = "immediate"
        let directory: ContainerDirectory
        init(_ directory: ContainerDirectory) { self.directory = directory }
        func requestLookup(_ id: String) { directory.learned(ContainerMetadata(id: id, name: "/web", labels: [:])) }
        func start() {}
        func stop() {}
    }

    @Test("A container described before the process model has stored the snapshot that asked is not left pending")
    func answerBeforeStore() {
        let directory = ContainerDirectory()
        let model = ProcessModel(containers: directory, read: { _ in Self.process })
        directory.onChange { id in _ = model.containerChanged(id) }
        directory.probeFinished(with: [ImmediateSource(directory)])
        let snapshot = model.snapshot(7)
        #expect(snapshot?.containerPending == false && snapshot?.containerName == "/web")
        #expect(!model.awaitsContainer(7))
    }

    @Test("Warnings name each runtime field no source found can supply")
    func warnings() {
        let directory = ContainerDirectory()
        directory.start(sockets: [], logger: .init(label: "test"))
        let fields: Set<Condition.Field> = [.podNamespace, .containerName, .processName]
        #expect(directory.warnings(for: fields).map { $0.prefix { $0 != ":" } } == ["container.name", "pod.namespace"])
        #expect(directory.warnings(for: [.containerID, .processPID]).isEmpty)
    }

    @Test("Fallbacks (the bundles) are asked only once every socket source said it does not know the container")
    func fallbacksAfterSources() {
        let directory = ContainerDirectory()
        let (socket, bundles) = (ScriptedSource("cri"), ScriptedSource("oci-bundles /x"))
        directory.probeFinished(with: [socket], fallbacks: [bundles])
        #expect(directory.lookup(Self.id) == .pending)
        #expect(socket.asked.withLock { $0 } == [Self.id] && bundles.asked.withLock { $0 }.isEmpty)
        directory.notFound(Self.id)
        #expect(directory.lookup(Self.id) == .pending, "now the bundles' turn")
        #expect(bundles.asked.withLock { $0 } == [Self.id])
        directory.notFound(Self.id)
        #expect(directory.lookup(Self.id) == .unknown)

        let bundlesOnly = ContainerDirectory()
        let only = ScriptedSource("oci-bundles /x")
        bundlesOnly.probeFinished(with: [], fallbacks: [only])
        #expect(bundlesOnly.lookup(Self.id) == .pending)
        #expect(only.asked.withLock { $0 } == [Self.id])
    }

    @Test("A bundle's annotations (containerd's CRI, cri-o's) give the name and pod; a sandbox has no name; hostile or foreign files give nothing")
    func bundleAnnotations() throws {
        let containerd = OCIBundleSource.metadata(id: Self.id, annotations: [
            "io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "web",
            "io.kubernetes.cri.sandbox-name": "pod-a", "io.kubernetes.cri.sandbox-namespace": "default",
            "io.kubernetes.cri.sandbox-uid": "uid-a", "io.kubernetes.cri.image-name": "busybox:1",
        ])
        var pod = PodIdentity()
        (pod.id, pod.name, pod.namespace) = ("uid-a", "pod-a", "default")
        #expect(containerd == ContainerMetadata(id: Self.id, name: "web", labels: [:], pod: pod, image: "busybox:1"))
        let sandbox = OCIBundleSource.metadata(id: Self.id, annotations: [
            "io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.container-name": "POD",
            "io.kubernetes.cri.sandbox-name": "pod-a", "io.kubernetes.cri.sandbox-uid": "uid-a",
        ])
        #expect(sandbox?.name == "" && sandbox?.pod.name == "pod-a")
        let crio = OCIBundleSource.metadata(id: Self.id, annotations: [
            "io.kubernetes.container.name": "db", "io.kubernetes.pod.name": "pod-b",
            "io.kubernetes.pod.namespace": "prod", "io.kubernetes.pod.uid": "uid-b",
        ])
        #expect(crio?.name == "db" && crio?.pod.namespace == "prod" && crio?.pod.id == "uid-b")
        // podman's bundles name nothing.
        #expect(OCIBundleSource.metadata(id: Self.id, annotations: ["io.container.manager": "libpod"]) == nil)

        let folder = try TestSupport.temporaryDirectory("bundles")
        defer { try? FileManager.default.removeItem(at: folder) }
        let files: [(String, Data)] = [
            ("empty", Data()), ("not-json", Data("{\"annotations\": [[[".utf8)),
            ("array", Data("[1,2]".utf8)), ("annotations-array", Data(#"{"annotations": ["a"]}"#.utf8)),
            ("huge", Data(repeating: 0x20, count: OCIBundleSource.maximumConfigBytes + 1)),
            ("nested", Data((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)),
            ("nul", Data(#"{"annotations": {"io.kubernetes.cri.container-name": "a\u0000b", "x": 1}}"#.utf8)),
        ]
        for (name, data) in files { try data.write(to: folder.appending(path: name)) }
        for (name, _) in files.prefix(6) {
            #expect(OCIBundleSource.annotations(at: folder.appending(path: name).path)?.isEmpty ?? true, "\(name)")
        }
        #expect(OCIBundleSource.annotations(at: folder.appending(path: "nul").path) == ["io.kubernetes.cri.container-name": "a\0b"])
        #expect(OCIBundleSource.annotations(at: folder.path) == nil, "a directory")
        #expect(OCIBundleSource.annotations(at: "/nonexistent/config.json") == nil)
    }

    @Test("The bundle source finds a container's config.json under a namespace folder or userdata; a FIFO in its place does not hang it")
    func bundleSource() async throws {
        let root = try TestSupport.temporaryDirectory("bundle-root")
        defer { try? FileManager.default.removeItem(at: root) }
        let other = String(repeating: "cd", count: 32)
        for (path, name) in [("k8s.io/\(Self.id)", "web"), ("\(other)/userdata", "db")] {
            let bundle = root.appending(path: path)
            try FileManager.default.createDirectory(at: bundle, withIntermediateDirectories: true)
            try Data(#"{"ociVersion": "1.0.2", "annotations": {"io.kubernetes.container.name": "\#(name)"}}"#.utf8)
                .write(to: bundle.appending(path: "config.json"))
        }
        let fifo = String(repeating: "0f", count: 32)
        try FileManager.default.createDirectory(at: root.appending(path: fifo), withIntermediateDirectories: true)
        #expect(mkfifo(root.appending(path: "\(fifo)/config.json").path, 0o600) == 0)
        let directory = ContainerDirectory()
        let source = OCIBundleSource(roots: [root.path], directory: directory, logger: .init(label: "test"))
        directory.probeFinished(with: [], fallbacks: [source])
        let unknown = String(repeating: "ef", count: 32)
        for id in [fifo, Self.id, other, unknown, "../../etc"] { _ = directory.lookup(id) }
        try await waitUntil {
            directory.lookup(unknown) == .unknown && directory.lookup(fifo) == .unknown && directory.isKnown(other) && directory.isKnown(Self.id)
        }
        if case .known(let web) = directory.lookup(Self.id) { #expect(web.name == "web") } else { Issue.record("web not known") }
        if case .known(let db) = directory.lookup(other) { #expect(db.name == "db") } else { Issue.record("db not known") }
        #expect(directory.lookup("../../etc") == .unknown)
        source.stop()
    }

    @Test("A bundle folder made after start is read, and a bundle written a moment after its container was asked for is found")
    func lateBundles() async throws {
        let base = try TestSupport.temporaryDirectory("late-bundles")
        defer { try? FileManager.default.removeItem(at: base) }
        let root = base.appending(path: "tasks")
        let directory = ContainerDirectory()
        let source = OCIBundleSource(roots: [root.path], directory: directory, logger: .init(label: "test"))
        defer { source.stop() }
        directory.probeFinished(with: [], fallbacks: [source])
        #expect(directory.foundSources.isEmpty, "no folder yet")
        #expect(directory.lookup(Self.id) == .pending)
        usleep(150_000)  // not a task's sleep: a busy pool may overrun it past every retry
        let bundle = root.appending(path: "k8s.io/\(Self.id)")
        try FileManager.default.createDirectory(at: bundle, withIntermediateDirectories: true)
        try Data(#"{"annotations": {"io.kubernetes.cri.container-name": "late"}}"#.utf8).write(to: bundle.appending(path: "config.json"))
        try await waitUntil(seconds: 5) { directory.isKnown(Self.id) }
        #expect(directory.foundSources == ["oci-bundles " + root.path])
    }
}
