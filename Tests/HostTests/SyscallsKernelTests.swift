import Foundation
import Host
import Testing

/// The syscalls task end to end: a real process, the real BPF program, the seed's JSON.
@Suite("syscalls task (kernel)", .serialized)
struct SyscallsKernelTests {
    @Test("write(1, \"+\", 1) under functions:write gives the seed's event")
    func writeEvent() throws {
        try KernelSupport.require()
        let tracer = CollectingSession()
        let workload = try TracedWorkload(["write"])
        let records = try tracer.trace({ "process.pid:\($0)" }, ["syscalls|functions:write"], workload: workload)

        let record = try #require(records.first)
        #expect(records.count == 1)
        let data = try JSONDecoder().decode(SyscallData.self, from: Data(record.json.utf8))
        #expect(data.function == "write")
        #expect(data.args == [.init(name: "fd", value: .number(1)), .init(name: "buf", value: .text("+")),
                              .init(name: "count", value: .number(1))])
        let process = try #require(data.process)
        #expect(process.pid == workload.pid)
        #expect(process.ppid == UInt32(getpid()))
        #expect(process.name == "tawon-workload")
        #expect(process.exe == TracedWorkload.binary)
        #expect(process.cmd == "\(TracedWorkload.binary) write")
    }
}

/// The syscalls task's record, as the seed's sample shapes it.
struct SyscallData: Decodable, Equatable {
    struct Argument: Decodable, Equatable {
        enum Value: Decodable, Equatable {
            case number(Int64)
            case text(String)
            init(from decoder: Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(Int64.self) { self = .number(number) } else {
                    self = .text(try container.decode(String.self))
                }
            }
        }
        var name: String
        var value: Value
    }
    struct Process: Decodable, Equatable {
        struct Container: Decodable, Equatable { var id: String; var name: String }
        struct Pod: Decodable, Equatable {
            var id: String? = nil
            var name: String
            var namespace: String
            var labels: [String: String]? = nil
        }
        var cmd: String? = nil
        var container: Container? = nil
        var pod: Pod? = nil
        var exe: String? = nil
        var name: String? = nil
        var ns: String? = nil
        var pid: UInt32? = nil
        var ppid: UInt32? = nil
        var startedAt: String? = nil
    }
    var args: [Argument]?
    var function: String
    var process: Process?
    var errno: String?
    var `return`: Int64?
    var callID: UInt64?
    var unfinished: Bool?
    var resumed: Bool?
}

