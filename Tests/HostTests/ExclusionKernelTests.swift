import Foundation
import Testing

@testable import Host

/// Processes excluded from tracing (live-stream readers) for as long as they live.
@Suite("Excluded readers (kernel)", .serialized)
struct ExclusionKernelTests {
    static func sleeper() throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sleep")
        process.arguments = ["30"]
        try process.run()
        return process
    }

    @Test("A reader that dies while its stream is quiet stops being excluded within about a second, so its pid's next process is traced; a live one stays excluded")
    func exclusionEndsWithTheProcess() throws {
        try KernelSupport.require()
        let tracer = CollectingSession()
        defer { tracer.session.close() }
        let (dying, living) = (try Self.sleeper(), try Self.sleeper())
        defer { kill(living.processIdentifier, SIGKILL) }
        let (dyingPID, livingPID) = (UInt32(dying.processIdentifier), UInt32(living.processIdentifier))
        _ = try tracer.session.add(DirectiveRequest(conditions: "process.name:sleep", tasks: [try TaskSpec.parse("syscalls|functions:read")]))
        let dispatcher = tracer.session.dispatcher
        dispatcher.exclude(dyingPID)
        dispatcher.exclude(livingPID)
        try tracer.session.poll(timeoutMilliseconds: 10)
        #expect(dispatcher.isExcluded(dyingPID) && dispatcher.isExcluded(livingPID))
        kill(dying.processIdentifier, SIGKILL)
        dying.waitUntilExit()
        let deadline = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < deadline, dispatcher.isExcluded(dyingPID) { try tracer.session.poll(timeoutMilliseconds: 50) }
        #expect(!dispatcher.isExcluded(dyingPID))
        #expect(dispatcher.isExcluded(livingPID), "still alive: still excluded")
    }

    @Test("A process excluded before the host has read its exec record: its calls from before the exclusion are published; none from after, nor the read it was blocked in")
    func callsBeforeTheExclusionArePublished() throws {
        try KernelSupport.require()
        let tracer = CollectingSession()
        defer { tracer.session.close() }
        let directive = try tracer.session.add(
            DirectiveRequest(conditions: "process.name:tawon-workload", tasks: [try TaskSpec.parse("syscalls|functions:getppid+read;meta:process.pid")]))
        // Exec'd now, and nothing is read until both halves are in the ring: as on a host that
        // lags behind a stream reader's request.
        let workload = try TracedWorkload(["halves", "1000"])
        workload.start()
        #expect(workload.waitForOutput().hasPrefix("half"))
        usleep(100_000)  // blocked in its read of the second line by now, as a reader waits for its stream
        tracer.session.dispatcher.exclude(workload.pid)
        workload.goOn()
        workload.process.waitUntilExit()
        try tracer.session.drain(until: .now + .seconds(10))
        // Past the call deadline: a blocked call still held would be published as unfinished by now.
        let deadline = ContinuousClock.now + .milliseconds(1500)
        while ContinuousClock.now < deadline { try tracer.session.poll(timeoutMilliseconds: 50) }
        // Other suites' workloads, running meanwhile, have the same name.
        let published = try tracer.collector.all.filter { $0.directiveID == directive.id }
            .map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)) }
            .filter { $0.process?.pid == workload.pid }
        #expect(published.filter { $0.function == "getppid" }.count == 1000, "\(tracer.session.counters())")
        #expect(!published.contains { $0.unfinished == true }, "\(published.filter { $0.function == "read" })")
    }
}
