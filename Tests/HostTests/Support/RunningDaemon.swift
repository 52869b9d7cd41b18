import Foundation
import Host
import SystemFiles

/// A real tawond, started for a test with its own socket, and stopped with SIGTERM.
final class RunningDaemon: @unchecked Sendable {
    let directory: URL
    let socket: String
    let pid: pid_t
    let log: String
    var client: DaemonClient { DaemonClient(socketPath: socket) }

    /// `stderr`: where its log goes, instead of the file at `log`.
    init(_ arguments: [String] = [], socket: String? = nil, stderr: ChildProcess.Stream? = nil) async throws {
        directory = try TestSupport.temporaryDirectory("daemon")
        self.socket = socket ?? directory.appending(path: "tawond.sock").path
        log = directory.appending(path: "tawond.log").path
        let tawond = TestSupport.productsDirectory.appending(path: "tawond").path
        let configuration = directory.appending(path: "tawond.yaml").path
        try "# defaults; the flags below set the rest\n".write(toFile: configuration, atomically: true, encoding: .utf8)
        pid = try ChildProcess.spawn(
            [tawond, "--socket", self.socket, "--log-level", "notice", "--config", configuration] + arguments,
            stderr: stderr ?? .path(log))
        let deadline = ContinuousClock.now + .seconds(20)
        var status: Int32 = 0
        while ContinuousClock.now < deadline, waitpid(pid, &status, WNOHANG) == 0 {
            if (try? await client.status()) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        // Once more at the deadline: a starved test thread may wake only after it.
        if waitpid(pid, &status, WNOHANG) == 0, (try? await client.status()) != nil { return }
        throw TestFailure("tawond did not become ready: \(SystemFile.text(log) ?? "")")
    }

    /// SIGTERM, then the exit status and how long the exit took.
    func stop() -> (status: Int32, seconds: Double) {
        let start = ContinuousClock.now
        kill(pid, SIGTERM)
        let status = ChildProcess.wait(pid)
        return (status, (ContinuousClock.now - start) / .seconds(1))
    }

    deinit {
        kill(pid, SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }
}
