import Foundation
import TaskABI

/// One task instance serving one directive: create → start → events → stop → destroy.
/// Calls into the task are serialized, as the ABI promises.
public final class TaskInstance: @unchecked Sendable {
    public let task: LoadedTask
    public let directiveID: String
    private let context: Unmanaged<InstanceContext>
    private let marshaller: EventMarshaller
    private var handle: OpaquePointer?
    private var started = false
    private var destroyed = false
    private let lock = NSLock()

    /// Creates the instance from a directive's options for this task. Throws `TaskInstanceError`
    /// for an unknown option, a value of the wrong type, or a value the task refuses.
    public init(
        task: LoadedTask, directiveID: String, options: [(name: String, value: String)],
        services: TaskServices
    ) throws {
        self.task = task
        self.directiveID = directiveID
        marshaller = EventMarshaller(directiveID: directiveID)
        let values = try TaskOptionValues(task.description, options)
        context = .passRetained(
            InstanceContext(
                taskName: task.name, directiveID: directiveID,
                registeredFunctions: Dictionary(
                    task.description.functions.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first }),
                services: services))
        var created: OpaquePointer?
        let rc = values.withCValues { pointers, count in
            task.descriptor.pointee.create!(
                HostAPITable.shared, OpaquePointer(context.toOpaque()), pointers, count, &created)
        }
        handle = created
        if rc != tawon_rc(TAWON_RC_OK) {
            let reason = lastError() ?? "create failed with code \(rc)"
            destroy()
            throw TaskInstanceError("\(task.name): \(reason)")
        }
    }

    deinit {
        stop()
        destroy()
    }

    /// The functions the instance asked for, in the order it asked.
    public var hookedFunctions: [UInt64] { context.takeUnretainedValue().hookedFunctions }

    /// The functions whose calls the instance wants as a whole, with their return values.
    public var wholeCalls: [UInt64] { context.takeUnretainedValue().subscribedCalls }

    /// The process lifecycle events the instance subscribed to.
    public var processEvents: Set<ProcessEventKind> { context.takeUnretainedValue().subscribedProcessEvents }
    /// The container events the instance subscribed to.
    public var containerEvents: Set<ContainerEventKind> { context.takeUnretainedValue().subscribedContainerEvents }

    /// Starts the instance; events may be delivered afterwards. What it asked for (hooked
    /// functions, subscriptions) is fixed once `start` has returned.
    public func start() throws {
        try lock.withLock {
            guard let handle, !started else { return }
            let rc = task.descriptor.pointee.start!(handle)
            context.takeUnretainedValue().closeSubscriptions()
            guard rc == tawon_rc(TAWON_RC_OK) else {
                throw TaskInstanceError("\(task.name): start failed: \(lastError() ?? "code \(rc)")")
            }
            started = true
        }
    }

    /// Hands one event to the task. Returns false when the task reported a failure.
    @discardableResult
    public func deliver(_ event: DeliverableEvent) -> Bool {
        deliver(event, process: nil)
    }

    /// Hands one event to the task; while it runs, `process_info` and `process_field` answer
    /// for the event's pid from `process` (the snapshot the event was decided with), where given.
    func deliver(_ event: DeliverableEvent, process: ProcessModel.Entry?) -> Bool {
        lock.withLock {
            guard let handle, started else { return false }
            let context = context.takeUnretainedValue()
            guard context.attachesEvents || process != nil else {
                return marshaller.withCEvent(event) { task.descriptor.pointee.on_event!(handle, $0) == tawon_rc(TAWON_RC_OK) }
            }
            context.beginDelivery(event, process: process)
            defer { context.endDelivery() }
            return marshaller.withCEvent(event) { cEvent in
                task.descriptor.pointee.on_event!(handle, cEvent) == tawon_rc(TAWON_RC_OK)
            }
        }
    }

    /// The task's reason for its last failure, if it gave one.
    public func lastFailure() -> String? {
        lock.withLock { lastError() }
    }

    /// Stops the instance; no events are delivered afterwards. Safe to call twice.
    public func stop() {
        lock.withLock {
            guard let handle, started else { return }
            started = false
            let rc = task.descriptor.pointee.stop!(handle)
            if rc != tawon_rc(TAWON_RC_OK) {
                context.takeUnretainedValue().services.logger.warning(
                    "task stop failed: \(lastError() ?? "code \(rc)")",
                    metadata: context.takeUnretainedValue().logMetadata)
            }
        }
    }

    /// Frees the task's instance, then the host context it may call back with. Idempotent.
    private func destroy() {
        let first = lock.withLock {
            guard !destroyed else { return false }
            destroyed = true
            if let handle { task.descriptor.pointee.destroy!(handle) }
            handle = nil
            return true
        }
        if first { context.release() }
    }

    private func lastError() -> String? {
        guard let text = task.descriptor.pointee.last_error!(handle) else { return nil }
        // A task's words reach terminals and HTTP bodies: one line, bounded, control bytes escaped.
        let message = QuotedInput.quote(String(cString: text), limit: 400)
        return message.isEmpty ? nil : message
    }
}

/// A directive's options refused by the host or the task, in words.
public struct TaskInstanceError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
