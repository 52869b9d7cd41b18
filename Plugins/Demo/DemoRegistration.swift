import TawonTaskKit

/// What the demo task registers: its simulations as capability sets, exactly as the seed's
/// table (tawon-syscalls-task.txt, "Supported simulations").
enum DemoRegistration {
    static let simulations: [(name: String, functions: [String])] = [
        ("cap_chown", ["chown"]),
        ("cap_ipc_lock", ["mlockall", "mlock"]),
        ("cap_kill", ["kill"]),
        ("cap_net_raw", ["socket", "setsockopt", "bind"]),
        ("cap_setuid", ["setuid", "setreuid"]),
        ("cap_sys_chroot", ["chroot", "setns"]),
        ("cap_sys_ptrace", ["ptrace"]),
    ]

    /// x86_64 numbers of the simulated syscalls.
    static let functionIDs: [String: UInt64] = [
        "chown": 92, "mlockall": 151, "mlock": 149, "kill": 62, "socket": 41, "setsockopt": 54,
        "bind": 49, "setuid": 105, "setreuid": 113, "chroot": 161, "setns": 308, "ptrace": 101,
    ]

    static let info = TaskRegistrationInfo(
        name: "demo", version: "0.1.0",
        description: "Simulates privileged syscalls in short-lived child processes, to prove "
            + "end to end that the agent sees them.",
        functions: functionIDs.sorted { $0.value < $1.value }.map { .init(name: $0.key, id: $0.value) },
        capabilitySets: simulations.map {
            .init(name: $0.name, description: "Simulation \($0.name)", functions: $0.functions)
        } + [
            .init(
                name: "all", description: "Runs all simulations above",
                functions: Array(Set(simulations.flatMap(\.functions))).sorted())
        ],
        outputFields: [
            .init("demo", "map", "One simulation run."),
            .init("demo.simulation", "string", "The simulation's name."),
            .init("demo.pid", "uint32", "PID of the child process that ran it."),
            .init("demo.ok", "bool", "Whether every simulated call could be made."),
            .init("demo.reason", "string", "Why a call could not be made, if one could not."),
        ],
        options: [
            .init(
                "simulations", .string, default: "all",
                "Simulations to run, joined by '+' (see the capability sets)."),
            .init("interval", .int64, default: "10", "Seconds to sleep between simulations."),
        ])
}
