import Foundation
import SystemFiles

/// The demo's simulations (the seed's table) and the helper program that performs them.
public enum DemoSimulator {
    /// Simulation → the syscalls it makes, exactly as the seed's table.
    public static let simulations: [(name: String, functions: [String])] = [
        ("cap_chown", ["chown"]),
        ("cap_ipc_lock", ["mlockall", "mlock"]),
        ("cap_kill", ["kill"]),
        ("cap_net_raw", ["socket", "setsockopt", "bind"]),
        ("cap_setuid", ["setuid", "setreuid"]),
        ("cap_sys_chroot", ["chroot", "setns"]),
        ("cap_sys_ptrace", ["ptrace"]),
    ]

    /// How one simulation went.
    public struct Outcome: Sendable, Equatable {
        public var name: String
        public var ok: Bool
        /// Why a call failed (the call, the error), empty when ok.
        public var reason: String
    }

    /// A demo option that names no known simulation.
    public struct NameError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The simulations named by `text` ("cap_chown+cap_kill", "all"), in the seed's order.
    public static func names(from text: String) throws(NameError) -> [String] {
        let known = simulations.map(\.name)
        var chosen = Set<String>()
        for part in text.split(separator: "+", omittingEmptySubsequences: false).map(String.init) {
            if part == "all" {
                chosen.formUnion(known)
            } else if known.contains(part) {
                chosen.insert(part)
            } else {
                throw NameError(
                    description: "unknown simulation '\(part)' (supported: \((known + ["all"]).joined(separator: ", ")))")
            }
        }
        return known.filter(chosen.contains)
    }

    /// The syscalls the named simulations make.
    public static func functions(of names: [String]) -> [String] {
        simulations.filter { names.contains($0.name) }.flatMap(\.functions)
    }

    /// The helper: TAWON_SIMULATOR, or `tawon-simulate` beside the image this code is linked into
    /// (the plugin's .so, or the tawonctl binary).
    public static func executablePath() -> String? {
        if let path = ProcessInfo.processInfo.environment["TAWON_SIMULATOR"] { return path }
        guard let image = imageContaining(unsafeBitCast(simulatorAnchor as @convention(c) () -> Void, to: UInt.self))
        else { return nil }
        let candidate = URL(fileURLWithPath: image).deletingLastPathComponent().appending(path: "tawon-simulate").path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }

    /// The file mapped at `address` in this process, from /proc/self/maps (dladdr is not
    /// available to Swift here).
    static func imageContaining(_ address: UInt) -> String? {
        guard let maps = SystemFile.text("/proc/self/maps") else { return nil }
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            let range = fields.first?.split(separator: "-").compactMap { UInt($0, radix: 16) } ?? []
            guard range.count == 2, range[0] <= address, address < range[1], fields.count >= 6 else { continue }
            return fields[5...].joined(separator: " ")
        }
        return nil
    }

    /// Starts the helper for `names`. Its command line carries `token` when given.
    public static func start(_ names: [String], token: String? = nil) throws -> SimulatorRun {
        guard let path = executablePath() else {
            throw NameError(description: "tawon-simulate was not found beside the plugin (set TAWON_SIMULATOR)")
        }
        return try SimulatorRun(path: path, arguments: names + (token.map { ["--token", $0] } ?? []))
    }

    /// Parses the helper's report lines.
    static func outcomes(_ output: String) -> [Outcome] {
        output.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard let name = parts.first, parts.count == 2 else { return nil }
            if parts[1] == "ok" { return Outcome(name: name, ok: true, reason: "") }
            guard parts[1].hasPrefix("failed: ") else { return nil }
            return Outcome(name: name, ok: false, reason: String(parts[1].dropFirst("failed: ".count)))
        }
    }
}

/// One run of the helper, in a process group of its own so that stopping it leaves no child.
public final class SimulatorRun: @unchecked Sendable {
    public let pid: pid_t
    private let output: Int32
    private var finished = false

    init(path: String, arguments: [String]) throws {
        var pipe: [Int32] = [0, 0]
        guard Glibc.pipe(&pipe) == 0 else {
            throw DemoSimulator.NameError(description: "pipe: \(String(cString: strerror(errno)))")
        }
        // Not inherited by anything else the host starts meanwhile.
        _ = fcntl(pipe[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipe[1], F_SETFD, FD_CLOEXEC)
        defer { close(pipe[1]) }
        do {
            pid = try ChildProcess.spawn([path] + arguments, stdout: .descriptor(pipe[1]), newProcessGroup: true)
        } catch {
            close(pipe[0])
            throw DemoSimulator.NameError(description: "\(error)")
        }
        output = pipe[0]
    }

    deinit { stop() }

    /// Waits for the run to end and returns each simulation's outcome.
    public func wait() -> [DemoSimulator.Outcome] {
        var text = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(output, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            text.append(contentsOf: buffer.prefix(count))
        }
        reap()
        return DemoSimulator.outcomes(String(decoding: text, as: UTF8.self))
    }

    /// Kills the run and every process it started, and reaps it.
    public func stop() {
        guard !finished else { return }
        kill(-pid, SIGKILL)
        reap()
    }

    private func reap() {
        guard !finished else { return }
        finished = true
        ChildProcess.wait(pid)
        close(output)
    }
}

/// An address inside this module, to find the image it is linked into.
private func simulatorAnchor() {}
