import CLibBPF
import CTawonBPF
import Foundation

/// Loader for `bpf/syscalls.bpf.c`: the sys_enter prefilter and its maps.
///
/// The host programs two masks: which directives watch a process (by tgid, in the process
/// program's map this one shares) and which hook a syscall (by number, i386 numbers offset by
/// 512). A call leaves the kernel only when both masks share a directive.
public final class SyscallsProgram {
    private let object: BPFObject
    private let hooked: Int32
    private let plans: Int32

    /// Loads and attaches the program over the maps of `process`. The calling process is never
    /// traced.
    public init(configuration: KernelConfiguration, sharingMapsOf process: ProcessProgram) throws {
        object = try BPFObject(.syscalls)
        try process.shareMaps(with: object)
        try object.configure("tawon_config", to: configuration.raw)
        try object.load()
        try object.attachAll()
        hooked = try object.mapDescriptor("hooked_syscalls")
        plans = try object.mapDescriptor("capture_plans")
    }

    deinit { close() }

    /// The kernel's IDs of this program's BPF programs (sys_enter).
    public func programIDs() throws -> [UInt32] { try object.programIDs() }

    /// Whether `number` can be hooked: the table's size bounds both ABIs.
    public static func canHook(_ number: UInt64) -> Bool { number < UInt64(SYSCALLS_TABLE_SIZE) }

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
