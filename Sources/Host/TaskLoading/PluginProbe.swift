import Foundation
import SystemFiles

/// Loads a plugin once in a process of its own before the host loads it: a file damaged in a way
/// no check before dlopen sees (a corrupt dynamic section, a crashing `describe`) kills the probe,
/// not the host. The probe is `tawonctl probe-plugin FILE`, found beside the running executable.
public struct PluginProbe: Sendable {
    public let executable: String
    public var timeout: Duration = .seconds(10)

    public init(executable: String) {
        self.executable = executable
    }

    /// tawonctl beside the running executable (tawond and tawonctl are installed together);
    /// nil when there is none.
    public static func besideExecutable() -> PluginProbe? {
        guard let running = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let candidate = (running as NSString).deletingLastPathComponent + "/tawonctl"
        return FileManager.default.isExecutableFile(atPath: candidate) ? PluginProbe(executable: candidate) : nil
    }

    /// Why loading `path` is not safe, or nil when the probe loaded it and came back. A plugin
    /// the probe refuses cleanly is left to the host's own checks, which say why.
    func problem(with path: String) -> String? {
        let pid: pid_t
        do { pid = try ChildProcess.spawn([executable, "probe-plugin", path]) } catch {
            return nil  // no probe to be had: the host's own checks still run
        }
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            guard ContinuousClock.now < deadline else {
                kill(pid, SIGKILL)
                _ = ChildProcess.wait(pid)
                return "loading it did not finish within \(timeout) in a test process"
            }
            usleep(2_000)
        }
        let signal = status & 0x7F
        guard signal != 0 else { return nil }
        return "loading it killed a test process with signal \(signal) (\(String(cString: strsignal(signal))))"
    }
}
