import Foundation
import Synchronization

/// The process model: the one owner of what the host knows about a process (identity,
/// executable, command line, namespace, container). Read from /proc once, kept current by the
/// kernel's fork, exec and exit records. Bounded: exited processes are evicted.
public final class ProcessModel: @unchecked Sendable {
    private let lock = NSLock()
    /// Boxed: reading one field (the generation, per event) then retains one reference instead
    /// of copying a struct of strings; and an event handed to a task on another thread holds
    /// the snapshot as it was when the event was decided (see `DeliveryLane`).
    final class Entry: Sendable {
        let snapshot: ProcessSnapshot
        init(_ snapshot: ProcessSnapshot) { self.snapshot = snapshot }
    }
    private var processes: [UInt32: Entry] = [:] {
        didSet { changes.add(1, ordering: .releasing) }
    }
    /// Counts every change to `processes`: a reader that saw the same count saw the same
    /// entries (see `latestEntry`).
    private let changes = Atomic<UInt64>(0)
    /// Exited pids, oldest first: kept briefly because their last events may still be queued.
    private var exited: [UInt32] = []
    private let exitedToKeep: Int
    private let read: @Sendable (UInt32) -> ProcessSnapshot?
    private let generations = Atomic<UInt64>(0)
    /// Where a container's name, labels and pod come from; nil: only its id is known.
    private let containers: ContainerDirectory?

    public init(
        exitedToKeep: Int = 1024, containers: ContainerDirectory? = nil,
        read: @escaping @Sendable (UInt32) -> ProcessSnapshot? = { ProcFS.snapshot($0) }
    ) {
        self.exitedToKeep = exitedToKeep
        self.containers = containers
        self.read = read
    }

    /// The snapshot with what the container directory says of its container, now.
    private func withContainer(_ snapshot: ProcessSnapshot) -> ProcessSnapshot {
        guard let containers, !snapshot.containerID.isEmpty else { return snapshot }
        var snapshot = snapshot
        let lookup = containers.lookup(snapshot.containerID)
        snapshot.containerPending = lookup == .pending
        let metadata: ContainerMetadata? = if case .known(let metadata) = lookup { metadata } else { nil }
        snapshot.containerName = metadata?.name ?? ""
        snapshot.containerLabels = metadata?.labels ?? [:]
        snapshot.pod = metadata?.pod ?? PodIdentity()
        return snapshot
    }

    /// The container directory's view of container `id` changed: every held process in it gets
    /// the new view and a new generation. Returns their pids, to be decided again.
    public func containerChanged(_ id: String) -> [UInt32] {
        lock.withLock {
            var changed: [UInt32] = []
            for (pid, entry) in processes where entry.snapshot.containerID == id {
                var updated = withContainer(entry.snapshot)
                guard updated != entry.snapshot else { continue }
                updated.generation = generations.add(1, ordering: .relaxed).newValue
                processes[pid] = Entry(updated)
                changed.append(pid)
            }
            return changed
        }
    }

    /// The process, from the cache or freshly read.
    public func snapshot(_ pid: UInt32) -> ProcessSnapshot? {
        if let known = lock.withLock({ processes[pid] }) { return known.snapshot }
        guard var fresh = read(pid).map(withContainer) else { return nil }
        fresh.generation = generations.add(1, ordering: .relaxed).newValue
        return store(fresh)
    }

