import Foundation
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

    /// `podman run -d`, returning the container's id.
    static func runDetached(_ arguments: [String]) throws -> String {
        let result = try TestSupport.run("/usr/bin/podman", ["run", "-d"] + arguments)
        guard result.status == 0 else { throw TestFailure("podman run: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
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
