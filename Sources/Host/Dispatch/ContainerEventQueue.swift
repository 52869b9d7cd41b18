import Foundation

/// Container lifecycle events waiting for their container's name, image and pod, in the order
/// they came. A container's cgroup is made before its runtime can describe it; its events wait
/// here until the runtime answers or the deadline passes. `add` may be called from any thread
/// (the events at a directive's start); the polling thread takes what is ready.
final class ContainerEventQueue: @unchecked Sendable {
    static let capacity = 65_536

    private let lock = NSLock()
    private var waiting: [(event: ContainerLifecycleEvent, since: ContinuousClock.Instant)] = []

    var isEmpty: Bool { lock.withLock { waiting.isEmpty } }

    /// Queues `events`; returns how many found no room.
    func add(_ events: [ContainerLifecycleEvent], at now: ContinuousClock.Instant = .now) -> Int {
        lock.withLock {
            let room = max(Self.capacity - waiting.count, 0)
            waiting += events.prefix(room).map { ($0, now) }
            return max(events.count - room, 0)
        }
    }

    /// The events whose container is described (`ready`), or that waited past `deadline`, in
    /// order; `overdue` says which of them are let go undescribed.
    func take(
        ready: (ContainerLifecycleEvent) -> Bool, deadline: Duration, at now: ContinuousClock.Instant = .now
    ) -> [(event: ContainerLifecycleEvent, overdue: Bool)] {
        lock.withLock {
            var taken: [(ContainerLifecycleEvent, Bool)] = []
            waiting.removeAll { item in
                if ready(item.event) {
                    taken.append((item.event, false))
                    return true
                }
                guard now - item.since > deadline else { return false }
                taken.append((item.event, true))
                return true
            }
            return taken
        }
    }
}
