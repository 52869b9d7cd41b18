import Logging

/// What the host does for task instances: where their records go, where process information
/// comes from, where their log lines go.
public struct TaskServices: Sendable {
    /// Receives every record an instance emits.
    public var emit: @Sendable (EmittedRecord) -> Void
    /// Looks up a process by pid.
    public var processInfo: @Sendable (UInt32) -> ProcessSnapshot?
    public var logger: Logger
    /// Whether records carry the event they were emitted for (`EmittedRecord.event`): only
    /// where something reads it (compact output, live streams, the health check), for it costs
    /// a copy of the event per record.
    public var attachesEvents: Bool
    /// Takes a record's JSON as the task lent it (task name, directive id, JSON, timestamp)
    /// where no record needs to be made of it; false where one does (then `emit` is used).
    var emitJSON: (@Sendable (String, String, UnsafeRawBufferPointer, UInt64) -> Bool)?

    public init(
        emit: @escaping @Sendable (EmittedRecord) -> Void,
        processInfo: @escaping @Sendable (UInt32) -> ProcessSnapshot?,
        logger: Logger, attachesEvents: Bool = true
    ) {
        self.emit = emit
        self.attachesEvents = attachesEvents
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
    public var event: DeliverableEvent? {
        get { eventBox?.event }
        set { eventBox = newValue.map(EventBox.init) }
    }
    /// Boxed: records are passed along by value at every stage, and an event is large.
    private var eventBox: EventBox?

    public init(
        taskName: String, directiveID: String, json: String, timestampNanoseconds: UInt64,
        event: DeliverableEvent? = nil
    ) {
        eventBox = event.map(EventBox.init)
        self.taskName = taskName
        self.directiveID = directiveID
        self.json = json
        self.timestampNanoseconds = timestampNanoseconds
    }
}

/// A `DeliverableEvent` held by reference.
private final class EventBox: Sendable, Equatable {
    let event: DeliverableEvent
    init(_ event: DeliverableEvent) { self.event = event }
    static func == (a: EventBox, b: EventBox) -> Bool { a.event == b.event }
}
