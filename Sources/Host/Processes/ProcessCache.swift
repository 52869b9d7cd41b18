import Foundation
import Synchronization

/// Processes the host has looked at, read from /proc once and kept current by the kernel's
/// exec and exit notices. Bounded: exited processes are evicted.
public final class ProcessCache: @unchecked Sendable {
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
    public func refresh(_ pid: UInt32, kernel: KernelProcessInfo? = nil) -> ProcessSnapshot? {
        lock.withLock { _ = processes.removeValue(forKey: pid) }
        guard let kernel else { return snapshot(pid) }
        let parent = lock.withLock { processes[kernel.ppid]?.snapshot }
        var known = read(pid) ?? ProcessSnapshot(
            pid: pid, ppid: kernel.ppid, name: kernel.comm, cmd: "", exe: "",
            ns: "\(ProcFS.namespaceDevice)-\(kernel.mountNamespace)",
            startedAtNanoseconds: BootClock.bootWallClockNanoseconds + Int64(kernel.startBoottimeNanoseconds),
            containerID: parent?.containerID ?? "", containerName: parent?.containerName ?? "",
            cgroup: parent?.cgroup ?? "")
        let execed = !kernel.exe.isEmpty
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
