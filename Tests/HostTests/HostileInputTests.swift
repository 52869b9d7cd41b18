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
        #expect(again.status == 64)
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
    }
}
