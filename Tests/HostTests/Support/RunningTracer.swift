import Foundation
import SystemFiles

/// A `tawonctl run` started for a test, its standard error in a file; ready once it says it is
/// tracing (or after 10 s, for the test to see why not).
final class RunningTracer: @unchecked Sendable {
    let pid: pid_t
    private let directory: URL
    private let errors: String
    private var exited = false

    /// `command`: the whole command line, `tawonctl run ...` or a shell that execs it.
    init(_ command: [String], stdout: ChildProcess.Stream = .path("/dev/null")) throws {
        directory = try TestSupport.temporaryDirectory("run")
        errors = directory.appending(path: "err").path
        pid = try ChildProcess.spawn(command, stdout: stdout, stderr: .path(errors))
        let ready = ContinuousClock.now + .seconds(10)
        while !said.contains("tracing directive"), ContinuousClock.now < ready { usleep(10_000) }
    }

    /// What it has written to standard error so far.
    var said: String { SystemFile.text(errors) ?? "" }

    /// Its exit status, once it has exited.
    func wait() -> Int32 {
        defer { exited = true }
        return ChildProcess.wait(pid)
    }

    deinit {
        if !exited { kill(pid, SIGKILL); _ = ChildProcess.wait(pid) }
        try? FileManager.default.removeItem(at: directory)
    }
}
