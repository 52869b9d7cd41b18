/// The tasks this host loaded, and the plugin files it refused.
public struct TaskCatalog: Sendable {
    public let tasks: [LoadedTask]
    public let refusals: [PluginRefusal]

    public init(tasks: [LoadedTask], refusals: [PluginRefusal]) {
        self.tasks = tasks
        self.refusals = refusals
    }

    /// The loaded task with this name.
    public func task(named name: String) -> LoadedTask? {
        tasks.first { $0.name == name }
    }
}
