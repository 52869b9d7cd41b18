import Foundation
import Host
import SystemFiles
import Testing

/// What a hostile or careless user sends: each case once killed or hung tawond or tawonctl.
@Suite("Hostile input", .serialized)
struct HostileInputTests {
    let tawonctl = TestSupport.productsDirectory.appending(path: "tawonctl").path

    @Test("Nesting, length and term count are bounded, refused with the column", arguments: [
        (String(repeating: "(", count: 4500) + "process.name:x" + String(repeating: ")", count: 4500),
         "column 4097: the condition is longer than 4096 characters"),
        (String(repeating: "(", count: 100) + "process.name:x" + String(repeating: ")", count: 100),
         "column 65: nested deeper than 64 levels"),
        (String(repeating: "NOT ", count: 10_000) + "process.name:x", "column 4097: the condition is longer than 4096 characters"),
        (String(repeating: "NOT ", count: 1_000) + "process.name:x", "column 257: nested deeper than 64 levels"),
        (Array(repeating: "pod.id:x", count: 300).joined(separator: " OR "), "column 3073: more than 256 terms"),
    ])
    func boundedConditions(condition: String, message: String) {
        do {
            _ = try ConditionParser.parse(condition)
            Issue.record("accepted a condition of \(condition.count) characters")
        } catch {
            #expect(error.description == message)
        }
        // Just inside the bounds: parsed, and evaluated without trouble.
        let deep = String(repeating: "(", count: 64) + "process.name:x" + String(repeating: ")", count: 64)
        #expect((try? ConditionParser.parse(deep)) != nil)
        let wide = (0..<200).map { "process.pid:\($0)" }.joined(separator: " OR ")
        let parsed = try? ConditionParser.parse(wide)
        let process = ProcessSnapshot(pid: 199, ppid: 1, name: "x", cmd: "", exe: "", ns: "", startedAtNanoseconds: 0)
        #expect(parsed.map { ConditionEvaluator.evaluate($0, process: process, capabilities: nil) } == true)
    }

    /// Aliases of aliases: five lines that stand for 100,000 values.
    static let laughs = (["a: &a [" + Array(repeating: "x", count: 10).joined(separator: ",") + "]"]
        + zip("bcde", "abcd").map { "\($0): &\($0) [" + Array(repeating: "*\($1)", count: 10).joined(separator: ",") + "]" })
        .joined(separator: "\n")

    /// Inputs the fuzzer (scripts/fuzz.sh) found: each once gave an error of several lines or trapped.
    @Test("Line breaks, NEL, U+2028 and control bytes in what is quoted back stay escaped on one line", arguments: [
        "N\"\"\"\"\"\n\0\0\"\"\"\"\"\u{91})es\"\"\"z\"\"\"e\"\"\"\u{FF}",
        "process.name:\"a\nb\" AND \"x\ry\"", "\"a\u{85}b\"", "\"a\u{2028}b\"", "pod.name:x \"\u{202E}evil\"",
    ])
    func errorsStayOnOneLine(input: String) {
        var messages: [String] = []
        do { _ = try ConditionParser.parse(input) } catch { messages.append(error.description) }
        do { _ = try TaskSpec.parse("k\(input)|an`;x:1") } catch { messages.append(error.description) }
        do { _ = try HealthTimeout.parse(text: input) } catch { messages.append(error.description) }
        #expect(messages.count == 3)
        for message in messages {
            let breaksLine = message.contains { $0.isNewline }
            let hasFormatCharacter = message.unicodeScalars.contains { $0.properties.generalCategory == .format }
            #expect(!breaksLine && !hasFormatCharacter, "\(message.debugDescription)")
        }
    }

    static let hostileYAML: [(yaml: String, expected: String)] = [
        ("taskDitGrutputseriDksat:\n  - type: file\n?  taskjgLevel: i", "a setting's name must be plain text"),
        ("? {a: 1}\n: 2", "line 1: a setting's name must be plain text"),
        (laughs, "more than 10000 values"),
        ("<<: {logLevel: debug}", "unknown setting '<<'"),
        ("ringBufferMegabytes: 500104558150693933:5", "ringBufferMegabytes: expected"),  // base 60, overflowing
        ("taskDirectories: [" + Array(repeating: "/a", count: 10_001).joined(separator: ",") + "]", "more than 10000 values"),
        ("outputs: " + String(repeating: "[", count: 40) + String(repeating: "]", count: 40), "nested deeper than 16"),
    ]

