import Foundation

/// Whether a plugin file may be loaded into this process, judged by who could have written it.
///
/// Running as root, loading a file that someone else can write would run their code as root:
/// the file and the directory holding it must be owned by root and writable by nobody else.
public enum PluginFileTrust: Sendable {
    /// Require root ownership and no group/other write permission (the default for root).
    case requireRootOwned
    /// Accept any file (the default for an unprivileged host, which gains nothing by loading).
    case any

    /// The policy for this process: strict when running as root.
    public static var forCurrentUser: PluginFileTrust {
        geteuid() == 0 ? .requireRootOwned : .any
    }

    /// Returns why `path` must not be loaded, or nil when it may: the file, and every directory
    /// from the one holding it up to `/`, since whoever can write any of them can swap the file.
    func problem(with path: String) -> String? {
        guard case .requireRootOwned = self else { return nil }
        if let problem = Self.problem(with: path, kind: "file") { return problem }
        var directory = ((path as NSString).resolvingSymlinksInPath as NSString).deletingLastPathComponent
        while true {
            if let problem = Self.problem(with: directory, kind: "directory") { return problem }
            guard directory != "/", !directory.isEmpty else { return nil }
            directory = (directory as NSString).deletingLastPathComponent
        }
    }

    private static func problem(with path: String, kind: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else {
            return "cannot stat \(kind) \(path): \(String(cString: strerror(errno)))"
        }
        let mode = String(status.st_mode & 0o7777, radix: 8)
        // A sticky directory owned by root (/tmp) lets nobody rename or remove what others own.
        let stickyRootDirectory = kind == "directory" && status.st_mode & S_ISVTX != 0 && status.st_uid == 0
        if status.st_mode & (S_IWGRP | S_IWOTH) != 0 && !stickyRootDirectory {
            let who = status.st_mode & S_IWOTH != 0 ? "others" : "group"
            return "\(kind) \(path) is writable by \(who) (mode 0\(mode));"
                + " refusing to run its code as root"
        }
        if status.st_uid != 0 {
            return "\(kind) \(path) is owned by uid \(status.st_uid), not root;"
                + " refusing to run its code as root"
        }
        return nil
    }
}
