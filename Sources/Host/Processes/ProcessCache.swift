import Foundation
import Synchronization

/// Processes the host has looked at, read from /proc once and kept current by the kernel's
/// exec and exit notices. Bounded: exited processes are evicted.
public final class ProcessCache: @unchecked Sendable {
    private let lock = NSLock()
    private var processes: [UInt32: ProcessSnapshot] = [:]
    /// Exited pids, oldest first: kept briefly because their last events may still be queued.
    private var exited: [UInt32] = []
    private let exitedToKeep: Int
    private let read: @Sendable (UInt32) -> ProcessSnapshot?
    private let generations = Atomic<UInt64>(0)

    public init(exitedToKeep: Int = 1024, read: @escaping @Sendable (UInt32) -> ProcessSnapshot? = { ProcFS.snapshot($0) }) {
        self.exitedToKeep = exitedToKeep
        self.read = read
    }

    /// The process, from the cache or freshly read.
    public func snapshot(_ pid: UInt32) -> ProcessSnapshot? {
        if let known = lock.withLock({ processes[pid] }) { return known }
        guard var fresh = read(pid) else { return nil }
        fresh.generation = generations.add(1, ordering: .relaxed).newValue
        lock.withLock { processes[pid] = fresh }
        return fresh
    }

    /// Forgets what was known (after exec: a new name, command line and executable).
    public func refresh(_ pid: UInt32) -> ProcessSnapshot? {
        lock.withLock { _ = processes.removeValue(forKey: pid) }
        return snapshot(pid)
    }

    /// Marks a process as gone; it is evicted once `exitedToKeep` later exits have happened.
    public func exited(_ pid: UInt32) {
        lock.withLock {
            exited.append(pid)
            if exited.count > exitedToKeep {
                let evicted = exited.removeFirst()
                if !exited.contains(evicted) { processes.removeValue(forKey: evicted) }
            }
        }
    }

    /// How many processes are held.
    public var count: Int { lock.withLock { processes.count } }
}