    @Test("tawond's YAML: a mapping as a key, a merge key, 10,000 values or aliases of aliases are refused, not a trap", arguments: hostileYAML)
    func hostileConfiguration(yaml: String, expected: String) {
        // Aliases themselves are YAML a user may write.
        let aliased = try? DaemonConfiguration.parse("logLevel: &x debug\nsocketGroup: *x", source: "t.yaml")
        #expect(aliased?.socketGroup == "debug")
        do {
            _ = try DaemonConfiguration.parse(yaml, source: "t.yaml")
            Issue.record("accepted \(yaml.prefix(60).debugDescription)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
            #expect(!"\(error)".contains("\n"))
        }
    }

    @Test("A 1 MB syscall name, 17 tasks and a NUL in a condition are refused at once, in one line")
    func hugeNamesAndManyTasks() throws {
        // Through a file: one argument of a program may not exceed 128 KiB.
        let names = try TestSupport.temporaryDirectory("huge-name").appending(path: "names")
        try Data(repeating: UInt8(ascii: "a"), count: 1_000_000).write(to: names)
        let start = ContinuousClock.now
        let result = try TestSupport.run(tawonctl, ["run", "-c", "process.name:x", "-t", "syscalls|functions:@\(names.path)"])
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(result.status == 64)
        #expect(result.stderr.contains("unknown syscall") && result.stderr.contains("1000000 characters"))
        #expect(result.stderr.utf8.count < 600 && result.stderr.split(separator: "\n").count == 1, "\(result.stderr.prefix(300))")

        let tasks = Array(repeating: ["-t", "syscalls|functions:read"], count: 17).flatMap { $0 }
        let many = try TestSupport.run(tawonctl, ["run", "-c", "process.name:x"] + tasks)
        #expect(many.status == 64 && many.stderr.contains("17 tasks; a directive runs at most 16"), "\(many.stderr)")

        let nul = try TestSupport.run(tawonctl, ["run", "-c", "process.name:x\u{1}y", "-t", "syscalls|functions:read"])
        #expect(nul.status == 64 && nul.stderr.contains("column 15: a control character (\\x01)"), "\(nul.stderr)")
        #expect(nul.stderr.split(separator: "\n").count == 1)
    }

    @Test("tawond --help prints its help")
    func tawondHelp() throws {
        let tawond = TestSupport.productsDirectory.appending(path: "tawond").path
        let help = try TestSupport.run(tawond, ["--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE: tawond"))
    }

    @Test("tawonctl run refuses a condition nested 4,500 deep with one line, no crash")
    func deepConditionOnTheCommandLine() throws {
        let deep = String(repeating: "(", count: 4500) + "process.name:x" + String(repeating: ")", count: 4500)
        let result = try TestSupport.run(tawonctl, ["run", "-c", deep, "-t", "syscalls|functions:read"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("longer than 4096 characters"))
        #expect(result.stderr.utf8.count < 400, "the error echoes \(result.stderr.utf8.count) bytes")
    }

    @Test("A health timeout of nan, inf, 1e17, 1e300 or -1 is refused with 400; tawond lives on")
    func healthTimeouts() async throws {
        try KernelSupport.require()
        let daemon = try await RunningDaemon()
        for value in ["nan", "inf", "1e17", "1e300", "-1", "0", "abc"] {
            let result = try TestSupport.run(
                "/usr/bin/curl", ["-s", "-w", "\n%{http_code}", "--unix-socket", daemon.socket, "http://tawond/v1/health?timeout=\(value)"])
            #expect(result.stdout.hasSuffix("\n400"), "timeout=\(value): \(result.stdout)")
            #expect(result.stdout.contains("timeout"), "timeout=\(value): \(result.stdout)")
        }
        let cli = try TestSupport.run(tawonctl, ["health", "--daemon", "--socket", daemon.socket, "--timeout", "nan"])
        #expect(cli.status == 64)
        #expect(cli.stderr.contains("--timeout: nan is not a number of seconds from 0.1 to 60.0"))
        _ = try await daemon.client.status()
        #expect(daemon.stop().status == 0)
    }

    @Test("demoInterval and the demo task's interval past a day are refused; tawond lives on")
    func demoIntervals() async throws {
        try KernelSupport.require()
        let daemon = try await RunningDaemon()
        for task in ["syscalls|functions:chown;demo:cap_chown;demoInterval:10000000000", "demo|simulations:cap_kill;interval:10000000000",
                     "syscalls|functions:chown;demo:cap_chown;demoInterval:-5"] {
            await #expect(throws: (any Error).self) {
                try await daemon.client.createDirective(DirectiveCreation(conditions: "process.name:x", tasks: [task]))
            }
        }
        try await Task.sleep(for: .seconds(3))  // the crash came about 2 s after the directive
        #expect(try await daemon.client.directives().isEmpty)
        #expect(daemon.stop().status == 0)
    }

    @Test("A second tawond leaves the first one's socket alone and says which pid holds it; a stale socket is taken")
    func socketHeldByAnother() async throws {
        try KernelSupport.require()
        let first = try await RunningDaemon()
        let tawond = TestSupport.productsDirectory.appending(path: "tawond").path
        let second = try TestSupport.run(tawond, ["--socket", first.socket, "--config", "/nonexistent-ok"])
        #expect(second.status != 0)
        let again = try TestSupport.run(tawond, ["--socket", first.socket])
        #expect(again.status == 1)
        #expect(again.stderr.contains("is held by a running daemon (pid \(first.pid))"))
        _ = try await first.client.status()  // still there, still answering
        #expect(first.stop().status == 0)

        // What a killed daemon leaves: a socket file nobody listens on.
        let stale = try TestSupport.temporaryDirectory("stale").appending(path: "tawond.sock").path
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(stale.utf8)) }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        close(descriptor)
        let reclaimed = try await RunningDaemon(socket: stale)
        _ = try await reclaimed.client.status()
        #expect(reclaimed.stop().status == 0)

