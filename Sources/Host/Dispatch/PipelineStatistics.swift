import Synchronization

/// What the pipeline counts, stage by stage.
public struct PipelineCounters: Sendable, Equatable {
    /// Records read from the kernel.
    public var received: UInt64 = 0
    /// Records tasks emitted.
    public var emitted: UInt64 = 0
    /// Ring buffer records that did not parse.
    public var malformed: UInt64 = 0
    /// Syscall numbers missing from the table.
    public var unknownSyscalls: UInt64 = 0
    /// Events a task reported a failure for.
    public var taskFailures: UInt64 = 0
    /// Records held for a container no runtime had described, decided without it at the deadline.
    public var decidedWithoutContainer: UInt64 = 0
    /// Records dropped because too many were held for containers not yet described.
    public var droppedAwaitingContainer: UInt64 = 0
    /// Records that reached the host later than the time order's window allowed: handed on at
    /// once, out of order.
    public var lateForOrder: UInt64 = 0
    /// Records still in the ring buffer when the programs were unloaded: never read.
    public var unreadAtClose: UInt64 = 0
    /// Times the tasks moved to their second thread because the ring buffer was filling up.
    public var taskThreadEngaged: UInt64 = 0
    /// Whether they run there now.
    public var tasksOnSecondThread = false
    /// The kernel's counters (ring buffer full, capture faults, held back), since start.
    public var kernel = KernelCounters()
    /// Records the output stage could not hand to a sink or a stream reader.
    public var output = OutputCounters()
}

/// The dispatcher's counters, updated on the event path.
final class PipelineStatistics: Sendable {
    private let receivedCount = Atomic<UInt64>(0)
    private let emittedCount = Atomic<UInt64>(0)
    private let malformedCount = Atomic<UInt64>(0)
    private let unknownCount = Atomic<UInt64>(0)
    private let failureCount = Atomic<UInt64>(0)
    private let withoutContainerCount = Atomic<UInt64>(0)
    private let lateCount = Atomic<UInt64>(0)
    private let droppedAwaitingContainerCount = Atomic<UInt64>(0)
    private let unreadAtCloseCount = Atomic<UInt64>(0)
    private let engagedCount = Atomic<UInt64>(0)
    private let engagedNow = Atomic<Bool>(false)

    func taskThreadChanged(engaged: Bool) {
        if engaged { engagedCount.add(1, ordering: .relaxed) }
        engagedNow.store(engaged, ordering: .relaxed)
    }

    func decidedWithoutContainer(_ records: Int) { withoutContainerCount.add(UInt64(records), ordering: .relaxed) }
    func droppedAwaitingContainer() { droppedAwaitingContainerCount.add(1, ordering: .relaxed) }

    func leftUnread(_ records: Int) { unreadAtCloseCount.add(UInt64(records), ordering: .relaxed) }

    func received() { receivedCount.add(1, ordering: .relaxed) }
    func arrivedLate() { lateCount.add(1, ordering: .relaxed) }
    func emitted() { emittedCount.add(1, ordering: .relaxed) }
    func malformed() { malformedCount.add(1, ordering: .relaxed) }
    func unknownSyscall() { unknownCount.add(1, ordering: .relaxed) }
    /// Returns the number of failures so far.
    @discardableResult
    func taskFailed() -> UInt64 { failureCount.add(1, ordering: .relaxed).newValue }

    func snapshot() -> PipelineCounters {
        PipelineCounters(
            received: receivedCount.load(ordering: .relaxed), emitted: emittedCount.load(ordering: .relaxed), malformed: malformedCount.load(ordering: .relaxed),
            unknownSyscalls: unknownCount.load(ordering: .relaxed), taskFailures: failureCount.load(ordering: .relaxed),
            decidedWithoutContainer: withoutContainerCount.load(ordering: .relaxed),
            droppedAwaitingContainer: droppedAwaitingContainerCount.load(ordering: .relaxed),
            lateForOrder: lateCount.load(ordering: .relaxed), unreadAtClose: unreadAtCloseCount.load(ordering: .relaxed),
            taskThreadEngaged: engagedCount.load(ordering: .relaxed), tasksOnSecondThread: engagedNow.load(ordering: .relaxed))
    }
}
