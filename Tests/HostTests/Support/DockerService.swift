import Foundation
import Testing

/// A private dockerd for one test: its own socket, data and exec roots, no iptables and no
/// bridge (containers run with `--network none`), and the test image loaded from podman.
final class DockerService {
    let socket: String
    let directory: URL
    private let process = Process()

    static let image = "localhost/\(ContainerKernelTests.image):latest"

    init() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/dockerd") else {
            if ProcessInfo.processInfo.environment["TAWON_REQUIRE_BPF"] == "1" {
                throw TestFailure("dockerd is not installed (scripts/install-deps.sh installs docker.io)")
            }
            try Test.cancel("skipped: dockerd is not installed")
        }
        // Short: a Unix socket's path is at most 107 bytes, and dockerd's containerd nests its own in the exec root.
        directory = URL(fileURLWithPath: try TestSupport.run("/usr/bin/mktemp", ["-d", "/tmp/tdk-XXXXXX"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines))
        socket = directory.appending(path: "docker.sock").path
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/dockerd")
        process.arguments = [
            "--host", "unix://\(socket)", "--data-root", directory.appending(path: "root").path,
            "--exec-root", directory.appending(path: "exec").path, "--pidfile", directory.appending(path: "docker.pid").path,
            "--iptables=false", "--bridge=none",
        ]
        let logPath = directory.appending(path: "dockerd.log").path
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if try docker(["version", "--format", "{{.Server.Version}}"]).status == 0 {
                try loadImage()
                return
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        stop()
        throw TestFailure("dockerd did not answer on \(socket) within 30 s (log: \(directory.path)/dockerd.log)")
    }

    /// The docker CLI against this daemon.
    func docker(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try TestSupport.run(Self.client, ["-H", "unix://\(socket)"] + arguments)
    }

    /// `docker run -d`, returning the container's id.
    func runDetached(_ arguments: [String]) throws -> String {
        let result = try docker(["run", "-d", "--network", "none"] + arguments)
        guard result.status == 0 else { throw TestFailure("docker run: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func loadImage() throws {
        try ContainerKernelTests.ensureImage()
        let loaded = try TestSupport.shell(
            "/usr/bin/podman save \(Self.image) 2>/dev/null | \(Self.client) -H unix://\(socket) load", in: directory)
        guard loaded.status == 0 else { throw TestFailure("docker load: \(loaded.stderr)") }
    }

    /// Debian's docker.io ships the client as /usr/bin/docker; another may be first on PATH.
    static var client: String {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/docker") ? "/usr/bin/docker" : "/usr/local/bin/docker"
    }

    func stop() {
        if process.isRunning {
            _ = try? docker(["rm", "-f"] + ((try? docker(["ps", "-aq"]).stdout.split(separator: "\n").map(String.init)) ?? []))
            process.terminate()
            process.waitUntilExit()
        }
        _ = try? TestSupport.run("/bin/sh", ["-c", "umount -R \(directory.path)/root/overlay2 2>/dev/null; rm -rf \(directory.path)"])
    }
}
