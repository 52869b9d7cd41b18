import Foundation
import Host
import SystemFiles
import Testing

/// Paths and helpers shared by the tests.
enum TestSupport {
    /// The package's root directory.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The directory holding the build's products (tawonctl, the plugins, this test binary).
    static let productsDirectory: URL = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // The test binary may sit inside a bundle directory (name.xctest/...).
        while directory.path != "/" && !FileManager.default.fileExists(
            atPath: directory.appending(path: "tawonctl").path)
        {
            directory = directory.deletingLastPathComponent()
        }
        return directory
    }()

    /// A new private directory (mode 0700, owned by this user), removed by the caller.
    static func temporaryDirectory(_ label: String) throws -> URL {
        var template = Array("/tmp/tawon-test-\(label)-XXXXXX".utf8CString)
        guard let path = mkdtemp(&template) else {
            throw TestFailure("mkdtemp: \(String(cString: strerror(errno)))")
        }
        return URL(fileURLWithPath: String(cString: path))
    }

    /// Runs a program to completion, returning its status and output. Spawned with a clean
    /// signal mask (test threads block signals), output through files (a daemon the program
    /// starts, like podman's conmon, may hold a pipe open long after the program has exited).
    @discardableResult
    static func run(
        _ executable: String, _ arguments: [String], in directory: URL? = nil,
        environment: [String: String]? = nil, stdin: String? = nil
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let scratch = try temporaryDirectory("run")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let paths = ["in", "out", "err"].map { scratch.appending(path: $0).path }
        try (stdin ?? "").write(toFile: paths[0], atomically: false, encoding: .utf8)
        // A working directory through sh (posix_spawn's chdir action is not exported to Swift).
        let command = directory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0.path, executable] + arguments }
            ?? [executable] + arguments
        let pid = try ChildProcess.spawn(
            command, environment: (environment ?? ProcessInfo.processInfo.environment).map { "\($0)=\($1)" },
            stdin: .path(paths[0]), stdout: .path(paths[1]), stderr: .path(paths[2]))
        let status = ChildProcess.wait(pid)
        return (status, try String(contentsOfFile: paths[1], encoding: .utf8),
                try String(contentsOfFile: paths[2], encoding: .utf8))
    }

    /// Compiles `Fixtures/SOURCE` with the system C compiler into a private directory as
    /// `name`; the path of the program.
    static func compileFixture(_ source: String, as name: String, flags: [String] = []) -> String {
        let directory = try! temporaryDirectory("fixture")
        let output = directory.appending(path: name).path
        let path = packageRoot.appending(path: "Tests/HostTests/Fixtures/\(source)").path
        let result = try! run("/usr/bin/env", ["cc", "-O1"] + flags + ["-o", output, path])
        precondition(result.status == 0, "cc \(source) failed: \(result.stderr)")
        return output
    }

    /// Runs blocking work (polling a pipeline) on a thread of its own, so that an async test does
    /// not hold one of the few threads every async test shares.
    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Waits (on this thread) until the pipeline's probe of container runtimes has finished.
    static func waitForContainerProbe(_ pipeline: Pipeline) {
        let deadline = ContinuousClock.now + .seconds(15)
        while !pipeline.containers.probed && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
    }

    /// Runs a shell command line (as a README documents it).
    static func shell(_ command: String, in directory: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        try run("/bin/sh", ["-c", command], in: directory)
    }
}

/// Waits until `condition` holds, checking every 20 ms; fails after `seconds`. Checked once
/// more at the end: under a full suite's load a sleep may overrun the whole wait.
func waitUntil(seconds: Double = 10, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    if try await condition() { return }
    throw TestFailure("timed out")
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Gate for tests that need root and BPF. Without them the test is cancelled with the reason,
/// unless TAWON_REQUIRE_BPF=1 (as in CI), where missing support is a failure.
enum KernelSupport {
    static var missingReason: String? {
        if geteuid() != 0 { return "needs root (CAP_BPF and CAP_PERFMON) to load BPF programs" }
        if !FileManager.default.fileExists(atPath: "/sys/kernel/btf/vmlinux") {
            return "the kernel has no BTF at /sys/kernel/btf/vmlinux (CO-RE needs it)"
        }
        return nil
    }

    static func require(sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard let reason = missingReason else { return }
        if ProcessInfo.processInfo.environment["TAWON_REQUIRE_BPF"] == "1" {
            Issue.record("TAWON_REQUIRE_BPF=1 but kernel test cannot run: \(reason)", sourceLocation: sourceLocation)
            throw TestFailure(reason)
        }
        try Test.cancel("skipped: \(reason)", sourceLocation: sourceLocation)
    }
}

/// BPF programs in the kernel, for tests that check what tawon loads and leaves behind.
enum LoadedPrograms {
    /// IDs of every loaded program of tawon's objects (bpf/process.bpf.c, bpf/syscalls.bpf.c,
    /// bpf/cgroups.bpf.c), from `bpftool prog list`.
    static func tawonIDs() throws -> Set<Int> {
        Set(try TestSupport.run("/usr/sbin/bpftool", ["prog", "list"]).stdout.split(separator: "\n").compactMap { line -> Int? in
            guard line.contains(" name syscalls_") || line.contains(" name process_") || line.contains(" name cgroups_")
            else { return nil }
            return Int(line.prefix { $0 != ":" })
        })
    }

    /// IDs of the programs attached now (`bpftool link list`: "ID: tracing  prog PROGRAM ...").
    static func attachedIDs() throws -> Set<Int> {
        Set(try TestSupport.run("/usr/sbin/bpftool", ["link", "list"]).stdout.split(separator: "\n").compactMap { line -> Int? in
            let words = line.split(separator: " ")
            guard let at = words.firstIndex(of: "prog"), at + 1 < words.count else { return nil }
            return Int(words[at + 1])
        })
    }

    /// IDs of the loaded programs whose names start with `prefix`.
    static func ids(named prefix: String) throws -> Set<Int> {
        Set(try TestSupport.run("/usr/sbin/bpftool", ["prog", "list"]).stdout.split(separator: "\n").compactMap { line -> Int? in
            guard line.contains(" name \(prefix)") else { return nil }
            return Int(line.prefix { $0 != ":" })
        })
    }

    /// IDs of the programs a process holds file descriptors of (its /proc/PID/fdinfo).
    static func heldBy(_ pid: Int32) -> Set<Int> {
        let directory = "/proc/\(pid)/fdinfo"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return Set(entries.compactMap { entry -> Int? in
            guard let text = SystemFile.text("\(directory)/\(entry)") else { return nil }
            return text.split(separator: "\n").first { $0.hasPrefix("prog_id:") }
                .flatMap { Int($0.dropFirst("prog_id:".count).trimmingCharacters(in: .whitespaces)) }
        })
    }
}
