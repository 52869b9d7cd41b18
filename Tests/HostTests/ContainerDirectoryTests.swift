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

    @Test("Warnings name each runtime field no source found can supply")
    func warnings() {
        let directory = ContainerDirectory()
        directory.start(sockets: [], logger: .init(label: "test"))
        let fields: Set<Condition.Field> = [.podNamespace, .containerName, .processName]
        #expect(directory.warnings(for: fields).map { $0.prefix { $0 != ":" } } == ["container.name", "pod.namespace"])
        #expect(directory.warnings(for: [.containerID, .processPID]).isEmpty)
    }
}
