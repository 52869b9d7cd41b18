import Foundation
import Host
import Testing

/// Each event is decided and published with the process as it was when the event happened.
@Suite("Process identity over fork, exec and rename (kernel)", .serialized)
struct ProcessIdentityKernelTests {
    @Test("fork, then exec, 100 times: every pre-exec call of each child, with its pid and the pre-exec name")
    func forkedChildrenBeforeExec() throws {
        try KernelSupport.require()
        let tracer = CollectingSession()
        // A copy under a name of its own: other suites run tawon-workload meanwhile.
        let workload = try TracedWorkload(
            ["forkexec", "100"], executable: try ConditionKernelTests.workloadCopy("wl-forkexec"))
        let directive = try tracer.session.add(DirectiveRequest(
            conditions: "process.name:wl-forkexec", tasks: [try TaskSpec.parse("syscalls|functions:write+getppid+execve")]))
        // Read while the children run: by the time a fork is handled, /proc already shows the
        // child's next image (sleep), which must not be taken for the child's earlier calls.
        let runner = Thread { workload.go() }
        runner.start()
        while workload.process.isRunning { try tracer.session.poll(timeoutMilliseconds: 10) }
        for _ in 0..<10 { try tracer.session.poll(timeoutMilliseconds: 20) }
        tracer.session.remove(directive.id)
        let records = tracer.collector.all
        let calls = try records.map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)) }
        let byChild = Dictionary(grouping: calls) { $0.process?.pid ?? 0 }
        #expect(byChild.count == 100, "children seen: \(byChild.count)")
        #expect(byChild[workload.pid] == nil)  // the parent makes none of these calls
        #expect(tracer.session.counters().kernel.ringBufferFull == 0)
        for (pid, childCalls) in byChild {
            #expect(childCalls.map(\.function) == ["write", "write", "getppid", "execve"], "child \(pid)")
            #expect(childCalls.allSatisfy { $0.process?.name == "wl-forkexec" && $0.process?.ppid == workload.pid })
        }
    }

    @Test("Started through taskset, which execs it at once: every call is written or counted, none vanishes")
    func execRightAfterExec() throws {
        try KernelSupport.require()
        let calls = 100_000
        let name = "wl-taskset"
        let binary = try ConditionKernelTests.workloadCopy(name)
        let tracer = CollectingSession()
        let directive = try tracer.session.add(DirectiveRequest(
            conditions: "process.name:\(name)", tasks: [try TaskSpec.parse("syscalls|functions:getppid")]))
        // taskset's own image is decided against (not selected) while the workload's exec,
        // which set the pid's entry anew, may still be on its way through the ring.
        let workloads = try (0..<4).map { index in
            try TracedWorkload(["-c", "\(index % 2)", binary, "getppid", "\(calls)"], executable: "/usr/bin/taskset")
        }
        workloads.forEach { $0.start() }
        while workloads.contains(where: \.process.isRunning) { try tracer.session.poll(timeoutMilliseconds: 5) }
        // Under a loaded suite the reader may be seconds behind: the ring is read to its end
        // before the directive goes, or what is left would look lost.
        try tracer.session.drain(until: ContinuousClock.now + .seconds(60))
        for _ in 0..<20 { try tracer.session.poll(timeoutMilliseconds: 20) }
        tracer.session.remove(directive.id)
        let written = tracer.collector.all.filter { $0.json.contains("\"function\":\"getppid\"") }.count
        let kernel = tracer.session.counters().kernel
        #expect(written + Int(kernel.heldUndecided + kernel.ringBufferFull) >= workloads.count * calls,
                "written \(written), held back \(kernel.heldUndecided), ring full \(kernel.ringBufferFull)")
        tracer.session.close()
    }

    @Test("A process renamed with prctl(PR_SET_NAME) matches process.name: its new name from then on")
    func renamedProcess() throws {
        try KernelSupport.require()
        let tracer = CollectingSession()
        let workload = try TracedWorkload(["rename", "renamed-wl"], executable: try ConditionKernelTests.workloadCopy("wl-rename"))
        let records = try tracer.trace(
            { _ in "process.name:renamed-wl" }, ["syscalls|functions:getppid+prctl"], workload: workload)
        let calls = try records.map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)) }
        // A call is decided as its process is when it returns: prctl returns under the new name.
        #expect(calls.map(\.function) == ["prctl", "getppid"])
        #expect(calls.first?.process?.pid == workload.pid)
        #expect(calls.first?.process?.name == "renamed-wl")
    }
}
