import Foundation

/// When the dispatcher hands events to tasks on a thread of its own (`DeliveryLane`).
public enum TaskThreading: Sendable, Equatable {
    /// While the kernel's ring buffer is at least half full, until it is down to a sixteenth.
    case whenBehind
    /// Always (how tests cover the second thread).
    case always
    /// Never: on the polling thread.
    case never

    /// Whether tasks go on the second thread, given how full the ring buffer is (0 to 1) and
    /// where they run now: engaged at half full, back once down to a sixteenth, so that a
    /// reader hovering near one mark does not switch on every poll.
    func engages(ringFill: Double, engagedNow: Bool) -> Bool {
        switch self {
        case .always: true
        case .never: false
        case .whenBehind: engagedNow ? ringFill > 1.0 / 16 : ringFill >= 0.5
        }
    }
}

/// Hands events to task instances on a thread of its own, in the order they were submitted,
/// so that reading and deciding the next records overlaps with the tasks' work on the last
/// ones. By default the dispatcher engages it only while the kernel's ring buffer fills up (see
/// `TaskThreading`): the second thread then competes with traced processes for CPU, which
/// is worth it only when records are about to be lost.
///
/// Bounded: at most `maximumBatches` batches wait; `submit` blocks the dispatcher beyond that,
/// so the records not yet read stay in the kernel's ring buffer, whose losses are counted.
final class DeliveryLane: @unchecked Sendable {
    /// One event for one instance, with the snapshot of its process as the dispatcher held it
    /// when it decided the event (the model may have moved on by the time the task runs).
    struct Delivery {
        let instance: TaskInstance
        let event: DeliverableEvent
        let process: ProcessModel.Entry?
    }

    let maximumBatches: Int
    private let condition = NSCondition()
    private var queued: [[Delivery]] = []
    private var delivering = false
    private var closing = false
    private var started = false
    private let afterBatch: @Sendable () -> Void
    private let failed: @Sendable (TaskInstance) -> Void

    /// `afterBatch` runs on the lane's thread after each batch (the output's flush); `failed`
    /// with each instance that reported a failure.
    init(
        maximumBatches: Int = 2, afterBatch: @escaping @Sendable () -> Void,
        failed: @escaping @Sendable (TaskInstance) -> Void
    ) {
        self.maximumBatches = max(maximumBatches, 1)
        self.afterBatch = afterBatch
        self.failed = failed
    }

    /// Queues a batch behind those submitted before; waits while the queue is full. The thread
    /// starts with the first batch.
    func submit(_ batch: [Delivery]) {
        guard !batch.isEmpty else { return }
        condition.lock()
        defer { condition.unlock() }
        guard !closing else { return }
        if !started {
            started = true
            let thread = Thread { [self] in run() }
            thread.name = "tawon-tasks"
            thread.start()
        }
        while queued.count >= maximumBatches && !closing { condition.wait() }
        queued.append(batch)
        condition.broadcast()
    }

    /// Returns once every batch submitted has been delivered.
    func waitUntilIdle() {
        condition.lock()
        while !queued.isEmpty || delivering { condition.wait() }
        condition.unlock()
    }

    /// Whether nothing is queued or being delivered.
    var isIdle: Bool {
        condition.lock()
        defer { condition.unlock() }
        return queued.isEmpty && !delivering
    }

    /// Delivers what is queued, then stops the thread.
    func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        while !queued.isEmpty || delivering { condition.wait() }
        condition.unlock()
    }

    private func run() {
        condition.lock()
        while true {
            while queued.isEmpty && !closing { condition.wait() }
            guard !queued.isEmpty else { break }
            let batch = queued.removeFirst()
            delivering = true
            condition.broadcast()
            condition.unlock()
            for delivery in batch where !delivery.instance.deliver(delivery.event, process: delivery.process) {
                failed(delivery.instance)
            }
            afterBatch()
            condition.lock()
            delivering = false
            condition.broadcast()
        }
        condition.unlock()
    }
}
