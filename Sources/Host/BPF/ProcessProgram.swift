import CLibBPF
import CTawonBPF
import Foundation

/// Loader for `bpf/process.bpf.c`: fork, exec and exit, and the maps every program shares
/// (the ring buffer, the watched processes with their undecided budget, the counters). Other programs are
/// loaded after it and reuse its maps (`shareMaps(with:)`).
public final class ProcessProgram {
    /// The maps other programs take from this one, by name.
    static let sharedMapNames = [
        "watched_processes", "watched_pids", "active_directives", "exit_hooked_syscalls", "events", "counters",
        "unannounced_bytes",
    ]

    private let object: BPFObject
    private let watched: Int32
    private let watchedBits: WatchedPidBits
    private let active: Int32
    private let counterMap: Int32
    let eventsMap: Int32

    /// Loads and attaches the program. The calling process is never traced.
    public init(configuration: KernelConfiguration) throws {
        object = try BPFObject(.process)
        try object.resizeMap("events", maxEntries: configuration.ringBufferBytes)
        let pidWords = WatchedPidBits.wordCount
        try object.resizeMap("watched_pids", maxEntries: pidWords)
        try object.configure("tawon_config", to: configuration.raw)
        try object.load()
        try object.attachAll()
        watched = try object.mapDescriptor("watched_processes")
        watchedBits = try WatchedPidBits(mapDescriptor: try object.mapDescriptor("watched_pids"), wordCount: pidWords)
        active = try object.mapDescriptor("active_directives")
        counterMap = try object.mapDescriptor("counters")
        eventsMap = try object.mapDescriptor("events")
    }

    deinit { close() }

    /// Points another object's copies of the shared maps at this program's, before it loads.
    func shareMaps(with other: BPFObject) throws {
        for name in Self.sharedMapNames { try other.reuseMap(name, descriptor: try object.mapDescriptor(name)) }
    }

    /// The kernel's IDs of this program's BPF programs (fork, exec, exit).
    public func programIDs() throws -> [UInt32] { try object.programIDs() }

    /// Sets which directives watch a process (a zero mask stops watching it). The host has
    /// decided about the process: it is no longer held to the undecided budget.
    ///
    /// A decision is made from the records read so far: `readChangesUntil` is the boot time of
    /// the last exec, fork or rename record of the process the host has read, `readUntil` that
    /// of the newest record read at all. An entry the kernel set after the former (a new image
    /// whose record is still on its way) is left alone, as its own record will be decided;
    /// unless records well past it were read, so that its own was lost. The entry keeps the
    /// kernel's stamp: a decision made ahead of its record's turn (at its arrival) must not make
    /// an older record's decision, handled after it, look newer.
    public func watch(
        tgid: UInt32, directives mask: UInt64, readChangesUntil: UInt64 = .max, readUntil: UInt64 = .max
    ) throws {
        var key = tgid
        var current = tawon_watched_process()
        let exists = bpf_map_lookup_elem(watched, &key, &current) == 0
        if readChangesUntil != .max, exists,
            current.changed_ns > readChangesUntil, current.changed_ns &+ Self.recordLateness > readUntil
        {
            return
        }
        if mask == 0 {
            let result = bpf_map_delete_elem(watched, &key)
            if result < 0 && result != -ENOENT {
                try LibbpfCallError.check(result, "bpf_map_delete_elem", subject: "watched_processes")
            }
            watchedBits.unmark(tgid) { watchMask(tgid: tgid) != nil }
            return
        }
        var value = tawon_watched_process(
            directives: mask, undecided: 0, undecided_budget: 0, changed_ns: exists ? current.changed_ns : 0)
        try LibbpfCallError.check(
            bpf_map_update_elem(watched, &key, &value, UInt64(BPF_ANY)), "bpf_map_update_elem",
            subject: "watched_processes")
        watchedBits.mark(tgid)
    }

    /// Whether the programs look `tgid` up in the watch list at all: false only for a process
    /// that surely has no entry, which then costs them a bit test per call.
    public func mayBeWatched(tgid: UInt32) -> Bool { watchedBits.contains(tgid) }

    /// How much later than the records around it a record may be read (CPUs reserve their
    /// places in the ring a little out of time order): beyond this it was lost.
    static let recordLateness: UInt64 = 1_000_000_000

    /// The directive mask of a watched process, or nil.
    public func watchMask(tgid: UInt32) -> UInt64? {
        var key = tgid
        var value = tawon_watched_process()
        return bpf_map_lookup_elem(watched, &key, &value) == 0 ? value.directives : nil
    }

    /// Every watched process and its directive mask, as the kernel holds them now.
    public func watchedProcesses() -> [(tgid: UInt32, mask: UInt64)] {
        var result: [(UInt32, UInt64)] = []
        forEachWatchedProcess { tgid, entry in result.append((tgid, entry.directives)) }
        return result
    }

