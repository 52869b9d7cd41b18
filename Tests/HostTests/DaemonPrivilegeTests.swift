import Foundation
import Host
import SystemFiles
import Testing

/// tawond holds only the capabilities it needs, on every thread, and still traces.
@Suite("tawond's privileges (kernel)", .serialized)
struct DaemonPrivilegeTests {
    @Test("After start every thread's CapEff, CapPrm and CapBnd hold only what tawond reports needing; tracing works")
    func leastPrivilege() async throws {
        try KernelSupport.require()
        let daemon = try await RunningDaemon()
        let status = try await daemon.client.status()
        #expect(status.capabilities == ["CAP_DAC_READ_SEARCH", "CAP_SYS_PTRACE", "CAP_PERFMON", "CAP_BPF"])
        let expected = status.capabilities.compactMap { CapabilityNames.number(of: $0) }.reduce(UInt64(0)) { $0 | 1 << UInt64($1) }
        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.pid)/task")
        #expect(threads.count > 1)
        for thread in threads {
            let text = SystemFile.text("/proc/\(daemon.pid)/task/\(thread)/status") ?? ""
            for set in ["CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"] {
                let line = text.split(separator: "\n").first { $0.hasPrefix(set + ":") }
                let mask = line.flatMap { UInt64($0.dropFirst(set.count + 1).trimmingCharacters(in: .whitespaces), radix: 16) }
                let want = set == "CapInh" || set == "CapAmb" ? 0 : expected
                #expect(mask == want, "thread \(thread) \(set): \(String(mask ?? 0, radix: 16)), not \(String(want, radix: 16))")
            }
        }
        // Still traces: a directive streams a real process's calls, and the health check passes.
        let workload = try TracedWorkload(["write"])
        let directive = try await daemon.client.createDirective(
            DirectiveCreation(conditions: "process.pid:\(workload.pid)", tasks: ["syscalls|functions:write"]))
        workload.go()
        let deadline = ContinuousClock.now + .seconds(5)
        while try await daemon.client.status().events.emitted == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await daemon.client.status().events.emitted >= 1)
        try await daemon.client.removeDirective(directive.id)
        let health = try await daemon.client.health(timeout: 5)
        #expect(health.healthy, "\(health.failure ?? "")")
        #expect(daemon.stop().status == 0)
    }
}