        // A live socket of another kind (a logging daemon's datagram socket) is not stale.
        let datagram = try TestSupport.temporaryDirectory("datagram").appending(path: "log.sock").path
        let listener = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(listener) }
        var datagramAddress = sockaddr_un()
        datagramAddress.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &datagramAddress.sun_path) { $0.copyBytes(from: Array(datagram.utf8)) }
        _ = withUnsafePointer(to: &datagramAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        let refused = try TestSupport.run(tawond, ["--socket", datagram, "--config", "/dev/null"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("is a socket tawond cannot tell is left over"))
        #expect(FileManager.default.fileExists(atPath: datagram))

        // An unknown socket group is refused before anything starts, in one line.
        let group = try TestSupport.run(tawond, ["--socket", stale, "--config", "/dev/null", "--socket-group", "no\nsuch"])
        #expect(group.status == 64)
        #expect(group.stderr == "tawond: socketGroup (--socket-group): no group named 'no\\x0asuch'\n")

        // A socket path too long to bind is refused before anything starts.
        let long = "/tmp/" + String(repeating: "s", count: 99)
        let tooLong = try TestSupport.run(tawond, ["--socket", long, "--config", "/dev/null"])
        #expect(tooLong.status == 64)
        #expect(tooLong.stderr == "tawond: socketPath (--socket): 104 bytes, longer than the 103 bytes tawond can bind a Unix socket at\n")
    }
}

