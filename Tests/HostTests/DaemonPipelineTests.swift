import Foundation
import Host
import Synchronization
import Testing

/// The daemon's one pipeline: its health check runs in it, and directives are created in it
/// atomically.
@Suite("tawond's pipeline (kernel)", .serialized)
struct DaemonPipelineTests {
    @Test("GET /v1/health runs in the daemon's own pipeline: no second copy of the programs is loaded")
    func healthUsesTheRunningPipeline() async throws {
        try KernelSupport.require()
        let daemon = try await RunningDaemon()
        _ = try await daemon.client.createDirective(
            DirectiveCreation(conditions: "process.name:nothing-by-this-name", tasks: ["syscalls|functions:read"]))
        let held = LoadedPrograms.heldBy(daemon.pid)
        #expect(held.count == 10)  // the process program's fork, exec, exit, rename; sys_enter, sys_exit, sched_switch, sched_prepare_exec; cgroup mkdir, rmdir

        // Sampled on a thread of its own: the test's concurrency threads may all be busy.
        let samples = Mutex<[Set<Int>]>([])
        let done = Atomic<Bool>(false)
        let sampler = Thread {
            while !done.load(ordering: .relaxed) {
                let now = LoadedPrograms.heldBy(daemon.pid)
                samples.withLock { $0.append(now) }
                usleep(5_000)
            }
        }
        sampler.start()
        let report = try await daemon.client.health(timeout: 5)
        done.store(true, ordering: .relaxed)

        #expect(report.healthy, "\(report.failure ?? "")")
        #expect(samples.withLock { $0.count } > 3)
        #expect(samples.withLock { $0.allSatisfy { $0 == held } }, "programs held while health ran: \(samples.withLock { Set($0) })")
        // The check's temporary directive is gone, the user's is still there.
        #expect(try await daemon.client.directives().count == 1)
        #expect(daemon.stop().status == 0)
    }

    @Test("200 concurrent creates give exactly as many directives as 201 answers, each id real")
    func concurrentCreates() async throws {
        try KernelSupport.require()
        let daemon = try await RunningDaemon()
        let client = daemon.client
        let created = await withTaskGroup(of: String?.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try? await client.createDirective(
                        DirectiveCreation(conditions: "process.name:nobody-\(index)", tasks: ["syscalls|functions:read"])
                    ).id
                }
            }
            var ids: [String] = []
            for await id in group { if let id { ids.append(id) } }
            return ids
        }
        let listed = try await client.directives().map(\.id)
        #expect(created.count == Dispatcher.maximumDirectives)  // the rest refused: no slot left
        #expect(Set(created) == Set(listed))
        #expect(listed.count == created.count)
        #expect(daemon.stop().status == 0)
    }
}
