import Foundation
import Synchronization
import Host
import Testing

/// A real podman container's processes match `container.id`; the host's do not.
@Suite("Containers (kernel, podman)", .serialized)
struct ContainerKernelTests {
    static let image = "tawon-test-busybox"
    // runc, cgroupfs, and limits no higher than the host's (root here cannot raise them).
    static let runOptions = [
        "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--ulimit", "nofile=1024:1024",
        "--ulimit", "nproc=4096:4096",
    ]

    @Test("container.id selects a podman container's processes and not the host's")
    func containerID() throws {
        try KernelSupport.require()
        try Self.requirePodman()
        try Self.ensureImage()
        let script = "sleep 1; i=0; while [ $i -lt 8 ]; do echo tick > /dev/null; i=$((i+1)); sleep 0.2; done"
        let id = try Self.runDetached(Self.runOptions + [Self.image, "/bin/sh", "-c", script])
        defer { _ = try? TestSupport.run("/usr/bin/podman", ["rm", "-f", id]) }

        let tracer = CollectingSession()
        let byPrefix = try tracer.session.add(DirectiveRequest(
            conditions: "container.id:\(id.prefix(12))", tasks: [try TaskSpec.parse("syscalls|functions:write")]))
        let byWholeID = try tracer.session.add(DirectiveRequest(
            conditions: "container.id:\(id) AND process.name:sh", tasks: [try TaskSpec.parse("syscalls|functions:write")]))
        let host = try TracedWorkload(["write"])
        let hostDirective = try tracer.session.add(DirectiveRequest(
            conditions: "process.pid:\(host.pid) AND NOT container.id:\(id.prefix(12))",
            tasks: [try TaskSpec.parse("syscalls|functions:write")]))
        host.go()
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline { try tracer.session.poll(timeoutMilliseconds: 50) }
        tracer.session.close()

        func calls(_ directive: DirectiveSummary) throws -> [SyscallData] {
            try tracer.collector.all.filter { $0.directiveID == directive.id }
                .map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)) }
        }
        let inContainer = try calls(byPrefix)
        #expect(inContainer.count >= 4)
        #expect(inContainer.allSatisfy { $0.process?.container?.id == id })
        #expect(!inContainer.contains { $0.process?.pid == host.pid })
        #expect(try calls(byWholeID).count == inContainer.count)
        #expect(try calls(hostDirective).compactMap { $0.process?.pid } == [host.pid])
        #expect(try calls(hostDirective).first?.process?.container?.id == "")
    }

    @Test("container.name (with and without '/') and container.label (value, key=value) select a container started before tracing, not its twin; events carry its name")
    func namesAndLabels() throws {
        try KernelSupport.require()
        try Self.requirePodman()
        try Self.ensureImage()
        let service = try PodmanService()
        defer { service.stop() }
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let script = "i=0; while [ $i -lt 40 ]; do echo tick > /dev/null; i=$((i+1)); sleep 0.1; done"
        let named = try Self.runDetached(
            Self.runOptions + ["--name", "misctr-\(suffix)", "--label", "tier=misprod-\(suffix)", Self.image, "/bin/sh", "-c", script])
        let twin = try Self.runDetached(
            Self.runOptions + ["--name", "twin-\(suffix)", "--label", "tier=other-\(suffix)", Self.image, "/bin/sh", "-c", script])
        defer { _ = try? TestSupport.run("/usr/bin/podman", ["rm", "-f", named, twin]) }

        let tracer = CollectingSession(containerSockets: [service.socket])
        let conditions = [
            "container.name:misctr-\(suffix)", "container.name:/misctr-\(suffix)", "container.label:tier=misprod-\(suffix)",
            "container.label:misprod-\(suffix)", "container.name:misctr-\(suffix)* AND NOT container.label:other-\(suffix)",
        ]
        let directives = try conditions.map {
            try tracer.session.add(DirectiveRequest(conditions: $0, tasks: [try TaskSpec.parse("syscalls|functions:write")]))
        }
        let twinDirective = try tracer.session.add(DirectiveRequest(
            conditions: "container.name:twin-\(suffix)", tasks: [try TaskSpec.parse("syscalls|functions:write")]))
        #expect((directives + [twinDirective]).allSatisfy { $0.warnings.isEmpty })
        func calls(_ directive: DirectiveSummary) throws -> [SyscallData] {
            try tracer.collector.all.filter { $0.directiveID == directive.id }
                .map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)) }
        }
        let deadline = ContinuousClock.now + .seconds(8)
        while ContinuousClock.now < deadline, try (directives + [twinDirective]).contains(where: { try calls($0).count < 5 }) {
            try tracer.session.poll(timeoutMilliseconds: 50)
        }
        tracer.session.close()
        for (condition, directive) in zip(conditions, directives) {
            let selected = try calls(directive)
            #expect(selected.count >= 5, "\(condition): \(selected.count) calls")
            #expect(selected.allSatisfy { $0.process?.container == .init(id: named, name: "/misctr-\(suffix)") }, "\(condition)")
        }
        let twinCalls = try calls(twinDirective)
        #expect(twinCalls.count >= 5)
        #expect(twinCalls.allSatisfy { $0.process?.container == .init(id: twin, name: "/twin-\(suffix)") })
    }

    @Test("A container whose first process writes at once: that write is seen under container.name, 20 of 20 starts")
    func firstCallOfNewContainers() throws {
        try KernelSupport.require()
        try Self.requirePodman()
        try Self.ensureImage()
        let service = try PodmanService()
        defer { service.stop() }
        let prefix = "first-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let tracer = CollectingSession(containerSockets: [service.socket])
        let directive = try tracer.session.add(DirectiveRequest(
            conditions: "container.name:\(prefix)-*", tasks: [try TaskSpec.parse("syscalls|functions:write")]))
        let stop = Atomic<Bool>(false)
        let polling = Thread { [session = tracer.session] in
            while !stop.load(ordering: .relaxed) { _ = try? session.poll(timeoutMilliseconds: 20) }
        }
        polling.start()
        let starts = 20
        for start in 0..<starts {
            let result = try TestSupport.run("/usr/bin/podman", ["run", "--rm"] + Self.runOptions + [
                "--name", "\(prefix)-\(start)", Self.image, "/bin/sh", "-c", "echo \(prefix)-\(start) > /dev/null",
            ])
            #expect(result.status == 0, "\(result.stderr)")
        }
        func seen() throws -> [Int] {
            let written = try tracer.collector.all.filter { $0.directiveID == directive.id }
                .map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)) }
                .compactMap { call -> String? in
                    guard case .text(let text)? = call.args?.first(where: { $0.name == "buf" })?.value else { return nil }
                    return text
                }
            return (0..<starts).filter { written.contains("\(prefix)-\($0)\\n") }
        }
        // Held records are let go when the runtime answers, or at the deadline.
        let deadline = ContinuousClock.now + .seconds(6)
        while ContinuousClock.now < deadline, try seen().count < starts { Thread.sleep(forTimeInterval: 0.1) }
        stop.store(true, ordering: .relaxed)
        while !polling.isFinished { Thread.sleep(forTimeInterval: 0.02) }
        tracer.session.close()
        let seenStarts = try seen()
        #expect(seenStarts.count == starts, "seen \(seenStarts.count) of \(starts): missing \(Set(0..<starts).subtracting(seenStarts).sorted())")
        #expect(tracer.session.counters().decidedWithoutContainer == 0)
    }

    @Test("No runtime: pod and container-name terms are accepted with a warning each, and the rest of the condition works")
    func noRuntime() throws {
        try KernelSupport.require()
        let tracer = CollectingSession(containerSockets: ["/nonexistent/docker.sock"])
        let podDirective = try tracer.session.add(DirectiveRequest(
            conditions: "pod.namespace:default AND pod.label:prod", tasks: [try TaskSpec.parse("syscalls|functions:write")]))
        #expect(podDirective.warnings.count == 2)
        #expect(podDirective.warnings.first?.hasPrefix("pod.label: no source here describes pods") == true)
        let workload = try TracedWorkload(["write"])
        let records = try tracer.trace(
            { "container.name:web OR process.pid:\($0)" }, ["syscalls|functions:write"], workload: workload)
        #expect(records.count >= 1)
        tracer.session.close()
    }

    enum HostileRuntime: String, CaseIterable { case garbage, huge, silent, hostileNames, goneBeforeInspection }

    @Test("A hostile runtime (bad JSON, 40 MiB, a line without end, silence, names with quotes and line breaks) neither crashes nor stalls tracing; a container gone before it could be inspected is named by its creation event", arguments: HostileRuntime.allCases)
    func hostileRuntime(_ behaviour: HostileRuntime) throws {
        try KernelSupport.require()
        try Self.requirePodman()
        try Self.ensureImage()
        let script = "i=0; while [ $i -lt 40 ]; do echo tick > /dev/null; i=$((i+1)); sleep 0.1; done"
        let id = try Self.runDetached(Self.runOptions + [Self.image, "/bin/sh", "-c", script])
        defer { _ = try? TestSupport.run("/usr/bin/podman", ["rm", "-f", id]) }
        let hostileName = "/ev\"il\n\u{2028}\u{0}}{"
        let described = try JSONSerialization.data(withJSONObject: [
            "Id": id, "Name": hostileName, "Names": [hostileName], "Labels": ["k\n": "v\"\u{7}"],
            "Config": ["Labels": ["k\n": "v\"\u{7}"]],
        ])
        let socketPath = try TestSupport.temporaryDirectory("hostile-runtime").appending(path: "docker.sock").path
        let runtime = try FakeRuntimeSocket(path: socketPath) { target in
            if target.hasSuffix("/_ping") { return FakeRuntimeSocket.response("200 OK", Array("OK".utf8), contentType: "text/plain") }
            switch behaviour {
            case .garbage:
                if target.contains("/events") {
                    return FakeRuntimeSocket.streamHeader + Array("200000\r\n".utf8) + [UInt8](repeating: 0x7B, count: 0x200000) + Array("\r\n".utf8)
                }
                return FakeRuntimeSocket.response("200 OK", Array("{\"Id\": [[[[".utf8))
            case .huge:
                return FakeRuntimeSocket.response("200 OK", [UInt8](repeating: 0x5B, count: 40 << 20))
            case .silent:
                return nil
            case .goneBeforeInspection:
                if target.contains("/events") {
                    let event = try! JSONSerialization.data(withJSONObject: [
                        "Type": "container", "Action": "create",
                        "Actor": ["ID": id, "Attributes": ["name": "gone", "image": "busybox", "tier": "prod"]],
                    ]) + Data("\n".utf8)
                    return FakeRuntimeSocket.streamHeader + Array(String(event.count, radix: 16).utf8) + Array("\r\n".utf8)
                        + Array(event) + Array("\r\n".utf8)
                }
                if target.contains("/containers/json") { return FakeRuntimeSocket.response("200 OK", Array("[]".utf8)) }
                return FakeRuntimeSocket.response("404 Not Found", Array(#"{"message":"no such container"}"#.utf8))
            case .hostileNames:
                if target.contains("/events") { return FakeRuntimeSocket.streamHeader }
                if target.contains("/containers/json") { return FakeRuntimeSocket.response("200 OK", Array("[".utf8) + Array(described) + Array("]".utf8)) }
                return FakeRuntimeSocket.response("200 OK", Array(described))
            }
        }
        defer { runtime.close() }

        let tracer = CollectingSession(containerSockets: ["docker:" + socketPath])
        let host = try TracedWorkload(["write"])
        let hostDirective = try tracer.session.add(DirectiveRequest(
            conditions: "process.pid:\(host.pid) OR container.name:nothing", tasks: [try TaskSpec.parse("syscalls|functions:write")]))
        let containerDirective = try tracer.session.add(DirectiveRequest(
            conditions: "container.id:\(id.prefix(12)) AND container.name:*", tasks: [try TaskSpec.parse("syscalls|functions:write")]))
        host.go()
        let deadline = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < deadline { try tracer.session.poll(timeoutMilliseconds: 50) }
        tracer.session.close()

        let records = tracer.collector.all
        #expect(records.contains { $0.directiveID == hostDirective.id }, "host calls still traced")
        let inContainer = try records.filter { $0.directiveID == containerDirective.id }
            .map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)) }
        if behaviour == .hostileNames {
            #expect(inContainer.count >= 3)
            // A NUL would cut the name short where tasks read it as a C string: it is replaced.
            let shown = hostileName.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
            #expect(inContainer.allSatisfy { $0.process?.container?.name == shown }, "\(inContainer.first?.process?.container?.name.debugDescription ?? "")")
        } else if behaviour == .goneBeforeInspection {
            #expect(inContainer.count >= 3)
            #expect(inContainer.allSatisfy { $0.process?.container == .init(id: id, name: "/gone") })
            #expect(tracer.session.counters().decidedWithoutContainer == 0)
        } else {
            #expect(inContainer.isEmpty, "no name was learned, so container.name:* holds for nothing")
        }
    }

    /// `podman run -d`, returning the container's id.
    static func runDetached(_ arguments: [String]) throws -> String {
        let result = try TestSupport.run("/usr/bin/podman", ["run", "-d"] + arguments)
        guard result.status == 0 else { throw TestFailure("podman run: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// podman's Docker-compatible API on a private socket, for one test.
    final class PodmanService {
        let socket: String
        private let process = Process()

        init() throws {
            let directory = try TestSupport.temporaryDirectory("podman-service")
            socket = directory.appending(path: "podman.sock").path
            process.executableURL = URL(fileURLWithPath: "/usr/bin/podman")
            process.arguments = ["system", "service", "--time=0", "unix://\(socket)"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                if case .answered = UnixSocketProbe.probe(socket) { return }
                Thread.sleep(forTimeInterval: 0.05)
            }
            stop()
            throw TestFailure("podman system service did not answer on \(socket) within 10 s")
        }

        func stop() {
            guard process.isRunning else { return }
            process.terminate()
            process.waitUntilExit()
        }
    }

    static func requirePodman() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/podman") else {
            if ProcessInfo.processInfo.environment["TAWON_REQUIRE_BPF"] == "1" {
                throw TestFailure("podman is not installed (scripts/install-deps.sh installs it)")
            }
            try Test.cancel("skipped: podman is not installed")
        }
    }

    /// Imports a busybox root filesystem as the test image, once.
    static func ensureImage() throws {
        if try TestSupport.run("/usr/bin/podman", ["image", "exists", image]).status == 0 { return }
        let root = try TestSupport.temporaryDirectory("rootfs")
        defer { try? FileManager.default.removeItem(at: root) }
        let bin = root.appending(path: "bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: bin.appending(path: "busybox").path)
        for command in ["sh", "sleep", "echo", "true"] {
            try FileManager.default.createSymbolicLink(atPath: bin.appending(path: command).path, withDestinationPath: "busybox")
        }
        let imported = try TestSupport.shell("tar -C '\(root.path)' -c . | /usr/bin/podman import - \(image)", in: root)
        guard imported.status == 0 else { throw TestFailure("podman import: \(imported.stderr)") }
    }
}
