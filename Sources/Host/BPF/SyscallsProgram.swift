import CLibBPF
import CTawonBPF
import Foundation

/// Loader for `bpf/syscalls.bpf.c`: its programs at sys_exit (with those that report calls not
/// returned yet) and at sys_enter, and their maps.
///
/// The host programs masks: which directives watch a process (by tgid, in the process
/// program's map this one shares) and which hook a syscall at entry or want it whole (by
/// number, i386 numbers offset by 512). A call leaves the kernel only when they share a directive.
public final class SyscallsProgram {
    private let object: BPFObject
    private let hooked: Int32
    private let plans: Int32
    private let exitHooked: Int32
    private let exitPlans: Int32
    /// Attached only while some directive hooks a syscall at entry: every syscall of every
    /// process pays for a program at sys_enter.
    private static let entryProgram = "syscalls_sys_enter"
    /// Attached only while some directive wants calls whole: every syscall of every process pays
    /// for the one at sys_exit; the others run when a thread blocks or execs.
    private static let exitPrograms = ["syscalls_sys_exit", "syscalls_blocked", "syscalls_exec"]

    /// Loads the programs over the maps of `process` (`reportEntries` and `reportExits` attach
    /// them). The calling process is never traced.
    public init(configuration: KernelConfiguration, sharingMapsOf process: ProcessProgram) throws {
        object = try BPFObject(.syscalls)
        try process.shareMaps(with: object)
        try object.configure("tawon_config", to: configuration.raw)
        try object.load()
        hooked = try object.mapDescriptor("hooked_syscalls")
        plans = try object.mapDescriptor("capture_plans")
        exitHooked = try object.mapDescriptor("exit_hooked_syscalls")
        exitPlans = try object.mapDescriptor("exit_plans")
    }

    deinit { close() }

    /// The kernel's IDs of this object's BPF programs (sys_enter, sys_exit, sched_switch,
    /// sched_prepare_exec), loaded whether attached or not.
    public func programIDs() throws -> [UInt32] { try object.programIDs() }

    /// Whether `number` can be hooked: the table's size bounds both ABIs.
    /// Sets which directives hook a syscall at entry, and at exit (return values).
    public func hook(syscall number: Int, compat: Bool, entries: UInt64, exits: UInt64) throws {
        var key = try Self.tableKey(number, compat: compat)
        var value = entries
        try LibbpfCallError.check(
            bpf_map_update_elem(hooked, &key, &value, UInt64(BPF_ANY)), "bpf_map_update_elem",
            subject: "hooked_syscalls")
        value = exits
        try LibbpfCallError.check(
            bpf_map_update_elem(exitHooked, &key, &value, UInt64(BPF_ANY)), "bpf_map_update_elem",
            subject: "exit_hooked_syscalls")
    }

    /// Sets which arguments of a syscall carry user memory to capture at entry and at exit.
    public func setCapturePlans(syscall number: Int, compat: Bool, entry: CapturePlan, exit: CapturePlan) throws {
        var key = try Self.tableKey(number, compat: compat)
        var value = entry.raw
        try LibbpfCallError.check(
            bpf_map_update_elem(plans, &key, &value, UInt64(BPF_ANY)), "bpf_map_update_elem",
            subject: "capture_plans")
        value = exit.raw
        try LibbpfCallError.check(
            bpf_map_update_elem(exitPlans, &key, &value, UInt64(BPF_ANY)), "bpf_map_update_elem",
            subject: "exit_plans")
    }

    /// Attaches or detaches the sys_enter program.
    public func reportEntries(_ wanted: Bool) throws {
        if wanted { try object.attach(Self.entryProgram) } else { object.detach(Self.entryProgram) }
    }

    /// Whether the sys_enter program is attached.
    public var reportsEntries: Bool { object.isAttached(Self.entryProgram) }

    /// Attaches or detaches the programs that report calls whole.
    public func reportExits(_ wanted: Bool) throws {
        for program in Self.exitPrograms {
            if wanted { try object.attach(program) } else { object.detach(program) }
        }
    }

    /// Whether the sys_exit program is attached.
    public var reportsExits: Bool { object.isAttached(Self.exitPrograms[0]) }

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