extension HostileInputTests {
    @Test("SIGTERM with three live streams (one not reading) exits 0 within 3 s; programs detached; every line whole")
    func shutdownWithLiveStreams() async throws {
        try KernelSupport.require()
        let directory = try TestSupport.temporaryDirectory("shutdown")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appending(path: "events.jsonl").path
        let daemon = try await RunningDaemon(["--output", "file:\(file)"])
        let flood = try TracedWorkload(["paced", "100000000"])
        let directive = try await daemon.client.createDirective(
            DirectiveCreation(conditions: "process.pid:\(flood.pid)", tasks: ["syscalls|functions:getppid;entryOnly:true"]))
        let ours = LoadedPrograms.heldBy(daemon.pid)  // the daemon's own: other suites load theirs meanwhile
        let url = "http://tawond/v1/directives/\(directive.id)/stream"
        let readers = try (0..<2).map { index in
            try ChildProcess.spawn(
                ["/usr/bin/curl", "-s", "-N", "--unix-socket", daemon.socket, url],
                stdout: .path(directory.appending(path: "stream\(index)").path))
        }
        // The third asks for the stream and never reads a byte of it.
        let silent = try UnixSocketClient(path: daemon.socket)
        try silent.send("GET /v1/directives/\(directive.id)/stream HTTP/1.1\r\nHost: tawond\r\n\r\n")
        let connected = ContinuousClock.now + .seconds(10)
        while try await daemon.client.status().streams.count < 3, ContinuousClock.now < connected {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await daemon.client.status().streams.count == 3)
        let floodThread = Thread { flood.go() }
        floodThread.start()
        try await Task.sleep(for: .seconds(2))

        let stopped = daemon.stop()
        kill(flood.process.processIdentifier, SIGKILL)
        for reader in readers { _ = ChildProcess.wait(reader) }
        #expect(stopped.status == 0, "tawond's log ends: \(SystemFile.text(daemon.log)?.suffix(4000) ?? "")")
        #expect(stopped.seconds < 3, "tawond took \(stopped.seconds) s to exit")
        let deadline = ContinuousClock.now + .seconds(15)  // freed after an RCU-tasks grace period
        while try !LoadedPrograms.tawonIDs().isDisjoint(with: ours), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try LoadedPrograms.tawonIDs().isDisjoint(with: ours))
        for output in [file] + (0..<2).map({ directory.appending(path: "stream\($0)").path }) {
            let text = SystemFile.text(output) ?? ""
            #expect(text.isEmpty || text.hasSuffix("\n"), "\(output) ends mid-line")
            for line in text.split(separator: "\n") {
                #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "\(output): \(line.prefix(80))")
            }
        }
        #expect((SystemFile.text(file) ?? "").count > 1000)
        silent.close()
    }

    @Test("tawonctl run stops on the first SIGTERM while the traced process keeps writing, and says what it wrote")
    func runStopsDuringFlood() throws {
        try KernelSupport.require()
        let flood = try TracedWorkload(["getppid", "200000000"])
        let run = try RunningTracer([tawonctl, "run", "-c", "process.pid:\(flood.pid)", "-t", "syscalls|functions:getppid"])
        let floodThread = Thread { flood.go() }
        floodThread.start()
        sleep(1)
        let start = ContinuousClock.now
        kill(run.pid, SIGTERM)
        let status = run.wait()
        let took = ContinuousClock.now - start
        kill(flood.process.processIdentifier, SIGKILL)
        #expect(status == 0)
        // At most 1.5 s to drain the ring and 1 s for the output, and a loaded host's slack.
        #expect(took < .seconds(4), "tawonctl run took \(took) to stop")
        #expect(run.said.contains("records emitted"))
    }

    @Test("tawonctl run to a full disk (/dev/full) stops, says why, counts what it could not write, and exits 1")
    func runToAFullDisk() throws {
        try KernelSupport.require()
        let flood = try TracedWorkload(["getppid", "200000000"])
        defer { kill(flood.process.processIdentifier, SIGKILL) }
        let run = try RunningTracer(
            [tawonctl, "run", "-c", "process.pid:\(flood.pid)", "-t", "syscalls|functions:getppid"], stdout: .path("/dev/full"))
        let floodThread = Thread { flood.go() }
        floodThread.start()
        let status = run.wait()
        let said = run.said
        #expect(status == 1, "\(said)")
        #expect(said.contains("tawonctl: writing standard output failed: No space left on device"), "\(said)")
        let failed = said.firstMatch(of: /(\d+) \(output write failed\)/).flatMap { Int($0.1) } ?? 0
        #expect(failed > 0, "\(said)")
    }

    @Test("tawonctl run started with standard output closed (>&-) writes nowhere else and fails nothing")
    func runWithStandardOutputClosed() throws {
        try KernelSupport.require()
        let workload = try TracedWorkload(["paced", "1000"])
        let run = try RunningTracer(
            ["/bin/sh", "-c", "exec \"$0\" run -c process.pid:\(workload.pid) -t 'syscalls|functions:getppid' >&-", tawonctl])
        workload.go()
        workload.process.waitUntilExit()
        sleep(1)
        kill(run.pid, SIGINT)
        let status = run.wait()
        let said = run.said
        #expect(status == 0, "\(said)")
        #expect(said.contains("1000 records emitted"), "\(said)")
        #expect(said.contains(" 0 (output write failed)"), "\(said)")
    }

    @Test("tawonctl run stopped with a backlog in the ring reads what it can and counts the rest: nothing vanishes")
    func runCountsWhatItLeavesUnread() throws {
        try KernelSupport.require()
        let calls = 600_000
        let workload = try TracedWorkload(["getppid", "\(calls)"])
        let run = try RunningTracer(
            [tawonctl, "run", "--ring-buffer-mb", "256", "-c", "process.pid:\(workload.pid)", "-t", "syscalls|functions:getppid"])
        // The reader is stopped while the calls are made: they all wait in the ring.
        kill(run.pid, SIGSTOP)
        workload.go()
        kill(run.pid, SIGCONT)
        kill(run.pid, SIGTERM)
        #expect(run.wait() == 0)
        let summary = run.said
        func count(_ pattern: String) -> Int? {
            (try? Regex(pattern).firstMatch(in: summary)).flatMap { $0.output[1].substring }.flatMap { Int($0) }
        }
        let written = try #require(count(#"(\d+) records emitted"#), "\(summary)")
        let ringFull = try #require(count(#"(\d+) \(ring buffer full\)"#))
        let unread = try #require(count(#"(\d+) \(unread at exit\)"#))
        #expect(written + ringFull + unread >= calls, "\(summary)")
    }
}

