/// A task written in Swift. Conform a final class, then export it from the plugin with
///
/// ```swift
/// @_cdecl("tawon_task_entry")
/// public func tawonTaskEntry() -> UnsafePointer<tawon_task_descriptor> {
///     TaskExport.descriptor(for: MyTask.self)
/// }
/// ```
///
/// The entry point must be `public`: an internal `@_cdecl` function is not exported from an
/// optimized build. Only C types cross into the host; this kit does the crossing.
public protocol TawonTask: AnyObject {
    /// What the task registers with the host: read once, when the plugin is loaded.
    static var registration: TaskRegistrationInfo { get }

    /// Makes an instance for one directive. Throw `TaskError` with a message the user will see
    /// for an option value the task cannot use; hook functions here with `host.hook(_:)`.
    init(host: TaskHost, options: TaskOptions) throws

    /// Begins work. Events may arrive once it returns.
    func start() throws

    /// Handles one event. The event is valid only during the call; keep copies, not the event.
    func handle(_ event: TaskEvent) throws

    /// Stops work; no events arrive after it is called.
    func stop() throws
}

/// A failure with a message for the user.
public struct TaskError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