    /// Holds a new snapshot. Its container may have been described between the lookup and
    /// now (a bundle answers within microseconds), when `containerChanged` had nothing to
    /// update: a pending lookup is made again once the snapshot is where `containerChanged`
    /// finds it, so one of the two sees the answer.
    private func store(_ snapshot: ProcessSnapshot) -> ProcessSnapshot {
        lock.withLock { processes[snapshot.pid] = Entry(snapshot) }
        guard snapshot.containerPending else { return snapshot }
        var described = withContainer(snapshot)
        guard described != snapshot else { return snapshot }
        return lock.withLock {
            // containerChanged updated it meanwhile, or it was replaced: that one stands.
            guard let current = processes[snapshot.pid]?.snapshot, current.generation == snapshot.generation else {
                return processes[snapshot.pid]?.snapshot ?? snapshot
            }
            described.generation = generations.add(1, ordering: .relaxed).newValue
            processes[snapshot.pid] = Entry(described)
            return described
        }
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

    /// The cached snapshot of `pid`, boxed, without copying it; nil when none is cached.
    func cachedEntry(_ pid: UInt32) -> Entry? {
        lock.withLock { processes[pid] }
    }

    /// What `cachedEntry` answered last, and the count of changes it was answered at.
    struct EntryLookup {
        fileprivate var pid: UInt32 = 0
        fileprivate var changes: UInt64 = .max
        fileprivate var entry: Entry?
    }

    /// `cachedEntry(pid)`, answered from `last` while nothing changed since it was looked up: a
    /// traced process's records come in runs, which then pay no lock and no hash each.
    func latestEntry(_ pid: UInt32, last: inout EntryLookup) -> Entry? {
        let now = changes.load(ordering: .acquiring)
        if last.pid == pid, last.changes == now { return last.entry }
        // Counted before the look-up: a change racing it makes the next call look again.
        last = EntryLookup(pid: pid, changes: now, entry: cachedEntry(pid))
        return last.entry
    }

    /// Whether the snapshot of `pid` (read if none is held) waits for its container's runtime
    /// to describe it.
    public func awaitsContainer(_ pid: UInt32) -> Bool {
        if let known = lock.withLock({ processes[pid] }) { return known.snapshot.containerPending }
        return snapshot(pid)?.containerPending ?? false
    }

    /// Applies a fork or exec record (or the rename of a process not held, `rename` being for
    /// one that is). Records are handled in the order the kernel wrote them,
    /// and /proc already shows what came later (a child that has exec'd since its fork, a
    /// process that is gone), so the kernel's account decides: at fork the child is its
    /// parent's copy (its name, executable, command line and container) with its own pid; at
    /// exec, the name, file and arguments the kernel recorded. /proc gives only what neither
    /// says (the cgroup of a process never seen before, an absolute executable path).
    @discardableResult
    public func refresh(_ pid: UInt32, kernel: ProcessRecord? = nil) -> ProcessSnapshot? {
        lock.withLock { if processes[pid] != nil { processes.removeValue(forKey: pid) } }
        guard let kernel else { return snapshot(pid) }
        guard var known = described(pid, by: kernel) else { return nil }
        known.generation = generations.add(1, ordering: .relaxed).newValue
        return store(known)
    }

    /// The process as a fork, exec or rename record makes it, before the record's turn comes:
    /// what `refresh` (or `rename`) will hold, to decide about it at once. Nothing is stored.
    public func preview(_ pid: UInt32, kernel: ProcessRecord) -> ProcessSnapshot? {
        if kernel.change == .rename, var known = cached(pid) {
            known.name = kernel.comm
            return known
        }
        return described(pid, by: kernel)
    }

    /// What a fork, exec or rename record says of the process (see `refresh`), with what /proc
    /// adds while the process is there; nil for an exit record.
    private func described(_ pid: UInt32, by kernel: ProcessRecord) -> ProcessSnapshot? {
        // All a process gone from /proc leaves: what its record says.
        let recorded = ProcessSnapshot(
            pid: pid, ppid: kernel.ppid, name: kernel.comm, cmd: "", exe: "", ns: "", startedAtNanoseconds: 0)
        var known: ProcessSnapshot
        switch kernel.change {
        case .fork:
            if let parent = lock.withLock({ processes[kernel.ppid]?.snapshot }) ?? read(kernel.ppid) {
                known = parent
                known.pid = pid
            } else {
                known = read(pid) ?? recorded
            }
        case .rename:
            known = read(pid) ?? recorded
        case .exec:
            known = read(pid) ?? recorded
            known.cmd = kernel.arguments.joined(separator: " ")
            // The kernel has the path as execve was given it; /proc resolves a relative one, or,
            // for a process already gone, the working directory it was started from.
            if kernel.exe.hasPrefix("/") || known.exe.isEmpty {
                known.exe = kernel.exe.hasPrefix("/") || kernel.exe.isEmpty ? kernel.exe
                    : ProcFS.absolute(kernel.exe, fromWorkingDirectoryOf: [pid, kernel.ppid]) ?? kernel.exe
            }
        case .exit:
            return nil
        }
        known.name = kernel.comm
        known.ppid = kernel.ppid
        known.ns = "\(ProcFS.namespaceDevice)-\(kernel.mountNamespace)"
        // The kernel's cgroup at that moment: a container's first process may be gone (and its
        // /proc with it) before it is read, and a child forked into a container is not yet in it.
        if let containerID = CgroupPath.containerID(in: kernel.cgroupName) { known.containerID = containerID }
        known.startedAtNanoseconds = KernelClock.wallNanoseconds(boot: kernel.startBoottimeNanoseconds)
        return withContainer(known)
    }

    /// A process renamed itself (prctl(PR_SET_NAME) on its main thread): its snapshot gets the
    /// new name and a new generation. Returns the new snapshot, nil when none is cached.
    public func rename(_ pid: UInt32, to name: String) -> ProcessSnapshot? {
        lock.withLock {
            guard var known = processes[pid]?.snapshot else { return nil }
            known.name = name
            known.generation = generations.add(1, ordering: .relaxed).newValue
            processes[pid] = Entry(known)
            return known
        }
    }

    /// Drops what is known about a process no directive watches: its exit will not be reported,
    /// so it must not stay. It is read again if a directive comes to need it.
    public func forget(_ pid: UInt32) {
        lock.withLock { if processes[pid] != nil { processes.removeValue(forKey: pid) } }
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
