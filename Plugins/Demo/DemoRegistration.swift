import DemoSimulation
import SyscallTable
import TawonTaskKit

/// What the demo task registers: its simulations as capability sets, exactly as the seed's
/// table (tawon-syscalls-task.txt, "Supported simulations").
enum DemoRegistration {
    static let info = TaskRegistrationInfo(
        name: "demo", version: "0.1.0",
        description: "Simulates privileged syscalls in short-lived child processes, to prove "
            + "end to end that the agent sees them.",
        functions: Set(DemoSimulator.simulations.flatMap(\.functions)).compactMap(SyscallTable.signature(named:))
            .sorted { $0.number < $1.number }
            .map { .init(name: $0.name, id: UInt64($0.number), arguments: Array(zip($0.argumentNames, $0.argumentTypes))) },
        capabilitySets: DemoSimulator.simulations.map {
            .init(name: $0.name, description: "Simulation \($0.name)", functions: $0.functions)
        } + [
            .init(
                name: "all", description: "Runs all simulations above",
                functions: DemoSimulator.simulations.flatMap(\.functions))
        ],
        outputFields: [
            .init("demo", "map", "One simulation run."),
            .init("demo.simulation", "string", "The simulation's name."),
            .init("demo.pid", "uint32", "PID of the process that ran it."),
            .init("demo.ok", "bool", "Whether every simulated call succeeded."),
            .init("demo.reason", "string", "Why a call failed (the call and the error), if one did."),
        ],
        options: [
            .init(
                "simulations", .string, default: "all",
                "Simulations to run, joined by '+' (see the capability sets)."),
            .init("interval", .int64, default: "10", "Seconds to sleep between runs."),
        ])
}