extension SyscallsKernelTests {
    @Test("capabilities:CAP_NET_RAW gives exactly the preset's functions — no read")
    func capabilityPreset() throws {
        try KernelSupport.require()
        let tracer = CollectingSession()
        let records = try tracer.trace(
            { "process.pid:\($0)" }, ["syscalls|capabilities:CAP_NET_RAW"], workload: try TracedWorkload(["net"]))
        let calls = try records.map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)) }

        #expect(calls.map(\.function) == ["socket", "setsockopt", "bind"])
        #expect(calls.first?.args == [.init(name: "family", value: .text("AF_INET")),
                                      .init(name: "type", value: .text("SOCK_DGRAM")),
                                      .init(name: "protocol", value: .text("IPPROTO_IP"))])
        #expect(calls.dropFirst().first?.args?[1...2] == [.init(name: "level", value: .text("SOL_SOCKET")),
                                                          .init(name: "optname", value: .text("SO_REUSEADDR"))])
        #expect(calls.last?.args?[1] == .init(name: "umyaddr", value: .text(#"{sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}"#)))
    }

    @Test("functions:ALL gives every syscall in order, decoded as strace decodes them")
    func allSyscallsMatchStrace() throws {
        try KernelSupport.require()
        let directory = try TestSupport.temporaryDirectory("all")
        defer { try? FileManager.default.removeItem(at: directory) }
        let expected = try StraceReference.syscallsAfterGo(["many", directory.path])

        let tracer = CollectingSession()
        let records = try tracer.trace(
            { "process.pid:\($0)" }, ["syscalls|functions:ALL"], workload: try TracedWorkload(["many", directory.path]))
        let calls = try records.map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)) }

        #expect(Set(calls.map(\.function)).count >= 20)
        #expect(calls.map(\.function) == expected)
        func arguments(_ function: String, _ nth: Int = 0) -> [String: SyscallData.Argument.Value] {
            let call = calls.filter { $0.function == function }.dropFirst(nth).first
            return Dictionary(uniqueKeysWithValues: (call?.args ?? []).map { ($0.name, $0.value) })
        }
        let file = directory.appending(path: "tawon-file").path
        let renamed = directory.appending(path: "tawon-renamed").path
        #expect(arguments("openat") == ["dfd": .text("AT_FDCWD"), "filename": .text(file),
                                        "flags": .text("O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC"), "mode": .text("0640")])
        #expect(arguments("write")["buf"] == .text("hello\\n"))
        #expect(arguments("write")["count"] == .number(6))
        #expect(arguments("pwrite64")["buf"] == .text("tawon"))
        #expect(arguments("newfstatat")["flag"] == .text("AT_EMPTY_PATH"))
        #expect(arguments("lseek")["whence"] == .text("SEEK_SET"))
        #expect(arguments("rename") == ["oldname": .text(file), "newname": .text(renamed)])
        #expect(arguments("access")["mode"] == .text("R_OK|W_OK"))
        #expect(arguments("chmod")["mode"] == .text("0600"))
        #expect(arguments("mmap")["prot"] == .text("PROT_READ|PROT_WRITE"))
        #expect(arguments("mmap")["flags"] == .text("MAP_PRIVATE|MAP_ANONYMOUS"))
        #expect(arguments("mmap")["addr"] == .text("NULL"))
        #expect(arguments("umask")["mask"] == .text("022"))
        #expect(arguments("mmap")["fd"] == .number(-1))  // -1 in a 32-bit int crosses the ABI as -1
        #expect(arguments("pipe2")["flags"] == .text("O_CLOEXEC"))
        #expect(arguments("write", 1)["buf"] == .text(#"a\"b\\c\n\1"#))
    }

    @Test("compact:true drops the arguments; meta selects the process fields")
    func compactAndMeta() throws {
        try KernelSupport.require()
        let tracer = CollectingSession()
        let compact = try tracer.trace(
            { "process.pid:\($0)" }, ["syscalls|functions:write;compact:true"], workload: try TracedWorkload(["write"]))
        let compactData = try JSONDecoder().decode(SyscallData.self, from: Data(try #require(compact.first).json.utf8))
        #expect(compactData.args == nil)
        #expect(compactData.function == "write")

        let workload = try TracedWorkload(["write"])
        let named = try tracer.trace(
            { "process.pid:\($0)" }, ["syscalls|functions:write;meta:process.name+pod.min"], workload: workload)
        let namedData = try JSONDecoder().decode(SyscallData.self, from: Data(try #require(named.first).json.utf8))
        // Outside any pod, pod.min gives the pod's fields empty.
        #expect(namedData.process == .init(pod: .init(name: "", namespace: ""), name: "tawon-workload"))

        let none = try tracer.trace(
            { "process.pid:\($0)" }, ["syscalls|functions:write;meta:none"], workload: try TracedWorkload(["write"]))
        #expect(try JSONDecoder().decode(SyscallData.self, from: Data(try #require(none.first).json.utf8)).process == nil)

        #expect(throws: DirectiveError.self) {
            try tracer.session.add(DirectiveRequest(
                conditions: "process.pid:1", tasks: [try TaskSpec.parse("syscalls|functions:write;meta:process.colour")]))
        }
    }

    @Test("process.name selects by name; a process the condition does not select gives nothing")
    func nameSelectsAndOthersGiveNothing() throws {
        try KernelSupport.require()
        let tracer = CollectingSession()
        let copy = try TestSupport.temporaryDirectory("other").appending(path: "other-workload").path
        try FileManager.default.copyItem(atPath: TracedWorkload.binary, toPath: copy)
        let other = try TracedWorkload(["write"], executable: copy)
        // A name of its own: other suites run tawon-workload at the same time.
        let named = copy.replacingOccurrences(of: "other-workload", with: "tawon-namesel")
        try FileManager.default.copyItem(atPath: TracedWorkload.binary, toPath: named)
        let workload = try TracedWorkload(["write"], executable: named)
        let records = try tracer.trace({ _ in "process.name:tawon-namesel" }, ["syscalls|functions:write"], workload: workload)
        other.go()
        for _ in 0..<5 { try tracer.session.poll(timeoutMilliseconds: 20) }

        let pids = try records.map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)).process?.pid }
        #expect(pids == [workload.pid])
        #expect(tracer.collector.all.count == 1)
    }

    @Test("A directive without a condition is refused with the seed's reason; none left in the kernel after close")
    func refusalsAndCleanup() async throws {
        try KernelSupport.require()
        let tracer = CollectingSession()
        #expect(throws: DirectiveError.missingCondition) {
            try tracer.session.add(DirectiveRequest(conditions: " ", tasks: [try TaskSpec.parse("syscalls|functions:write")]))
        }
        #expect(try tracer.session.loadedProgramIDs().isEmpty)
        let summary = try tracer.session.add(
            DirectiveRequest(conditions: "process.name:nothing-by-this-name", tasks: [try TaskSpec.parse("syscalls|functions:ALL")]))
        #expect(summary.functions.count > 300)
        // The session's own programs, by ID: other suites load theirs at the same time.
        let ours = Set(try tracer.session.loadedProgramIDs().map(Int.init))
        #expect(ours.count == 10)  // sys_enter, sys_exit, sched_switch, sched_prepare_exec; the process program's fork, exec, exit, rename; cgroup mkdir, rmdir
        #expect(ours.isSubset(of: try LoadedPrograms.tawonIDs()))
        tracer.session.close()
        // Programs attached through trampolines are freed after an RCU-tasks grace period.
        let deadline = ContinuousClock.now + .seconds(15)
        while try !LoadedPrograms.tawonIDs().isDisjoint(with: ours), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try LoadedPrograms.tawonIDs().isDisjoint(with: ours))
    }
}

/// What strace says the workload does, for comparison.
enum StraceReference {
    /// Syscall names the workload makes after reading its "go" line, per `strace -f`.
    static func syscallsAfterGo(_ arguments: [String]) throws -> [String] {
        let log = try TestSupport.temporaryDirectory("strace").appending(path: "trace.txt").path
        let result = try TestSupport.run(
            "/usr/bin/env", ["strace", "-f", "-qq", "-o", log, TracedWorkload.binary] + arguments, stdin: "go\n")
        guard result.status == 0 else { throw TestFailure("strace failed: \(result.stderr)") }
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        guard let start = lines.firstIndex(where: { $0.contains(#"read(0, "go\n""#) }) else {
            throw TestFailure("no read of the go line in the strace log")
        }
        // Lines are "PID  name(arguments) = result"; strace pads the pid column.
        return lines[(start + 1)...].compactMap { line in
            line.drop { $0.isNumber }.drop { $0 == " " }.split(separator: "(").first.map(String.init)
        }
    }
}
