import Foundation
import Host
import Testing

/// Conditions against real processes: names, pids, globs, command lines, the five capability
/// sets at the moment of each syscall, containers, and processes just exec'd.
@Suite("Conditions and the process model (kernel)", .serialized)
struct ConditionKernelTests {
    /// A copy of the workload under another name, in a directory anyone may enter.
    static func workloadCopy(_ name: String) throws -> String {
        let directory = try TestSupport.temporaryDirectory("copy")
        chmod(directory.path, 0o755)
        let path = directory.appending(path: name).path
        try FileManager.default.copyItem(atPath: TracedWorkload.binary, toPath: path)
        return path
    }

    /// Runs several directives at once over paused workloads; returns each directive's pids in
    /// the order of its records (and the records themselves).
    static func run(
        _ directives: [(conditions: String, task: String)], workloads: [TracedWorkload]
    ) throws -> [(pids: [UInt32], calls: [SyscallData])] {
        let tracer = CollectingSession()
        let ids = try directives.map {
            try tracer.session.add(DirectiveRequest(conditions: $0.conditions, tasks: [try TaskSpec.parse($0.task)])).id
        }
        for workload in workloads { workload.go() }
        for _ in 0..<10 { try tracer.session.poll(timeoutMilliseconds: 20) }
        tracer.session.close()
        return try ids.map { id in
            let calls = try tracer.collector.all.filter { $0.directiveID == id }
                .map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)) }
            return (calls.compactMap { $0.process?.pid }, calls)
        }
    }

    @Test("name, pid, exe glob, cmd ~text~, AND / OR / NOT / parentheses select exactly the right processes")
    func selection() throws {
        try KernelSupport.require()
        let a = try TracedWorkload(["write"], executable: try Self.workloadCopy("wl-a"))
        let b = try TracedWorkload(["write"], executable: try Self.workloadCopy("wl-b"))
        let c = try TracedWorkload(["write", "marker"], executable: try Self.workloadCopy("wl-a"))
        let cases: [(String, Set<UInt32>)] = [
            ("process.name:wl-a", [a.pid, c.pid]),
            ("process.pid:\(b.pid)", [b.pid]),
            ("process.exe:*/wl-?", [a.pid, b.pid, c.pid]),
            ("process.cmd:~marker~", [c.pid]),
            ("process.name:wl-a AND NOT process.cmd:~marker~", [a.pid]),
            ("(process.name:wl-b OR process.cmd:~marker~) AND process.exe:*wl*", [b.pid, c.pid]),
            ("process.name:wl-b or process.pid:\(a.pid)", [a.pid, b.pid]),
        ]
        let results = try Self.run(cases.map { ($0.0, "syscalls|functions:write") }, workloads: [a, b, c])
        for (index, (condition, expected)) in cases.enumerated() {
            #expect(Set(results[index].pids) == expected, "\(condition)")
            #expect(results[index].pids.count == expected.count, "\(condition): one write each")
        }
    }

    @Test("Two directives at once with different conditions and functions each get exactly their events")
    func twoDirectives() throws {
        try KernelSupport.require()
        let directory = try TestSupport.temporaryDirectory("two")
        let many = try TracedWorkload(["many", directory.path], executable: try Self.workloadCopy("wl-m"))
        let other = try TracedWorkload(["write"])
        let results = try Self.run(
            [("process.name:wl-m", "syscalls|functions:write"),
             ("process.pid:\(many.pid) OR process.pid:\(other.pid)", "syscalls|functions:openat+getppid")],
            workloads: [many, other])
        #expect(results[0].calls.map(\.function) == ["write", "write"])
        #expect(Set(results[0].pids) == [many.pid])
        #expect(results[1].calls.map(\.function) == ["openat", "getppid"])
        #expect(Set(results[1].pids) == [many.pid])
    }

    @Test("File capabilities: cap_net_raw+ep as an unprivileged user matches capeff and capprm:~NET~")
    func fileCapabilities() throws {
        try KernelSupport.require()
        let privileged = try Self.workloadCopy("wl-caps")
        let setcap = try TestSupport.run("/usr/sbin/setcap", ["cap_net_raw+ep", privileged])
        try #require(setcap.status == 0, "setcap: \(setcap.stderr)")
        let plain = try Self.workloadCopy("wl-plain")
        func asNobody(_ path: String) throws -> TracedWorkload {
            try TracedWorkload(
                ["--reuid=nobody", "--regid=nogroup", "--clear-groups", path, "net"], executable: "/usr/bin/setpriv")
        }
        let withCaps = try asNobody(privileged)
        let without = try asNobody(plain)
        let pids = "(process.pid:\(withCaps.pid) OR process.pid:\(without.pid))"
        let results = try Self.run(
            [("\(pids) AND process.capeff:CAP_NET_RAW", "syscalls|functions:socket"),
             ("\(pids) AND process.capprm:~NET~", "syscalls|functions:socket"),
             ("\(pids) AND NOT process.capeff:CAP_NET_RAW", "syscalls|functions:socket")],
            workloads: [withCaps, without])
        #expect(results[0].pids == [withCaps.pid])
        #expect(results[1].pids == [withCaps.pid])
        #expect(results[2].pids == [without.pid])
    }

    @Test("Inheritable, ambient and bounding sets (set with capsh) are matched")
    func inheritableAmbientBounding() throws {
        try KernelSupport.require()
        let shaped = try TracedWorkload(
            ["--inh=cap_net_raw", "--addamb=cap_net_raw", "--drop=cap_sys_admin", "--",
             "-c", "exec \(TracedWorkload.binary) net"], executable: "/usr/sbin/capsh")
        let plain = try TracedWorkload(["net"])
        let pids = "(process.pid:\(shaped.pid) OR process.pid:\(plain.pid))"
        let results = try Self.run(
            [("\(pids) AND process.capinh:CAP_NET_RAW", "syscalls|functions:socket"),
             ("\(pids) AND process.capamb:cap_net_raw", "syscalls|functions:socket"),
             ("\(pids) AND NOT process.capbnd:CAP_SYS_ADMIN", "syscalls|functions:socket"),
             ("\(pids) AND process.capbnd:CAP_SYS_ADMIN", "syscalls|functions:socket")],
            workloads: [shaped, plain])
        #expect(results[0].pids == [shaped.pid])
        #expect(results[1].pids == [shaped.pid])
        #expect(results[2].pids == [shaped.pid])
        #expect(results[3].pids == [plain.pid])
    }

    @Test("Moment of the syscall: only the socket() made with CAP_NET_RAW raised is matched")
    func momentOfTheSyscall() throws {
        try KernelSupport.require()
        let workload = try TracedWorkload(["capmoment"])
        let results = try Self.run(
            [("process.pid:\(workload.pid) AND process.capeff:CAP_NET_RAW", "syscalls|functions:socket+getppid"),
             ("process.pid:\(workload.pid)", "syscalls|functions:socket+getppid")],
            workloads: [workload])
        #expect(results[0].calls.map(\.function) == ["socket"])
        #expect(results[0].calls.first?.args?[1].value == .text("SOCK_RAW"))
        #expect(results[1].calls.map(\.function) == ["getppid", "socket", "socket", "getppid"])
    }

    @Test("No lost first syscalls: every exec'd child's first syscall is captured")
    func firstSyscallsAfterExec() throws {
        try KernelSupport.require()
        let target = try Self.firstProgram(in: try TestSupport.temporaryDirectory("first"))
        let reference = try StraceReference.firstSyscallAfterExec(of: target)
        let execs = 1000

        let execer = try TracedWorkload(["execer", "\(execs)", target])
        // Room for what other tests' processes (containers starting) send while undecided: this
        // test is about the moment of the decision, not about the ring's capacity.
        var configuration = KernelConfiguration()
        configuration.ringBufferBytes = 128 << 20
        let tracer = CollectingSession(configuration: configuration)
        let directive = try tracer.session.add(
            DirectiveRequest(conditions: "process.name:tawon-first", tasks: [try TaskSpec.parse("syscalls|functions:ALL;meta:process.pid")]))
        let reader = Thread {
            while execer.process.isRunning { _ = try? tracer.session.poll(timeoutMilliseconds: 10) }
        }
        reader.start()
        execer.go()
        while reader.isExecuting { usleep(10_000) }
        for _ in 0..<20 { try tracer.session.poll(timeoutMilliseconds: 20) }
        let counters = tracer.session.counters()
        tracer.session.close()

        var firstByPID: [UInt32: String] = [:]
        for record in tracer.collector.all where record.directiveID == directive.id {
            let call = try JSONDecoder().decode(SyscallData.self, from: Data(record.json.utf8))
            if let pid = call.process?.pid, firstByPID[pid] == nil { firstByPID[pid] = call.function }
        }
        let captured = firstByPID.values.filter { $0 == reference }.count
        print("first syscall after exec (\(reference)) captured for \(captured) of \(execs) execs; \(counters)")
        #expect(firstByPID.count == execs)
        let others = firstByPID.filter { $0.value != reference }.map { "\($0.key): \($0.value)" }
        #expect(captured == execs, "first calls other than \(reference): \(others)")
    }
}