/// A bare client of a Unix socket, for a peer that misbehaves (sends and never reads).
final class UnixSocketClient {
    private var descriptor: Int32

    init(path: String) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw TestFailure("connect \(path): \(String(cString: strerror(errno)))") }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard write(descriptor, bytes, bytes.count) == bytes.count else { throw TestFailure("write failed") }
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    deinit { close() }
}

extension HostileInputTests {
    @Test("functions:@/dev/zero is refused past 1 MiB; a NUL byte in a name list is refused with its place")
    func functionLists() throws {
        let start = ContinuousClock.now
        let zero = try TestSupport.run(tawonctl, ["run", "-c", "process.name:x", "-t", "syscalls|functions:@/dev/zero"])
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(zero.status == 64)
        #expect(zero.stderr.contains("holds more than 1 MiB"))
        let directory = try TestSupport.temporaryDirectory("names")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appending(path: "names").path
        try Data("read+write\0open".utf8).write(to: URL(fileURLWithPath: file))
        let nul = try TestSupport.run(tawonctl, ["run", "-c", "process.name:x", "-t", "syscalls|functions:@\(file)"])
        #expect(nul.status == 64)
        #expect(nul.stderr.contains("a NUL byte at byte 11"))
    }

    @Test("meta selectors: an empty one and none with others are refused")
    func metaSelectors() throws {
        let syscalls = try #require(BuiltTasks.catalog.task(named: "syscalls"))
        for (meta, reason) in [("process.pid+", "selector 2 of 2 is empty"), ("none+process", "'none' cannot be combined")] {
            do {
                _ = try TaskInstance(
                    task: syscalls, directiveID: "d", options: [("functions", "read"), ("meta", meta)],
                    services: RecordCollector().services())
                Issue.record("meta:\(meta) was accepted")
            } catch {
                #expect("\(error)".contains(reason), "meta:\(meta): \(error)")
            }
        }
        #expect(throws: TaskInstanceError("syscalls: option 'functions': a NUL byte at byte 5")) {
            try TaskInstance(task: syscalls, directiveID: "d", options: [("functions", "read\0write")], services: RecordCollector().services())
        }
    }

    @Test("tawonctl run: --buffer-limit out of 1-4095 and a condition starting with '-' get their own errors")
    func commandLineValues() throws {
        for limit in ["0", "4096", "4294967295", "-1"] {
            let result = try TestSupport.run(tawonctl, ["run", "--buffer-limit", limit, "-c", "process.name:x", "-t", "syscalls|functions:read"])
            #expect(result.status == 64, "--buffer-limit \(limit)")
            #expect(result.stderr.contains("--buffer-limit"), "--buffer-limit \(limit): \(result.stderr)")
        }
        // A negative number is a value out of range, not a missing one; the error names the flag whole.
        let tawond = TestSupport.productsDirectory.appending(path: "tawond").path
        for (program, arguments, message) in [
            (tawonctl, ["run", "--order-window-ms", "-1"], "--order-window-ms: -1 is not from 0 to 1000"),
            (tawonctl, ["run", "--call-deadline-ms", "-5"], "--call-deadline-ms: -5 is not from 1 to 60000"),
            (tawond, ["--order-window-ms", "-1"], "orderWindowMilliseconds (--order-window-ms): -1 is not from 0 to 1000"),
            (tawond, ["--call-deadline-ms", "0"], "callDeadlineMilliseconds (--call-deadline-ms): 0 is not from 1 to 60000"),
            (tawond, ["--stream-buffer", "-3"], "streamBufferRecords (--stream-buffer): -3 is not from 1 to 1048576"),
        ] {
            let result = try TestSupport.run(program, arguments)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let dash = try TestSupport.run(tawonctl, ["run", "-c", "-process.name:x", "-t", "syscalls|functions:read"])
        #expect(dash.status == 64)
        #expect(!dash.stderr.contains("Missing value"))
        #expect(dash.stderr.contains("-process.name"), "\(dash.stderr)")
    }

    @Test("A command line that does not parse (a malformed number, an unknown option, a missing value) gets one line and 64, from tawonctl and tawond; --help still prints help")
    func unparsableCommandLines() throws {
        let tawond = TestSupport.productsDirectory.appending(path: "tawond").path
        let cases: [(String, [String], String)] = [
            (tawonctl, ["run", "--buffer-limit", "abc", "-c", "process.name:x", "-t", "syscalls|functions:read"], "'abc'"),
            (tawonctl, ["run", "--order-window-ms", "1e9"], "'1e9'"),
            (tawonctl, ["run", "--duration", "3"], "--duration"),
            (tawonctl, ["d", "sub", "-c"], "-c"),
            (tawonctl, ["no-such-command"], "no-such-command"),
            (tawond, ["--ring-buffer-mb", "nan", "--socket", "/tmp/tawon-unparsable.sock"], "'nan'"),
            (tawond, ["--call-deadline-ms", "\u{1}\n2"], "--call-deadline-ms"),
        ]
        for (program, arguments, named) in cases {
            let result = try TestSupport.run(program, arguments)
            let lines = result.stderr.split(separator: "\n")
            #expect(result.status == 64, "\(arguments)")
            #expect(lines.count == 1 && lines[0].contains(named), "\(arguments): \(result.stderr)")
        }
        let help = try TestSupport.run(tawonctl, ["run", "--help"])
        #expect(help.status == 0 && help.stdout.contains("--buffer-limit"))
    }

    @Test("tawonctl fails within 2 s, saying why, when no daemon answers; an unknown route gets a JSON reason")
    func unreachableDaemonAndUnknownRoutes() async throws {
        try KernelSupport.require()
        let start = ContinuousClock.now
        let missing = try TestSupport.run(tawonctl, ["status", "--socket", "/nonexistent/tawond.sock"])
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(missing.status == 1)
        #expect(missing.stderr == "tawonctl: cannot reach tawond at /nonexistent/tawond.sock: No such file or directory\n", "\(missing.stderr)")

        let daemon = try await RunningDaemon()
        let unknown = try TestSupport.run(
            "/usr/bin/curl", ["-s", "-w", "\n%{http_code}", "--unix-socket", daemon.socket, "http://tawond/v1/nothing-here"])
        #expect(unknown.stdout.hasSuffix("\n404"))
        #expect(unknown.stdout.contains("no resource GET") && unknown.stdout.contains("nothing-here"), "\(unknown.stdout)")
        // A stream in a format that does not exist is refused, not served as JSON.
        let created = try TestSupport.run("/usr/bin/curl", [
            "-s", "--unix-socket", daemon.socket, "-H", "Content-Type: application/json", "-d",
            #"{"conditions": "process.name:nothing-is-named-this", "tasks": ["syscalls|functions:read"]}"#, "http://tawond/v1/directives"])
        let id = try #require(try JSONDecoder().decode(DirectiveSummary.self, from: Data(created.stdout.utf8)).id)
        for format in ["xml", "COMPACT", ""] {
            let stream = try TestSupport.run(
                "/usr/bin/curl", ["-s", "-m", "3", "-w", "\n%{http_code}", "--unix-socket", daemon.socket, "http://tawond/v1/directives/\(id)/stream?format=\(format)"])
            #expect(stream.stdout.hasSuffix("\n400") && stream.stdout.contains("expected json or compact"), "format=\(format): \(stream.stdout)")
        }
        // Forbidden by the socket file's mode: fails at once too.
        let forbidden = try TestSupport.run(
            "/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", tawonctl, "status", "--socket", daemon.socket])
        #expect(forbidden.status == 1)
        #expect(forbidden.stderr.contains("Permission denied"), "\(forbidden.stderr)")
        #expect(daemon.stop().status == 0)
    }

    @Test("tawonctl run without the privilege to load BPF exits 1 with the reason, not the usage text")
    func runWithoutPrivilege() throws {
        try KernelSupport.require()
        let result = try TestSupport.run(
            "/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", tawonctl, "run", "-c", "process.name:x", "-t", "syscalls|functions:read"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot start tracing"))
        #expect(!result.stderr.contains("USAGE"))
    }
}
