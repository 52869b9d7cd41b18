import DemoSimulation
import Foundation
import Host
import Testing

@Suite("The demo and the health check (kernel)", .serialized)
struct DemoAndHealthTests {
    let tawonctl = TestSupport.productsDirectory.appending(path: "tawonctl").path
    let simulator = TestSupport.productsDirectory.appending(path: "tawon-simulate").path

    @Test("tawonctl health exits 0 and every simulation's calls came back decoded")
    func healthy() throws {
        try KernelSupport.require()
        let result = try TestSupport.run(tawonctl, ["health", "--json"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let report = try JSONDecoder().decode(HealthCheck.Report.self, from: Data(result.stdout.split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.hasPrefix("healthy") }.joined(separator: "\n").utf8))
        #expect(report.rows.map(\.simulation) == DemoSimulator.simulations.map(\.name))
        for row in report.rows {
            #expect(row.seen == row.expected, "\(row.simulation)")
            #expect(row.outcome == "ok", "\(row.simulation)")
            #expect(row.latencyMilliseconds != nil)
        }
        let table = try TestSupport.run(tawonctl, ["health"])
        #expect(table.status == 0)
        #expect(table.stdout.hasPrefix("SIMULATION"))
        #expect(table.stdout.contains("healthy: all 12 simulated syscalls came back decoded"))
    }

    @Test("tawonctl health exits non-zero with the reason when BPF cannot be loaded")
    func unhealthyWithoutPrivileges() throws {
        try KernelSupport.require()
        let result = try TestSupport.run(
            "/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", tawonctl, "health"])
        #expect(result.status == 1)
        #expect(result.stderr.contains(
            "tawonctl health: unhealthy: cannot start tracing: bpf_object__load (process) failed: Operation not permitted"))
    }

    @Test("demo:all shows every simulation's calls decoded, and stops with its directive")
    func demoOptionRunsAndStops() throws {
        try KernelSupport.require()
        let functions = DemoSimulator.functions(of: DemoSimulator.simulations.map(\.name))
        let tracer = CollectingSession()
        let directive = try tracer.session.add(DirectiveRequest(
            conditions: "process.name:tawon-simulate",
            tasks: [try TaskSpec.parse("syscalls|functions:\(functions.joined(separator: "+"));demo:all;demoInterval:1")]))
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline { try tracer.session.poll(timeoutMilliseconds: 20) }
        tracer.session.remove(directive.id)

        let calls = try tracer.collector.all.map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)) }
        #expect(Set(calls.map(\.function)) == Set(functions))
        let chown = try #require(calls.first { $0.function == "chown" })
        if case .text(let path) = chown.args?.first?.value { #expect(path.hasPrefix("/tmp/tawon-simulate-")) } else {
            Issue.record("chown's path was not decoded")
        }
        #expect(calls.first { $0.function == "socket" }?.args?[1].value == .text("SOCK_RAW"))
        #expect(runningSimulators().isEmpty, "a demo process outlived its directive")
    }

    @Test("The demo task reports each simulation it ran")
    func demoTask() throws {
        try KernelSupport.require()
        let tracer = CollectingSession()
        let directive = try tracer.session.add(DirectiveRequest(
            conditions: "process.name:nothing-by-this-name", tasks: [try TaskSpec.parse("demo|simulations:cap_kill+cap_chown;interval:1")]))
        let deadline = ContinuousClock.now + .milliseconds(500)
        while ContinuousClock.now < deadline { try tracer.session.poll(timeoutMilliseconds: 20) }
        tracer.session.remove(directive.id)
        let records = tracer.collector.all.filter { $0.taskName == "demo" }
        let outcomes = try records.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.json.utf8)) as? [String: [String: Any]])["demo"]
        }
        #expect(outcomes.compactMap { $0?["simulation"] as? String }.prefix(2) == ["cap_chown", "cap_kill"])
        #expect(outcomes.allSatisfy { $0?["ok"] as? Bool == true })
        #expect(runningSimulators().isEmpty)
    }

    /// Processes running the simulator binary now.
    private func runningSimulators() -> [UInt32] {
        ProcFS.allPIDs().filter {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/exe")) == simulator
        }
    }
}