extension ConditionKernelTests {
    @Test("A program exec'd under strace -f, stopped inside its exec in the new image, starts with the call strace shows first, not with an unfinished execve, and ends with one exit_group")
    func execStoppedInTheNewImage() throws {
        try KernelSupport.require()
        let directory = try TestSupport.temporaryDirectory("first-ptraced")
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = try Self.firstProgram(in: directory)
        let reference = try StraceReference.firstSyscallAfterExec(of: target)
        let tracer = CollectingSession()
        defer { tracer.session.close() }
        let directive = try tracer.session.add(
            DirectiveRequest(conditions: "process.name:tawon-first", tasks: [try TaskSpec.parse("syscalls|functions:ALL")]))
        // strace's exec stop (PTRACE_EVENT_EXEC) blocks the exec after its point of no return.
        let straced = try TestSupport.run("/usr/bin/env", ["strace", "-f", "-qq", "-o", "/dev/null", target])
        try #require(straced.status == 0, "\(straced.stderr)")
        try tracer.session.drain(until: .now + .seconds(10))
        for _ in 0..<10 { try tracer.session.poll(timeoutMilliseconds: 10) }
        let functions = try tracer.collector.all.filter { $0.directiveID == directive.id }
            .map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)).function }
        #expect(functions.first == reference, "\(functions.prefix(5))")
        #expect(!functions.contains("execve"), "\(functions.prefix(5))")
        // Stopped at its entry too, exit_group is still one call.
        #expect(functions.filter { $0 == "exit_group" }.count == 1, "\(functions.suffix(3))")
    }

    @Test("A process exec'd while the host does not read sends at most its undecided budget; the rest is counted as held back")
    func undecidedBudget() throws {
        try KernelSupport.require()
        let directory = try TestSupport.temporaryDirectory("budget")
        defer { try? FileManager.default.removeItem(at: directory) }
        let calls = 3 * ProcessProgram.undecidedBudget
        let target = try Self.getppidProgram(calls: calls, in: directory)
        let execer = try TracedWorkload(["execer", "1", target])
        let tracer = CollectingSession()
        let directive = try tracer.session.add(
            DirectiveRequest(conditions: "process.name:nothing-is-named-this", tasks: [try TaskSpec.parse("syscalls|functions:getppid")]))
        execer.go()
        execer.process.waitUntilExit()
        for _ in 0..<20 { try tracer.session.poll(timeoutMilliseconds: 20) }
        let counters = tracer.session.counters()
        tracer.session.close()
        #expect(counters.kernel.heldUndecided >= UInt64(calls - ProcessProgram.undecidedBudget), "\(counters.kernel)")
        #expect(counters.kernel.ringBufferFull == 0)
        #expect(!tracer.collector.all.contains { $0.directiveID == directive.id })
    }

    /// `tawon-first`, built from Fixtures/first.c: its first calls are the dynamic loader's.
    static func firstProgram(in directory: URL) throws -> String {
        let target = directory.appending(path: "tawon-first").path
        let source = TestSupport.packageRoot.appending(path: "Tests/HostTests/Fixtures/first.c").path
        try #require(try TestSupport.run("/usr/bin/env", ["cc", "-O1", "-o", target, source]).status == 0)
        return target
    }

    /// `tawon-budget`: a program that calls getppid `calls` times as soon as it starts; with
    /// `pauseEvery`, it sleeps half a millisecond after each `pauseEvery` calls.
    static func getppidProgram(calls: Int, pauseEvery: Int? = nil, in directory: URL) throws -> String {
        let target = directory.appending(path: "tawon-budget").path
        let source = directory.appending(path: "budget.c")
        let pause = pauseEvery.map { "if (i % \($0) == \($0 - 1)) usleep(500);" } ?? ""
        try "#include <unistd.h>\nint main(void) { for (int i = 0; i < \(calls); i++) { getppid(); \(pause) } return 0; }\n"
            .write(to: source, atomically: true, encoding: .utf8)
        try #require(try TestSupport.run("/usr/bin/env", ["cc", "-O1", "-o", target, source.path]).status == 0)
        return target
    }

    @Test("A process that calls at once after its exec, while records are held 1 s for the time order, has every call reported: it is decided when its exec is read, not a window later")
    func decidedWhenItsExecIsRead() throws {
        try KernelSupport.require()
        let directory = try TestSupport.temporaryDirectory("decided-on-arrival")
        defer { try? FileManager.default.removeItem(at: directory) }
        // More calls than the budget: decided only after the window, it would be held back.
        // Paced, the budget lasts about half a second, half the window: a loaded host reads the
        // exec record well within it, and deciding a window later would hold back a budget's worth.
        let budgeted = 4 * ProcessProgram.undecidedBudget
        let target = try Self.getppidProgram(calls: budgeted, pauseEvery: 64, in: directory)
        let tracer = CollectingSession(orderWindow: .milliseconds(1000))
        defer { tracer.session.close() }
        let directive = try tracer.session.add(
            DirectiveRequest(conditions: "process.name:tawon-budget", tasks: [try TaskSpec.parse("syscalls|functions:getppid")]))
        let execer = try TracedWorkload(["execer", "1", target])
        execer.start()
        while execer.process.isRunning { try tracer.session.poll(timeoutMilliseconds: 10) }
        // A debug build reads a few hundred thousand records in seconds; drain ends when none is left.
        try tracer.session.drain(until: .now + .seconds(60))
        // What the last second held for the order is handed on as the directive stops.
        tracer.session.remove(directive.id)
        let counters = tracer.session.counters()
        let calls = tracer.collector.all.filter { $0.directiveID == directive.id && $0.json.contains("\"getppid\"") }.count
        // (The kernel's count of calls held back is no measure here: it counts every process
        // exec'd on the host meanwhile, and the other suites exec busy ones.)
        #expect(calls == budgeted, "\(counters)")
    }

    @Test("Calls made before a fresh process renames itself into a selected name are not selected, three times out of three: only the calls after it")
    func callsBeforeARenameKeepTheOldName() throws {
        try KernelSupport.require()
        let directory = try TestSupport.temporaryDirectory("rename-late")
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = directory.appending(path: "tawon-before").path
        let source = directory.appending(path: "before.c")
        try """
            #include <sys/prctl.h>
            #include <unistd.h>
            int main(void) {
                for (int i = 0; i < 10; i++) getppid();
                prctl(PR_SET_NAME, "tawon-after");
                for (int i = 0; i < 10; i++) getppid();
                return 0;
            }
            """.write(to: source, atomically: true, encoding: .utf8)
        try #require(try TestSupport.run("/usr/bin/env", ["cc", "-O1", "-o", target, source.path]).status == 0)
        let tracer = CollectingSession()
        defer { tracer.session.close() }
        let directive = try tracer.session.add(
            DirectiveRequest(conditions: "process.name:tawon-after", tasks: [try TaskSpec.parse("syscalls|functions:getppid")]))
        let execer = try TracedWorkload(["execer", "3", target])
        execer.start()
        while execer.process.isRunning { try tracer.session.poll(timeoutMilliseconds: 10) }
        try tracer.session.drain(until: .now + .seconds(2))
        for _ in 0..<10 { try tracer.session.poll(timeoutMilliseconds: 10) }
        let names = try tracer.collector.all.filter { $0.directiveID == directive.id }
            .map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)).process?.name }
        #expect(names.count == 30, "\(names)")
        #expect(names.allSatisfy { $0 == "tawon-after" }, "\(names)")
    }

    @Test("A process whose exec record was lost to a full ring buffer is decided from /proc within seconds; its calls past the undecided budget are reported")
    func lostExecRecordIsDecided() throws {
        try KernelSupport.require()
        var configuration = KernelConfiguration()
        // Small enough for the flood to fill, large enough (about 150 ms of the late process's
        // calls) that a loaded host reading it loses none of the calls that follow.
        configuration.ringBufferBytes = 1 << 20
        let tracer = CollectingSession(configuration: configuration)
        defer { tracer.session.close() }
        // A name of this test's own: other suites' workloads would flood the small ring too.
        let executable = try Self.workloadCopy("tawon-lostexec")
        let directive = try tracer.session.add(
            DirectiveRequest(conditions: "process.name:tawon-lostexec", tasks: [try TaskSpec.parse("syscalls|functions:getppid")]))
        // Nothing reads while the flood fills the ring, so the next exec's record finds no room.
        let flood = try TracedWorkload(["getppid", "100000"], executable: executable)
        flood.go()
        let lostBefore = tracer.session.counters().kernel.ringBufferFull
        let late = try TracedWorkload(["paced", "300000"], executable: executable)
        let start = ContinuousClock.now
        late.start()
        while late.process.isRunning || ContinuousClock.now < start + .seconds(1) {
            try tracer.session.poll(timeoutMilliseconds: 10)
        }
        try tracer.session.drain(until: .now + .seconds(2))
        let counters = tracer.session.counters()
        let calls = tracer.collector.all.filter {
            $0.directiveID == directive.id && $0.json.contains("\"pid\":\(late.pid)") && $0.json.contains("\"getppid\"")
        }.count
        #expect(counters.kernel.ringBufferFull > lostBefore, "the flood filled the ring: \(counters.kernel)")
        // Left undecided, it would send its budget and no more.
        #expect(calls > ProcessProgram.undecidedBudget + 10_000, "\(calls) of 300000 reported; \(counters.kernel)")
        #expect(UInt64(calls) + counters.kernel.heldUndecided + counters.kernel.ringBufferFull >= 300_000, "every call reported or counted")
    }

    @Test("A process that execs and exits before the host reads /proc is still fully described")
    func shortLivedProcessKeepsItsInformation() throws {
        try KernelSupport.require()
        let tracer = CollectingSession()
        let directive = try tracer.session.add(
            DirectiveRequest(conditions: "process.name:tawon-workload", tasks: [try TaskSpec.parse("syscalls|functions:write")]))
        let workload = try TracedWorkload(["write"])  // exec'd under the directive
        workload.go()  // and gone before the host looks at it
        for _ in 0..<10 { try tracer.session.poll(timeoutMilliseconds: 20) }
        tracer.session.close()

        let records = tracer.collector.all.filter { $0.directiveID == directive.id }
        let record = try #require(records.first)
        let process = try #require(try JSONDecoder().decode(SyscallData.self, from: Data(record.json.utf8)).process)
        #expect(process.pid == workload.pid)
        #expect(process.ppid == UInt32(getpid()))
        #expect(process.exe == TracedWorkload.binary)
        #expect(process.cmd == "\(TracedWorkload.binary) write")
        #expect(process.ns == ProcFS.snapshot(UInt32(getpid()))?.ns)
        #expect(process.startedAt?.hasSuffix("Z") == true)
    }
}

