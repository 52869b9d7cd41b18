import Foundation
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

    /// Runs a program to completion, returning its status and output.
    ///
    /// Spawned with posix_spawn, not Foundation's Process: test threads block most signals and
    /// Process passes that mask on, which stalls programs that wait for signals (podman waits
    /// on its conmon). Output goes through files, so nothing waits for a pipe to close.
    @discardableResult
    static func run(
        _ executable: String, _ arguments: [String], in directory: URL? = nil,
        environment: [String: String]? = nil, stdin: String? = nil
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let scratch = try temporaryDirectory("run")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let paths = ["in", "out", "err"].map { scratch.appending(path: $0).path }
        try (stdin ?? "").write(toFile: paths[0], atomically: false, encoding: .utf8)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, paths[0], O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, paths[1], O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, paths[2], O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        // A working directory through sh (posix_spawn's chdir action is not exported to Swift).
        let command = directory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0.path, executable] + arguments }
            ?? [executable] + arguments
        let environmentStrings = (environment ?? ProcessInfo.processInfo.environment).map { "\($0)=\($1)" }
        let argv = command.map { strdup($0) } + [nil]
        let envp = environmentStrings.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw TestFailure("posix_spawn \(executable): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return (exitStatus, try String(contentsOfFile: paths[1], encoding: .utf8),
                try String(contentsOfFile: paths[2], encoding: .utf8))
    }

    /// Runs a shell command line (as a README documents it).
    static func shell(_ command: String, in directory: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        try run("/bin/sh", ["-c", command], in: directory)
    }
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
