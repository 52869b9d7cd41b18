import Foundation
import Synchronization

/// The process model: the one owner of what the host knows about a process (identity,
/// executable, command line, namespace, container). Read from /proc once, kept current by the
/// kernel's fork, exec and exit records. Bounded: exited processes are evicted.
public final class ProcessModel: @unchecked Sendable {
    private let lock = NSLock()
    /// Boxed: reading one field (the generation, per event) then retains one reference instead
    /// of copying a struct of strings.
    private final class Entry: Sendable {
        let snapshot: ProcessSnapshot
        init(_ snapshot: ProcessSnapshot) { self.snapshot = snapshot }
    }
    private var processes: [UInt32: Entry] = [:]
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
        if let known = lock.withLock({ processes[pid] }) { return known.snapshot }
        guard var fresh = read(pid) else { return nil }
        fresh.generation = generations.add(1, ordering: .relaxed).newValue
        lock.withLock { processes[pid] = Entry(fresh) }
        return fresh
    }

    /// The snapshot of `pid` if one is held, without reading /proc (for a process that is gone).
    public func cached(_ pid: UInt32) -> ProcessSnapshot? {
        lock.withLock { processes[pid]?.snapshot }
    }

    /// The generation of the cached snapshot of `pid`; nil when none is cached. Cheaper than
    /// `snapshot` (nothing is copied): the event path asks this first and takes the snapshot
    /// only when its decision about that generation is not known yet.
    public func cachedGeneration(_ pid: UInt32) -> UInt64? {
        lock.withLock { processes[pid]?.snapshot.generation }
    }

    /// Reads the process anew after exec or fork. The kernel's account decides the command line
    /// and executable (at exec, the arguments it was given; after fork, the parent's): an exiting
    /// process loses them from /proc before it leaves, and may be gone altogether. /proc gives the
    /// rest; a process already gone takes its parent's cgroup and container (inherited at fork).
    @discardableResult
    public func refresh(_ pid: UInt32, kernel: ProcessRecord? = nil) -> ProcessSnapshot? {
        lock.withLock { _ = processes.removeValue(forKey: pid) }
        guard let kernel else { return snapshot(pid) }
        let parent = lock.withLock { processes[kernel.ppid]?.snapshot }
        var known = read(pid) ?? ProcessSnapshot(
            pid: pid, ppid: kernel.ppid, name: kernel.comm, cmd: "", exe: "",
            ns: "\(ProcFS.namespaceDevice)-\(kernel.mountNamespace)",
            startedAtNanoseconds: KernelClock.wallNanoseconds(boot: kernel.startBoottimeNanoseconds),
            containerID: parent?.containerID ?? "", containerName: parent?.containerName ?? "",
            cgroup: parent?.cgroup ?? "")
        let execed = kernel.change == .exec
        if execed, !kernel.arguments.isEmpty { known.cmd = kernel.arguments.joined(separator: " ") }
        if !execed, let parent { known.cmd = parent.cmd }
        if known.exe.isEmpty { known.exe = execed ? kernel.exe : parent?.exe ?? "" }
        known.generation = generations.add(1, ordering: .relaxed).newValue
        lock.withLock { processes[pid] = Entry(known) }
        return known
    }

    /// Drops what is known about a process no directive watches: its exit will not be reported,
    /// so it must not stay. It is read again if a directive comes to need it.
    public func forget(_ pid: UInt32) {
        lock.withLock { _ = processes.removeValue(forKey: pid) }
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