extension ConditionKernelTests {
    @Test("The process table stays bounded: processes no directive watches are not kept")
    func processTableIsBounded() throws {
        try KernelSupport.require()
        let tracer = CollectingSession()
        try tracer.session.add(
            DirectiveRequest(conditions: "process.name:tawon-workload", tasks: [try TaskSpec.parse("syscalls|functions:write")]))
        let before = tracer.session.knownProcessCount
        let execer = try TracedWorkload(["execer", "300", "/bin/true"], executable: try Self.workloadCopy("wl-execer"))
        let reader = Thread {
            while execer.process.isRunning { _ = try? tracer.session.poll(timeoutMilliseconds: 10) }
        }
        reader.start()
        execer.go()
        while reader.isExecuting { usleep(10_000) }
        for _ in 0..<10 { try tracer.session.poll(timeoutMilliseconds: 20) }
        let after = tracer.session.knownProcessCount
        tracer.session.close()
        print("process table: \(before) before, \(after) after 300 short-lived processes")
        #expect(after <= before + 10)
    }
}

extension ConditionKernelTests {
    @Test("A command line longer than a page still matches on its last words")
    func longCommandLine() throws {
        try KernelSupport.require()
        let long = try TracedWorkload(["write", String(repeating: "x", count: 6000), "tail-marker"])
        let short = try TracedWorkload(["write"])
        let results = try Self.run(
            [("process.cmd:~tail-marker~ AND (process.pid:\(long.pid) OR process.pid:\(short.pid))", "syscalls|functions:write")],
            workloads: [long, short])
        #expect(results[0].pids == [long.pid])
        #expect(results[0].calls.first?.process?.cmd?.hasSuffix(" tail-marker") == true)
    }
}

extension StraceReference {
    /// The first syscall a program makes after its execve, per strace.
    static func firstSyscallAfterExec(of program: String) throws -> String {
        let log = try TestSupport.temporaryDirectory("strace").appending(path: "trace.txt").path
        let result = try TestSupport.run("/usr/bin/env", ["strace", "-qq", "-o", log, program])
        guard result.status == 0 else { throw TestFailure("strace failed: \(result.stderr)") }
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        guard let exec = lines.firstIndex(where: { $0.hasPrefix("execve(") }), exec + 1 < lines.count else {
            throw TestFailure("no execve in the strace log")
        }
        return String(lines[exec + 1].prefix { $0 != "(" })
    }
}
