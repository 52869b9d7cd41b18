import Foundation
import Host
import Testing

/// Calls as they happened: every argument (read at entry, or at exit where it was not yet paged
/// in, and what the call wrote) and every return value, against strace's rendering.
@Suite("Exact calls against strace (kernel)", .serialized)
struct ExactCallsKernelTests {
    static let binary = TestSupport.compileFixture("exact.c", as: "tawon-exact")
    static let functions = [
        "write", "open", "read", "openat", "newfstatat", "getcwd", "pipe2", "uname", "kill", "arch_prctl", "prlimit64",
        "socket", "bind", "listen", "getsockname", "connect", "accept", "sendto", "recvfrom", "prctl", "execve",
    ]
    /// Values that differ between two runs: the pid kill signals, the address arch_prctl writes,
    /// the port the kernel picked, the address of execve's environment.
    static let runDependent: Set<String> = [
        "kill.pid", "arch_prctl.arg2", "getsockname.usockaddr", "connect.uservaddr", "accept.upeer_sockaddr",
        "execve.envp",
    ]

    @Test("A fresh process's calls: every argument and return value equals strace's")
    func freshProcessEqualsStrace() throws {
        try KernelSupport.require()
        let directory = try TestSupport.temporaryDirectory("exact-run")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appending(path: "strace.txt").path
        let traced = try TestSupport.run(
            "/usr/bin/env", ["strace", "-qq", "-e", "trace=\(Self.functions.joined(separator: ","))", "-o", log, Self.binary, "calls"],
            in: directory, stdin: "go\n")
        try #require(traced.status == 0, "\(traced.stderr)")
        // What the program does after its go line (before it, the dynamic loader's calls).
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").compactMap(StraceLine.init)
        let go = try #require(lines.firstIndex { $0.name == "read" && $0.arguments.hasPrefix("0,") })
        // Up to its execve: the calls of /bin/true's own start are not the fixture's.
        let after = lines[(go + 1)...]
        let reference = Array(after.prefix { $0.name != "execve" } + after.drop { $0.name != "execve" }.prefix(1))

        let tracer = CollectingSession()
        let workload = try TracedWorkload(["calls"], executable: Self.binary, directory: directory)
        let records = try tracer.trace(
            { "process.pid:\($0)" }, ["syscalls|functions:\(Self.functions.joined(separator: "+"))"], workload: workload)
        let all = try records.map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)) }
        let ours = Array(all.prefix { $0.function != "execve" } + all.drop { $0.function != "execve" }.prefix(1))

        #expect(ours.map(\.function) == reference.map(\.name))
        var equal = 0
        var compared = 0
        for (theirs, mine) in zip(reference, ours) {
            let values = theirs.argumentList
            let names = mine.args?.map(\.name) ?? []
            #expect(values.count == names.count, "\(theirs.name): strace \(values), tawon \(names)")
            for (value, argument) in zip(values, mine.args ?? []) where !Self.runDependent.contains("\(theirs.name).\(argument.name)") {
                compared += 1
                if StraceLine.unquoted(value) == argument.value.rendered { equal += 1 } else {
                    Issue.record("\(theirs.name).\(argument.name): strace \(value), tawon \(argument.value.rendered)")
                }
            }
            compared += 1
            if theirs.result == mine.renderedResult { equal += 1 } else {
                Issue.record("\(theirs.name) returned: strace \(theirs.result), tawon \(mine.renderedResult)")
            }
        }
        print("exact calls: \(equal) of \(compared) equal")
        #expect(compared > 30)
        #expect(equal == compared)
    }

    @Test("A process whose main thread ends first (pthread_exit): the thread that goes on has every call reported, as strace -f shows them")
    func callsAfterTheMainThreadEnded() throws {
        try KernelSupport.require()
        let directory = try TestSupport.temporaryDirectory("leader-exit")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appending(path: "strace.txt").path
        let traced = try TestSupport.run(
            "/usr/bin/env", ["strace", "-f", "-qq", "-e", "trace=getppid,exit_group", "-o", log, TracedWorkload.binary, "leaderexit", "1000"],
            in: directory, stdin: "go\n")
        try #require(traced.status == 7, "\(traced.stderr)")
        let reference = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        let referenceCalls = reference.filter { $0.contains("getppid(") }.count

        let tracer = CollectingSession()
        let workload = try TracedWorkload(["leaderexit", "1000"])
        let records = try tracer.trace({ "process.pid:\($0)" }, ["syscalls|functions:getppid+exit_group"], workload: workload)
        let calls = try records.map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)).function }
        #expect(referenceCalls == 1000)
        #expect(calls.filter { $0 == "getppid" }.count == referenceCalls)
        #expect(reference.contains { $0.contains("exit_group(7)") })
        #expect(calls.last == "exit_group", "the call that ends the process: \(calls.suffix(3))")
    }

    @Test("A process whose main thread had ended before the directive started is selected by its name and executable, and its calls reported")
    func selectedAfterTheMainThreadEnded() throws {
        try KernelSupport.require()
        let workload = try TracedWorkload(["leaderexit", "2000", "wait"])
        workload.start()
        try waitUntilZombie(workload.pid)
        let tracer = CollectingSession()
        defer { tracer.session.close() }
        let directive = try tracer.session.add(DirectiveRequest(
            conditions: "process.name:tawon-workload AND process.exe:\(TracedWorkload.binary)",
            tasks: [try TaskSpec.parse("syscalls|functions:getppid+exit_group")]))
        workload.goOn()
        workload.process.waitUntilExit()
        try tracer.session.drain(until: .now + .seconds(2))
        for _ in 0..<10 { try tracer.session.poll(timeoutMilliseconds: 10) }
        let calls = try tracer.collector.all.filter { $0.directiveID == directive.id }
            .map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)).function }
        #expect(workload.process.terminationStatus == 7)
        #expect(calls.filter { $0 == "getppid" }.count == 2000)
        #expect(calls.last == "exit_group")
    }

    /// Waits until the main thread of `pid` has ended (its /proc/PID/stat says Z).
    private func waitUntilZombie(_ pid: UInt32) throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            if stat.split(separator: ")").last?.split(separator: " ").first == "Z" { return }
            usleep(10_000)
        }
        throw TestFailure("the main thread of \(pid) did not end")
    }

    @Test("A read that blocks 3 s is published within about 1 s as unfinished; its result follows with the same call id")
    func blockedCall() throws {
        try KernelSupport.require()
        let tracer = CollectingSession()
        let workload = try TracedWorkload(["block"], executable: Self.binary)
        let directive = try tracer.session.add(DirectiveRequest(
            conditions: "process.pid:\(workload.pid)", tasks: [try TaskSpec.parse("syscalls|functions:read")]))
        defer { tracer.session.remove(directive.id) }
        let start = ContinuousClock.now
        let runner = Thread { workload.go() }
        runner.start()
        var arrivals: [(Duration, SyscallData)] = []
        while ContinuousClock.now < start + .seconds(6), arrivals.count < 2 {
            try tracer.session.poll(timeoutMilliseconds: 10)
            for record in tracer.collector.all.drop(while: CollectingSession.isGoLineRead).dropFirst(arrivals.count) {
                arrivals.append((ContinuousClock.now - start, try JSONDecoder().decode(SyscallData.self, from: Data(record.json.utf8))))
            }
        }
        try #require(arrivals.count == 2, "records: \(arrivals.map(\.1))")
        let (unfinishedAt, unfinished) = arrivals[0]
        let (resumedAt, resumed) = arrivals[1]
        #expect(unfinished.unfinished == true && unfinished.return == nil)
        #expect(unfinishedAt < .milliseconds(1600), "published after \(unfinishedAt)")
        #expect(unfinished.callID != nil && resumed.callID == unfinished.callID)
        #expect(resumed.resumed == true && resumed.return == 1)
        #expect(resumedAt > .milliseconds(2900))
        #expect(resumed.args?[1].value == .text("x"))
        // Each stamped when it was reported: the result when the read returned, 3 s later.
        let stamps = tracer.collector.all.drop(while: CollectingSession.isGoLineRead).prefix(2).map(\.timestampNanoseconds)
        #expect(stamps.count == 2 && stamps[1] > stamps[0] + 2_500_000_000, "timestamps \(stamps)")
    }
}

