import Foundation
import Logging
import SyscallTable
import TaskABI

/// The host's side of one instance: what `tawon_host_context *` points to.
final class InstanceContext: @unchecked Sendable {
    let taskName: String
    let directiveID: String
    /// Registered function ids and their names.
    let registeredFunctions: [UInt64: String]
    let services: TaskServices
    /// `services.attachesEvents` and `services.emit`, read on the event path without copying
    /// the services (closures and a logger, retained on every copy).
    let attachesEvents: Bool
    let emit: @Sendable (EmittedRecord) -> Void
    let emitJSON: (@Sendable (String, String, UnsafeRawBufferPointer, UInt64) -> Bool)?
    private let lock = NSLock()
    private var hooked: [UInt64] = []
    private var calls: [UInt64] = []
    private var processEvents: Set<ProcessEventKind> = []
    private var containerEvents: Set<ContainerEventKind> = []
    private var acceptingSubscriptions = true
    /// Strings lent to the task (process_info, process_field, last_error), per calling thread,
    /// freed at that thread's next call that lends one of the same purpose.
    private var lent: [LentKey: [UnsafeMutablePointer<CChar>]] = [:]
    /// The event being delivered, read by `emit` only on the delivering thread (see `deliveryKey`).
    private(set) var deliveringEvent: DeliverableEvent?

    private struct LentKey: Hashable {
        let thread: pthread_t
        let purpose: Int  // 0: process facts, 1: last error
        func hash(into hasher: inout Hasher) {
            hasher.combine(thread)
            hasher.combine(purpose)
        }
        static func == (a: Self, b: Self) -> Bool { pthread_equal(a.thread, b.thread) != 0 && a.purpose == b.purpose }
    }

    init(taskName: String, directiveID: String, registeredFunctions: [UInt64: String], services: TaskServices) {
        self.taskName = taskName
        self.directiveID = directiveID
        self.registeredFunctions = registeredFunctions
        self.services = services
        attachesEvents = services.attachesEvents
        emit = services.emit
        emitJSON = services.emitJSON
    }

    deinit {
        for strings in lent.values { strings.forEach { free($0) } }
    }

    var hookedFunctions: [UInt64] { lock.withLock { hooked } }
    var subscribedCalls: [UInt64] { lock.withLock { calls } }
    var subscribedProcessEvents: Set<ProcessEventKind> { lock.withLock { processEvents } }
    var subscribedContainerEvents: Set<ContainerEventKind> { lock.withLock { containerEvents } }

    /// After `start` has returned, what the instance asked for is fixed.
    func closeSubscriptions() { lock.withLock { acceptingSubscriptions = false } }

    /// A syscall function's entries (`hook_function`), or its calls as a whole (`subscribe`).
    func hook(_ id: UInt64, wholeCalls: Bool = false) -> tawon_rc {
        guard let name = registeredFunctions[id] else {
            return refuse(TAWON_RC_NOT_FOUND, "function id \(id) is not registered by task \(taskName)")
        }
        guard SyscallTable.function(id: id) != nil else {
            let lastI386Only = SyscallTable.i386OnlyBase + UInt64(SyscallTable.functions.count - SyscallTable.all(.x86_64).count) - 1
            return refuse(
                TAWON_RC_UNSUPPORTED,
                "function '\(name)' (id \(id)) is not a syscall this host can hook"
                    + " (x86_64 syscalls 0-\(SyscallTable.highestNumber), 32-bit-only calls"
                    + " \(SyscallTable.i386OnlyBase)-\(lastI386Only))")
        }
        return lock.withLock {
            guard acceptingSubscriptions else { return refuseLocked(TAWON_RC_WRONG_TIME, "hook_function after start returned") }
            if wholeCalls {
                if !calls.contains(id) { calls.append(id) }
            } else if !hooked.contains(id) {
                hooked.append(id)
            }
            return succeedLocked()
        }
    }

    /// An event kind and id (`subscribe`).
    func subscribe(kind: tawon_event_kind, id: UInt64) -> tawon_rc {
        switch kind {
        case tawon_event_kind(TAWON_EVENT_SYSCALL): return hook(id, wholeCalls: true)
        case tawon_event_kind(TAWON_EVENT_PROCESS):
            guard let event = ProcessEventKind(rawValue: id) else {
                return refuse(
                    TAWON_RC_UNSUPPORTED,
                    "no process event with id \(id) (TAWON_PROCESS_EXEC = 1, TAWON_PROCESS_EXIT = 2)")
            }
            return whileAcceptingSubscriptions { processEvents.insert(event) }
        case tawon_event_kind(TAWON_EVENT_CONTAINER):
            guard let event = ContainerEventKind(rawValue: id) else {
                return refuse(
                    TAWON_RC_UNSUPPORTED,
                    "no container event with id \(id) (TAWON_CONTAINER_INIT_NAMESPACES = 1 to TAWON_CONTAINER_REMOVE = 4)")
            }
            return whileAcceptingSubscriptions { containerEvents.insert(event) }
        default:
            return refuse(
                TAWON_RC_UNSUPPORTED,
                "no event kind \(kind) (TAWON_EVENT_SYSCALL = 1, TAWON_EVENT_PROCESS = 2, TAWON_EVENT_CONTAINER = 3)")
        }
    }

