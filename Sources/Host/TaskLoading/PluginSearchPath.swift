import Foundation

/// Where the host looks for task plugins, in priority order: the directory of the running
/// executable (so `swift build` output works in place), configured directories, then the
/// colon-separated entries of `TAWON_TASK_PATH` (a directory, or one plugin file).
public struct PluginSearchPath: Sendable, Equatable {
    /// File names the host treats as task plugins inside a directory.
    public static let filePrefix = "libtawon-task-"
    public static let fileSuffix = ".so"

    /// Directories or files, highest priority first.
    public var entries: [String]

    public init(entries: [String]) {
        self.entries = entries
    }

    /// The standard search path for this process.
    public static func standard(
        configuredDirectories: [String] = [],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> PluginSearchPath {
        let executableDirectory = URL(fileURLWithPath: executablePath())
            .deletingLastPathComponent().path
        let fromEnvironment = (environment["TAWON_TASK_PATH"] ?? "")
            .split(separator: ":").map(String.init)
        return PluginSearchPath(entries: [executableDirectory] + configuredDirectories + fromEnvironment)
    }

    /// Every candidate plugin file, in priority order, each real path once.
    public func candidateFiles() -> [String] {
        var seen = Set<String>()
        var files: [String] = []
        for entry in entries {
            for file in Self.files(in: entry) {
                let real = (file as NSString).resolvingSymlinksInPath
                if seen.insert(real).inserted { files.append(file) }
            }
        }
        return files
    }

    static func isPluginFileName(_ name: String) -> Bool {
        name.hasPrefix(filePrefix) && name.hasSuffix(fileSuffix)
    }

    private static func files(in entry: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: entry, isDirectory: &isDirectory) else {
            return []
        }
        guard isDirectory.boolValue else { return [entry] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: entry)) ?? []
        return names.filter(isPluginFileName).sorted().map { "\(entry)/\($0)" }
    }

    private static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
    }
}
