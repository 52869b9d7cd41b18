import TaskABI

/// A plugin that passed every check: its file, its descriptor and what it registered.
public final class LoadedTask: @unchecked Sendable {
    /// The plugin file as found on the search path.
    public let path: String
    /// What the task registered.
    public let description: TaskDescription
    /// The ABI version the plugin was built for.
    public let abiVersion: TaskABIVersion
    let descriptor: UnsafePointer<tawon_task_descriptor>
    // The library stays loaded for the life of the process: a task's code may be running on
    // threads the host does not see, and Swift runtimes do not support unloading.
    let library: UnsafeMutableRawPointer

    init(
        path: String, description: TaskDescription, abiVersion: TaskABIVersion,
        descriptor: UnsafePointer<tawon_task_descriptor>, library: UnsafeMutableRawPointer
    ) {
        self.path = path
        self.description = description
        self.abiVersion = abiVersion
        self.descriptor = descriptor
        self.library = library
    }

    public var name: String { description.name }
}

/// A version of the task ABI.
public struct TaskABIVersion: Sendable, Equatable, Codable, CustomStringConvertible {
    public var major: UInt32
    public var minor: UInt32
    public var patch: UInt32

    /// The version this host implements.
    public static let host = TaskABIVersion(
        major: UInt32(TAWON_TASK_ABI_MAJOR), minor: UInt32(TAWON_TASK_ABI_MINOR),
        patch: UInt32(TAWON_TASK_ABI_PATCH))

    public var description: String { "\(major).\(minor).\(patch)" }
}