    /// Records a subscription, unless `start` has returned.
    private func whileAcceptingSubscriptions(_ subscribe: () -> Void) -> tawon_rc {
        lock.withLock {
            guard acceptingSubscriptions else { return refuseLocked(TAWON_RC_WRONG_TIME, "subscribe after start returned") }
            subscribe()
            return succeedLocked()
        }
    }

    /// Copies strings for a process_info or process_field answer; they live until this
    /// thread asks again.
    func lend(_ strings: [String]) -> [UnsafeMutablePointer<CChar>] {
        let copies = strings.map { strdup($0)! }
        let previous = lock.withLock { lent.updateValue(copies, forKey: LentKey(thread: pthread_self(), purpose: 0)) }
        previous?.forEach { free($0) }
        return copies
    }

    /// The reason of this thread's last failed call, "" after a success.
    func lastError() -> UnsafePointer<CChar>? {
        lock.withLock { lent[LentKey(thread: pthread_self(), purpose: 1)]?.first.map { UnsafePointer($0) } }
    }

    /// Records why a call failed, for `last_error`, and returns its code.
    func refuse(_ code: Int, _ reason: String) -> tawon_rc {
        lock.withLock { refuseLocked(code, reason) }
    }

    func succeed() -> tawon_rc { lock.withLock { succeedLocked() } }

    private func refuseLocked(_ code: Int, _ reason: String) -> tawon_rc {
        setLastErrorLocked(reason)
        return tawon_rc(code)
    }

    private func succeedLocked() -> tawon_rc {
        setLastErrorLocked("")
        return tawon_rc(TAWON_RC_OK)
    }

    private func setLastErrorLocked(_ reason: String) {
        let key = LentKey(thread: pthread_self(), purpose: 1)
        if reason.isEmpty, lent[key] == nil { return }  // the common case: nothing to free or keep
        lent.updateValue([strdup(reason)!], forKey: key)?.forEach { free($0) }
    }

    var logMetadata: Logger.Metadata {
        ["task.name": "\(taskName)", "directive.id": "\(directiveID)"]
    }

    // MARK: - The event being delivered

    /// The snapshot of the delivered event's process, as the event was decided with it; read
    /// only on the delivering thread.
    private var deliveringProcess: ProcessModel.Entry?

    /// Marks `event` as the one this thread is delivering, for records emitted during it, with
    /// the snapshot of its process where the model may have moved on since it was decided.
    func beginDelivery(_ event: DeliverableEvent, process: ProcessModel.Entry? = nil) {
        if attachesEvents { deliveringEvent = event }
        deliveringProcess = process
        pthread_setspecific(Self.deliveryKey, Unmanaged.passUnretained(self).toOpaque())
    }

    func endDelivery() {
        pthread_setspecific(Self.deliveryKey, nil)
        deliveringEvent = nil
        deliveringProcess = nil
    }

    /// What the host knows of `pid`: for the process of the event being delivered on this
    /// thread, the snapshot it was decided with; else the model's, now.
    func processInfo(_ pid: UInt32) -> ProcessSnapshot? {
        if pthread_getspecific(Self.deliveryKey) == Unmanaged.passUnretained(self).toOpaque(),
           let process = deliveringProcess?.snapshot, process.pid == pid {
            return process
        }
        return services.processInfo(pid)
    }

    /// The event this thread is delivering to this instance, if any: a record emitted from
    /// another thread (one the task started) belongs to no event.
    var eventOfCallingThread: DeliverableEvent? {
        pthread_getspecific(Self.deliveryKey) == Unmanaged.passUnretained(self).toOpaque() ? deliveringEvent : nil
    }

    private static let deliveryKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    static func from(_ pointer: OpaquePointer?) -> InstanceContext? {
        pointer.map { Unmanaged<InstanceContext>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }
}

/// The process lifecycle events a task can subscribe to (`TAWON_PROCESS_*`).
public enum ProcessEventKind: UInt64, Sendable, Hashable {
    case exec = 1
    case exit = 2

    /// The name tasks see as the event's function name.
    public var name: String {
        switch self {
        case .exec: return "exec"
        case .exit: return "exit"
        }
    }
}
