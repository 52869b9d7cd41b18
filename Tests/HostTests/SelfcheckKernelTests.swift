import Foundation
import Host
import Testing

@Suite("BPF plumbing (kernel)", .serialized)
struct SelfcheckKernelTests {
    @Test("An embedded BPF program loads, attaches at sys_enter and delivers a getppid call")
    func selfcheckDeliversAnEvent() throws {
        try KernelSupport.require()
        let pid = UInt32(getpid())
        let program = try SelfcheckProgram(targetTGID: pid, syscallNumber: 110)
        defer { program.close() }

        _ = getppid()
        let observations = try program.awaitObservations(timeout: .seconds(5))

        let first = try #require(observations.first)
        #expect(first.tgid == pid)
        #expect(first.syscallNumber == 110)
        #expect(try program.droppedCount() == 0)
    }

    @Test("Closing the program leaves nothing in the kernel")
    func closingLeavesNoProgram() async throws {
        try KernelSupport.require()
        let program = try SelfcheckProgram(targetTGID: UInt32(getpid()), syscallNumber: 110)
        #expect(try loadedProgramNames().contains("selfcheck_sys_"))
        program.close()
        // The kernel frees a program after an RCU grace period, so give it a moment.
        let deadline = ContinuousClock.now + .seconds(3)
        while try loadedProgramNames().contains("selfcheck_sys_"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try !loadedProgramNames().contains("selfcheck_sys_"))
    }

    /// Names of the BPF programs in the kernel, as bpftool lists them.
    private func loadedProgramNames() throws -> String {
        let result = try TestSupport.run("/usr/sbin/bpftool", ["prog", "list"])
        guard result.status == 0 else { throw TestFailure("bpftool prog list: \(result.stderr)") }
        return result.stdout
    }
}
