import Logging

/// What the host does for task instances: where their records go, where process information
/// comes from, where their log lines go.
public struct TaskServices: Sendable {
    /// Receives every record an instance emits.
    public var emit: @Sendable (EmittedRecord) -> Void
    /// Looks up a process by pid.
    public var processInfo: @Sendable (UInt32) -> ProcessSnapshot?
    public var logger: Logger

    public init(
        emit: @escaping @Sendable (EmittedRecord) -> Void,
        processInfo: @escaping @Sendable (UInt32) -> ProcessSnapshot?,
        logger: Logger
    ) {
        self.emit = emit
        self.processInfo = processInfo
        self.logger = logger
    }
}

/// One record a task emitted, before the host wraps it in its envelope.
public struct EmittedRecord: Sendable, Equatable {
    public var taskName: String
    public var directiveID: String
    /// One JSON object, shaped by the task's output schema.
    public var json: String
    /// Nanoseconds since the epoch.
    public var timestampNanoseconds: UInt64
    /// The event the task was handling when it emitted the record (nil for a record from a
    /// thread of its own): what compact output and the health check read, instead of parsing
    /// the task's JSON.
    public var event: DeliverableEvent?

    public init(
        taskName: String, directiveID: String, json: String, timestampNanoseconds: UInt64,
        event: DeliverableEvent? = nil
    ) {
        self.event = event
        self.taskName = taskName
        self.directiveID = directiveID
        self.json = json
        self.timestampNanoseconds = timestampNanoseconds
    }
}