/// One line of `strace -o`: `name(arguments) = result`.
struct StraceLine {
    let name: String
    let arguments: String
    let result: String

    init?(_ line: Substring) {
        // strace pads the result column: "read(0, "go\n", 8)        = 3".
        guard let open = line.firstIndex(of: "("),
            let equals = line.range(of: #"\)\s+= "#, options: [.regularExpression, .backwards])
        else { return nil }
        name = String(line[..<open])
        arguments = String(line[line.index(after: open)..<equals.lowerBound])
        // "-1 ENOENT (No such file or directory)" compares as "-1 ENOENT".
        result = String(line[equals.upperBound...]).components(separatedBy: " (").first ?? ""
    }

    /// The arguments split at top-level commas (not inside quotes, braces or brackets).
    var argumentList: [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        var quoted = false
        var escaped = false
        for character in arguments {
            if quoted {
                current.append(character)
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { quoted = false }
                continue
            }
            switch character {
            case "\"": quoted = true
            case "{", "[": depth += 1
            case "}", "]": depth -= 1
            case "," where depth == 0:
                parts.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        if !current.isEmpty { parts.append(current.trimmingCharacters(in: .whitespaces)) }
        return parts
    }

    /// A quoted string's content, as tawon shows it; anything else as it is.
    static func unquoted(_ value: String) -> String {
        value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") ? String(value.dropFirst().dropLast()) : value
    }
}

extension SyscallData.Argument.Value {
    var rendered: String {
        switch self {
        case .number(let number): return "\(number)"
        case .text(let text): return text
        }
    }
}

extension SyscallData {
    /// As strace ends a line: `3`, or `-1 ENOENT`.
    var renderedResult: String {
        guard let value = self.return else { return "?" }
        return errno.map { "\(value) \($0)" } ?? "\(value)"
    }
}
