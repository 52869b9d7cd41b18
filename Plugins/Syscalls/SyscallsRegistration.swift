import SyscallTable
import TawonTaskKit

/// What the syscalls task registers: every x86_64 syscall, the seed's capability presets, the
/// seed's output schema and options.
enum SyscallsRegistration {
    /// The seed's capability presets, exactly (tawon-syscalls-task.txt, "capabilities").
    static let capabilityPresets: [(name: String, functions: [String])] = [
        ("CAP_NET_RAW", ["socket", "sendto", "recvfrom", "recvmsg", "bind", "setsockopt", "ioctl"]),
        ("CAP_NET_ADMIN", [
            "bind", "connect", "listen", "accept", "setsockopt", "getsockopt", "getsockname",
            "getpeername", "ioctl", "recvfrom",
        ]),
        ("CAP_IPC_LOCK", [
            "munlock", "mlockall", "munlockall", "shmget", "shmat", "shmdt", "shmctl", "msgget",
            "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semctl",
        ]),
        ("CAP_SYS_PTRACE", [
            "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "get_robust_list",
            "set_robust_list",
        ]),
    ]

    static let info = TaskRegistrationInfo(
        name: "syscalls", version: "0.1.0",
        description: "Syscall events with process information, function name, arguments and return "
            + "value, collected at sys_enter and sys_exit.",
        functions: SyscallTable.functions.map { id, signature in
            .init(
                name: signature.name, id: id,
                arguments: Array(zip(signature.argumentNames, signature.argumentTypes)))
        },
        capabilitySets: capabilityPresets.map { preset in
            .init(
                name: preset.name,
                description: "Syscalls associated with \(preset.name)",
                functions: preset.functions)
        },
        outputFields: outputFields, options: options)

    static let outputFields: [TaskRegistrationInfo.OutputField] = [
        .init("syscall", "map", "Holds the syscalls output."),
        .init("syscall.args", "list", "Holds the syscall argument names and values."),
        .init("syscall.args.name", "string", "Holds the name of the syscall argument."),
        .init("syscall.args.value", "string|uint64", "Holds the value of the syscall argument."),
        .init("syscall.callID", "uint64", "Joins the two records of a call that blocked past the deadline."),
        .init("syscall.errno", "string", "The error's name when the call failed (ENOENT...)."),
        .init("syscall.function", "string", "Holds the name of the syscall."),
        .init("syscall.process", "map", "Holds the Process information."),
        .init("syscall.process.pid", "uint32", "Process PID."),
        .init("syscall.process.ppid", "uint32", "Process Parent PID."),
        .init("syscall.process.name", "string", "Process name."),
        .init("syscall.process.cmd", "string", "Command line string."),
        .init("syscall.process.exe", "string", "Executable name."),
        .init("syscall.process.ns", "string", "Namespace in the format of {device ID}-{inode number}."),
        .init("syscall.process.startedAt", "string", "Time the process started."),
        .init("syscall.process.container", "map", "Container information for process (if it is a container)."),
        .init("syscall.process.container.id", "string", "ID of Container."),
        .init("syscall.process.container.name", "string", "Name of Container."),
        .init("syscall.resumed", "bool", "The call's return, after its entry was published as unfinished."),
        .init("syscall.return", "int64", "What the call returned; -1 on failure (see errno)."),
        .init("syscall.unfinished", "bool", "The call's entry: still blocked (see callID), or it never returns."),
    ]

    static let options: [TaskRegistrationInfo.Option] = [
        .init(
            "functions", .string, default: nil,
            "Syscalls to hook, joined by '+'; ALL (any case) for every syscall; @FILE reads the "
                + "names from a file, @- from standard input. Not together with ALL and a file."),
        .init(
            "capabilities", .string, default: nil,
            "Capability presets joined by '+' (CAP_NET_RAW, CAP_NET_ADMIN, CAP_IPC_LOCK, "
                + "CAP_SYS_PTRACE): hooks the syscalls associated with each."),
        .init("compact", .bool, default: "false", "Emit syscall events without their arguments."),
        .init(
            "entryOnly", .bool, default: "false",
            "Publish each call at its entry, without what it wrote and without its return value: "
                + "sooner, and cheaper. By default a call is published once it returned."),
        .init(
            "meta", .string, default: "",
            "Which metadata to publish, selectors joined by '+' (e.g. process.name+pod.min); "
                + "empty: all process information."),
        .init(
            "demo", .string, default: nil,
            "Run demo simulations in the background, joined by '+' (cap_chown, cap_ipc_lock, "
                + "cap_kill, cap_net_raw, cap_setuid, cap_sys_chroot, cap_sys_ptrace, all)."),
        .init("demoInterval", .int64, default: "10", "Seconds to sleep between demo simulations."),
    ]
}
