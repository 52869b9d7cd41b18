import CLibBPF
import CTawonBPF
import Foundation

/// Loader for `bpf/syscalls.bpf.c`: the sys_enter prefilter and its maps.
///
/// The host programs two masks: which directives watch a process (by tgid) and which hook a
/// syscall (by number, i386 numbers offset by 512). A call leaves the kernel only when both
/// masks share a directive.
public final class SyscallsProgram {
    public struct Configuration: Sendable {
        /// Bytes of a write/send buffer captured (the seed's default: 64).
        public var bufferLimit: UInt32 = 64
        /// Ring buffer size in bytes (a power of two, at least a page).
        public var ringBufferBytes: UInt32 = 16 << 20
        /// Wake the reader once this many bytes wait; it also polls on a timer.
        public var wakeupBytes: UInt64 = 256 << 10

        public init() {}
    }

    /// Counters summed over CPUs.
    public struct Counters: Sendable, Equatable {
        public var ringBufferFull: UInt64 = 0
        public var captureFaults: UInt64 = 0
        /// Held back from processes not yet decided about, past their budget (lost only if the
        /// host then selected them).
        public var heldUndecided: UInt64 = 0

        public init() {}
    }

    private let object: BPFObject
    private let watched: Int32
    private let hooked: Int32
    private let plans: Int32
    private let active: Int32
    private let undecided: Int32
    private let counterMap: Int32
    let eventsMap: Int32

    /// Loads and attaches the program. The calling process is never traced.
    public init(configuration: Configuration = Configuration()) throws {
        object = try BPFObject(.syscalls)
        try object.resizeMap("events", maxEntries: configuration.ringBufferBytes)
        try object.configure(
            "syscalls_config",
            to: syscalls_config(
                host_tgid: UInt32(getpid()), buffer_limit: configuration.bufferLimit,
                wakeup_bytes: configuration.wakeupBytes))
        try object.load()
        try object.attachAll()
        watched = try object.mapDescriptor("watched_processes")
        hooked = try object.mapDescriptor("hooked_syscalls")
        plans = try object.mapDescriptor("capture_plans")
        active = try object.mapDescriptor("active_directives")
        undecided = try object.mapDescriptor("undecided_processes")
        counterMap = try object.mapDescriptor("counters")
        eventsMap = try object.mapDescriptor("events")
    }

    deinit { close() }

    /// The kernel's IDs of this program's BPF programs (sys_enter, fork, exec, exit).
    public func programIDs() throws -> [UInt32] { try object.programIDs() }

    /// Sets which directives watch a process (a zero mask stops watching it). The host has
    /// decided about the process: it is no longer held to the undecided budget.
    public func watch(tgid: UInt32, directives mask: UInt64) throws {
        var key = tgid
        _ = bpf_map_delete_elem(undecided, &key)
        if mask == 0 {
            let result = bpf_map_delete_elem(watched, &key)
            if result < 0 && result != -ENOENT {
                try LibbpfCallError.check(result, "bpf_map_delete_elem", subject: "watched_processes")
            }
            return
        }
        var value = mask
        try LibbpfCallError.check(
            bpf_map_update_elem(watched, &key, &value, UInt64(BPF_ANY)), "bpf_map_update_elem",
            subject: "watched_processes")
    }

    /// The directive mask of a watched process, or nil.
    public func watchMask(tgid: UInt32) -> UInt64? {
        var key = tgid
        var value: UInt64 = 0
        return bpf_map_lookup_elem(watched, &key, &value) == 0 ? value : nil
    }

    /// Every watched process and its directive mask, as the kernel holds them now.
    public func watchedProcesses() -> [(tgid: UInt32, mask: UInt64)] {
        var result: [(UInt32, UInt64)] = []
        var key: UInt32 = 0
        var next: UInt32 = 0
        var previous: UnsafeMutablePointer<UInt32>? = nil
        while bpf_map_get_next_key(watched, previous, &next) == 0 {
            if let mask = watchMask(tgid: next) { result.append((next, mask)) }
            key = next
            previous = withUnsafeMutablePointer(to: &key) { $0 }
        }
        return result
    }

    /// Sets which directives hook a syscall.
    public func hook(syscall number: Int, compat: Bool, directives mask: UInt64) throws {
        var key = try Self.tableKey(number, compat: compat)
        var value = mask
        try LibbpfCallError.check(
            bpf_map_update_elem(hooked, &key, &value, UInt64(BPF_ANY)), "bpf_map_update_elem",
            subject: "hooked_syscalls")
    }

    /// Sets which arguments of a syscall carry user memory to capture.
    public func setCapturePlan(syscall number: Int, compat: Bool, plan: CapturePlan) throws {
        var key = try Self.tableKey(number, compat: compat)
        var value = plan.raw
        try LibbpfCallError.check(
            bpf_map_update_elem(plans, &key, &value, UInt64(BPF_ANY)), "bpf_map_update_elem",
            subject: "capture_plans")
    }

    /// Sets the mask a process gets right after exec, until the host has decided about it.
    public func setActiveDirectives(_ mask: UInt64) throws {
        var key: UInt32 = 0
        var value = mask
        try LibbpfCallError.check(
            bpf_map_update_elem(active, &key, &value, UInt64(BPF_ANY)), "bpf_map_update_elem",
            subject: "active_directives")
    }

    /// Drop and emit counters, summed over every CPU.
    public func counters() throws -> Counters {
        let cpus = Int(libbpf_num_possible_cpus())
        var values = [syscalls_counters](repeating: syscalls_counters(), count: max(cpus, 1))
        var key: UInt32 = 0
        try LibbpfCallError.check(
            bpf_map_lookup_elem(counterMap, &key, &values), "bpf_map_lookup_elem", subject: "counters")
        return values.reduce(into: Counters()) { sum, cpu in
            sum.ringBufferFull += cpu.ringbuf_full
            sum.captureFaults += cpu.capture_faults
            sum.heldUndecided += cpu.held_undecided
        }
    }

    /// Detaches and unloads everything.
    public func close() {
        object.close()
    }

    private static func tableKey(_ number: Int, compat: Bool) throws -> UInt32 {
        guard number >= 0, number < Int(SYSCALLS_TABLE_SIZE) else {
            throw LibbpfCallError("syscall table", errno: ERANGE, subject: "syscall \(number)")
        }
        return UInt32(number) + (compat ? UInt32(SYSCALLS_COMPAT_BASE) : 0)
    }
}
