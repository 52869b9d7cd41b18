import Foundation
import SystemFiles

/// Reads what /proc says about a process.
public enum ProcFS {
    /// A snapshot of `pid`, or nil when it is gone (or was never there).
    public static func snapshot(_ pid: UInt32, root: String = "/proc") -> ProcessSnapshot? {
        guard let stat = read("\(root)/\(pid)/stat"), let fields = statFields(stat) else { return nil }
        var directory = "\(root)/\(pid)"
        if fields.exited {
            // A zombie has lost its command line and executable: it is gone, unless only its main
            // thread ended (pthread_exit) and others run on, through which the rest is read.
            guard let thread = liveThread(of: pid, root: root) else { return nil }
            directory += "/task/\(thread)"
        }
        let cgroup = read("\(directory)/cgroup").map(CgroupPath.containerCgroup) ?? ""
        return ProcessSnapshot(
            pid: pid, ppid: UInt32(fields.ppid), name: fields.comm,
            cmd: commandLine("\(directory)/cmdline"),
            exe: (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/exe")) ?? "",
            ns: namespaceID("\(directory)/ns/mnt"),
            startedAtNanoseconds: KernelClock.wallNanoseconds(ticksSinceBoot: fields.startTicks),
            containerID: CgroupPath.containerID(in: cgroup) ?? "", cgroup: cgroup)
    }

    /// A thread of `pid` other than its main one that has not exited.
    static func liveThread(of pid: UInt32, root: String) -> UInt32? {
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(pid)/task")) ?? []
        return threads.compactMap(UInt32.init).first { thread in
            thread != pid && read("\(root)/\(pid)/task/\(thread)/stat").flatMap(statFields).map { !$0.exited } == true
        }
    }

    /// The device of the namespace filesystem: the "{device}" part of every `ns` value.
    static let namespaceDevice: UInt64 = {
        var status = stat()
        return stat("/proc/self/ns/mnt", &status) == 0 ? UInt64(status.st_dev) : 0
    }()

    /// Every pid in /proc.
    public static func allPIDs(root: String = "/proc") -> [UInt32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap { UInt32($0) }
    }

    /// The fields of /proc/PID/stat the host uses. comm may hold spaces and parentheses, so the
    /// fields after it are found from its last ')'.
    static func statFields(_ text: String) -> (comm: String, ppid: Int, startTicks: UInt64, exited: Bool)? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        let comm = String(text[text.index(after: open)..<close])
        let rest = text[text.index(after: close)...].split(separator: " ")
        // rest[0] is the state (field 3); ppid is field 4, starttime field 22.
        guard rest.count > 19, let ppid = Int(rest[1]), let start = UInt64(rest[19]) else { return nil }
        return (comm, ppid, start, rest[0] == "Z" || rest[0] == "X")
    }

    static func commandLine(_ path: String) -> String {
        guard let data = SystemFile.read(path) else { return "" }
        return data.split(separator: 0, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
            .joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }

    /// A namespace as "{device ID}-{inode number}", the seed's form.
    static func namespaceID(_ path: String) -> String {
        var status = stat()
        guard stat(path, &status) == 0 else { return "" }
        return "\(status.st_dev)-\(status.st_ino)"
    }

    static func read(_ path: String) -> String? {
        SystemFile.text(path)
    }

    /// A relative path made absolute against the working directory of the first of `pids`
    /// that still has one (an exec'd process gone before it was read: its parent's, which
    /// started it from there); nil when none does.
    static func absolute(_ path: String, fromWorkingDirectoryOf pids: [UInt32], root: String = "/proc") -> String? {
        for pid in pids {
            guard let directory = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(root)/\(pid)/cwd"),
                  directory.hasPrefix("/") else { continue }
            return URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)).standardizedFileURL.path
        }
        return nil
    }
}