    /// Records a process may send before the host has decided about it (after exec, fork or
    /// rename); the kernel holds back and counts the rest until then.
    public static let undecidedBudget = Int(TAWON_UNDECIDED_BUDGET)

    /// The processes the kernel still holds to the undecided budget whose entry it set before
    /// `bootNanoseconds` (an exec, fork or rename whose record the host may never read).
    public func undecidedProcesses(changedBefore bootNanoseconds: UInt64) -> [(tgid: UInt32, changedNanoseconds: UInt64)] {
        var result: [(UInt32, UInt64)] = []
        forEachWatchedProcess { tgid, entry in
            if entry.undecided != 0 && entry.changed_ns < bootNanoseconds { result.append((tgid, entry.changed_ns)) }
        }
        return result
    }

    private func forEachWatchedProcess(_ body: (UInt32, tawon_watched_process) -> Void) {
        var key: UInt32 = 0
        var next: UInt32 = 0
        var started = false
        while (started ? bpf_map_get_next_key(watched, &key, &next) : bpf_map_get_next_key(watched, nil, &next)) == 0 {
            started = true
            key = next
            var entry = tawon_watched_process()
            if bpf_map_lookup_elem(watched, &key, &entry) == 0 { body(next, entry) }
        }
    }

    /// Sets the mask a process gets right after exec, until the host has decided about it.
    public func setActiveDirectives(_ mask: UInt64) throws {
        var key: UInt32 = 0
        var value = mask
        try LibbpfCallError.check(
            bpf_map_update_elem(active, &key, &value, UInt64(BPF_ANY)), "bpf_map_update_elem",
            subject: "active_directives")
    }

    /// Drop and fault counters of every program, summed over every CPU.
    public func counters() throws -> KernelCounters {
        let cpus = Int(libbpf_num_possible_cpus())
        var values = [tawon_counters](repeating: tawon_counters(), count: max(cpus, 1))
        var key: UInt32 = 0
        try LibbpfCallError.check(
            bpf_map_lookup_elem(counterMap, &key, &values), "bpf_map_lookup_elem", subject: "counters")
        return values.reduce(into: KernelCounters()) { sum, cpu in
            sum.ringBufferFull += cpu.ringbuf_full
            sum.captureFaults += cpu.capture_faults
            sum.heldUndecided += cpu.held_undecided
        }
    }

    /// Detaches and unloads everything.
    public func close() {
        object.close()
    }
}

/// What every program is configured with before load.
public struct KernelConfiguration: Sendable, Equatable {
    /// Bytes of a write/send buffer captured (the seed's default: 64).
    public var bufferLimit: UInt32 = 64
    /// What `bufferLimit` may be: the BPF program reads at most this much of one buffer.
    public static let bufferLimitRange: ClosedRange<Int> = 1...4095
    /// Ring buffer size in bytes (a power of two, at least a page).
    public var ringBufferBytes: UInt32 = Self.machineRingBufferBytes
    /// The default ring buffer: a 64th of the machine's memory, as a power of two from 16 MiB to
    /// 256 MiB. Enough to hold a burst of a million calls while the reader catches up, on a
    /// machine that can spare it.
    public static let machineRingBufferBytes: UInt32 = {
        let share = ProcessInfo.processInfo.physicalMemory / 64
        let power = share == 0 ? 0 : UInt64(1) << (63 - UInt64(share.leadingZeroBitCount))
        return UInt32(min(max(power, 16 << 20), 256 << 20))
    }()
    /// A CPU wakes the reader each time it has submitted this many bytes, so that all CPUs
    /// together fill at most a quarter of the ring between wake-ups. The reader also polls on a
    /// timer.
    var wakeupBytes: UInt64 {
        let cpus = UInt64(max(ProcessInfo.processInfo.activeProcessorCount, 1))
        return max(min(256 << 10, UInt64(ringBufferBytes) / (4 * cpus)), 1)
    }

    public init() {}

    var raw: tawon_config {
        tawon_config(host_tgid: UInt32(getpid()), buffer_limit: bufferLimit, wakeup_bytes: wakeupBytes)
    }
}

/// The kernel's counters, summed over CPUs.
public struct KernelCounters: Sendable, Equatable, Codable {
    /// Records lost: no room in the ring buffer.
    public var ringBufferFull: UInt64 = 0
    /// User memory that could not be read.
    public var captureFaults: UInt64 = 0
    /// Held back from processes not yet decided about, past their budget (lost only if the
    /// host then selected them).
    public var heldUndecided: UInt64 = 0

    public init() {}

    static func + (a: Self, b: Self) -> Self {
        var sum = a
        sum.ringBufferFull += b.ringBufferFull
        sum.captureFaults += b.captureFaults
        sum.heldUndecided += b.heldUndecided
        return sum
    }
}
