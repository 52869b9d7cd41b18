import Foundation
import Host
import SystemFiles
import Testing

/// Order across CPUs, a slow reader that costs only itself, and readers that are not traced.
@Suite("Order, bounded queues and stream readers (kernel)", .serialized)
struct ThroughputKernelTests {
    let tawonctl = TestSupport.productsDirectory.appending(path: "tawonctl").path

    @Test(
        "Two processes pinned to two CPUs call at once: their records come out in timestamp order, with tasks on the polling thread or a second one",
        arguments: [TaskThreading.never, .always])
    func twoCPUsInTimestampOrder(taskThreading: TaskThreading) throws {
        try KernelSupport.require()
        try #require(ProcessInfo.processInfo.activeProcessorCount >= 2)
        let calls = 200_000
        // A producer preempted between taking a record's time and reserving its place delays
        // it by a scheduler tick; a reader that keeps up (tasks on their own thread) releases
        // records soon after the window, so the window is set above a tick here.
        let tracer = CollectingSession(taskThreading: taskThreading, orderWindow: .milliseconds(10))
        // The two keep within a few thousand calls of each other through a shared file, so they
        // overlap even when a loaded machine runs one of them late.
        let directory = try TestSupport.temporaryDirectory("pinned")
        defer { try? FileManager.default.removeItem(at: directory) }
        let progress = directory.appending(path: "progress").path
        try Data(count: 2 * MemoryLayout<Int>.size).write(to: URL(fileURLWithPath: progress))
        let first = try TracedWorkload(["pinned", "0", "\(calls)", progress, "0"])
        let second = try TracedWorkload(["pinned", "1", "\(calls)", progress, "1"])
        let directive = try tracer.session.add(DirectiveRequest(
            conditions: "process.pid:\(first.pid) OR process.pid:\(second.pid)",
            tasks: [try TaskSpec.parse("syscalls|functions:getppid")]))
        first.start()
        second.start()
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, tracer.collector.all.count < 2 * calls {
            try tracer.session.poll(timeoutMilliseconds: 20)
        }
        tracer.session.remove(directive.id)
        first.process.waitUntilExit()
        second.process.waitUntilExit()
        let events = tracer.collector.all.compactMap(\.event)
        #expect(events.count == 2 * calls)
        #expect(Set(events.map(\.cpu)) == [0, 1])
        // They ran at once: the output alternates between the CPUs, many times.
        let alternations = zip(events, events.dropFirst()).filter { $0.cpu != $1.cpu }.count
        #expect(alternations > 10, "the two processes did not overlap (\(alternations) alternations)")
        let backwards = zip(events, events.dropFirst()).filter { $1.timestampNanoseconds < $0.timestampNanoseconds }
        #expect(backwards.isEmpty, "\(backwards.count) records before an older one, first: \(backwards.first.map { "\($0.0.timestampNanoseconds) then \($0.1.timestampNanoseconds)" } ?? "")")
        let counters = tracer.session.counters()
        #expect(counters.lateForOrder == 0 && counters.kernel.ringBufferFull == 0)
        tracer.session.close()
    }

    @Test("Two pinned processes that block briefly, ordered with a window as long as the call deadline: every call comes whole and in timestamp order; only a call blocked past the deadline is published unfinished, then resumed")
    func blockedCallsInTimestampOrder() throws {
        try KernelSupport.require()
        try #require(ProcessInfo.processInfo.activeProcessorCount >= 2)
        let calls = 50_000, sleepEvery = 50
        let tracer = CollectingSession(orderWindow: .milliseconds(1000), callDeadline: .milliseconds(1000))
        defer { tracer.session.close() }
        let directory = try TestSupport.temporaryDirectory("pinned-blocking")
        defer { try? FileManager.default.removeItem(at: directory) }
        let progress = directory.appending(path: "progress").path
        try Data(count: 2 * MemoryLayout<Int>.size).write(to: URL(fileURLWithPath: progress))
        // A sleep of 1.5 s under a name of its own: blocked past the deadline.
        let nap = directory.appending(path: "tawon-nap").path
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: nap)
        let first = try TracedWorkload(["pinned", "0", "\(calls)", progress, "0", "\(sleepEvery)"])
        let second = try TracedWorkload(["pinned", "1", "\(calls)", progress, "1", "\(sleepEvery)"])
        let directive = try tracer.session.add(DirectiveRequest(
            conditions: "process.pid:\(first.pid) OR process.pid:\(second.pid) OR process.name:tawon-nap",
            tasks: [try TaskSpec.parse("syscalls|functions:getppid+clock_nanosleep")]))
        let napper = Process()
        napper.executableURL = URL(fileURLWithPath: nap)
        napper.arguments = ["1.5"]
        try napper.run()
        first.start()
        second.start()
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, napper.isRunning || first.process.isRunning || second.process.isRunning {
            try tracer.session.poll(timeoutMilliseconds: 20)
        }
        // Past the window, everything read is handed on.
        let settled = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < settled { try tracer.session.poll(timeoutMilliseconds: 20) }
        let counters = tracer.session.counters()
        tracer.session.remove(directive.id)

        let events = tracer.collector.all.filter { $0.directiveID == directive.id }.compactMap(\.event)
        let pinned = events.filter { $0.pid == first.pid || $0.pid == second.pid }
        #expect(pinned.filter { $0.functionName == "getppid" }.count == 2 * calls)
        let sleeps = pinned.filter { $0.functionName == "clock_nanosleep" }
        #expect(sleeps.count == 2 * calls / sleepEvery)
        let unfinished = sleeps.filter { $0.phase != .exit || $0.callID != 0 }
        #expect(unfinished.count == 0, "\(unfinished.count) brief sleeps were published unfinished, as if blocked past the deadline")
        let napped = events.filter { $0.comm == "tawon-nap" && $0.functionName == "clock_nanosleep" }
        #expect(napped.map(\.phase) == [.entry, .exit], "\(napped.map { ($0.phase, $0.callID) })")
        #expect(napped.count == 2 && napped[0].callID != 0 && napped[0].callID == napped[1].callID)
        // The unfinished record carries the moment the call was made: it is the one out of order.
        let ordered = events.filter { !($0.phase == .entry && $0.callID != 0) }
        let backwards = zip(ordered, ordered.dropFirst()).filter { $1.timestampNanoseconds < $0.timestampNanoseconds }
        #expect(backwards.isEmpty, "\(backwards.count) records before an older one, first: \(backwards.first.map { "\($0.0.functionName) \($0.0.timestampNanoseconds) then \($0.1.functionName) \($0.1.timestampNanoseconds)" } ?? "")")
        #expect(counters.lateForOrder == 0 && counters.kernel.ringBufferFull == 0, "\(counters)")
    }

    @Test("A poll with records held for the order waits for new ones rather than spinning: the kernel wakes it once the ring is handed back")
    func pollWaitsWhileRecordsAreHeld() throws {
        try KernelSupport.require()
        // A long window holds the records for many polls; each poll may wait up to 50 ms.
        let tracer = CollectingSession(orderWindow: .milliseconds(400))
        defer { tracer.session.close() }
        let workload = try TracedWorkload(["getppid", "100"])
        let directive = try tracer.session.add(
            DirectiveRequest(conditions: "process.pid:\(workload.pid)", tasks: [try TaskSpec.parse("syscalls|functions:getppid")]))
        workload.go()
        var polls = 0
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, tracer.collector.all.filter({ $0.directiveID == directive.id }).count < 100 {
            try tracer.session.poll(timeoutMilliseconds: 50)
            polls += 1
        }
        #expect(tracer.collector.all.filter { $0.directiveID == directive.id }.count == 100)
        // About 400 / 50 polls; a poll that returned at once while records were held would make thousands.
        #expect(polls < 100, "\(polls) polls to hand on 100 records held for 400 ms")
    }

    @Test(
        "A stream reader that stops reading for 5 s while 1M calls flow loses only its own records; the kernel and the other outputs lose none",
        .serialized, arguments: [false, true])
    func slowStreamReaderCostsOnlyItself(ownsDirective: Bool) async throws {
        try KernelSupport.require()
        let calls = 1_000_000
        let directory = try TestSupport.temporaryDirectory("slow-reader")
        defer { try? FileManager.default.removeItem(at: directory) }
        let compact = directory.appending(path: "all.log").path
        let daemon = try await RunningDaemon(["--ring-buffer-mb", "256", "--output", "file:\(compact):compact"])
        let workload = try TracedWorkload(["getppid", "\(calls)"])
        let directive = try await daemon.client.createDirective(DirectiveCreation(
            conditions: "process.pid:\(workload.pid)", tasks: ["syscalls|functions:getppid"], ownedByStream: ownsDirective))

        // A reader that reads nothing: its pipe, then its socket, then its stream buffer fill.
        // Owning the directive (as `tawonctl d sub` does) gives the stream heartbeats too.
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        reader.arguments = [
            "-sN", "--unix-socket", daemon.socket,
            "http://tawond/v1/directives/\(directive.id)/stream" + (ownsDirective ? "?removeOnClose=true" : ""),
        ]
        let unread = Pipe()
        reader.standardOutput = unread
        try reader.run()
        defer { if reader.isRunning { reader.terminate() } }
        try await waitUntil { try await daemon.client.status().streams.count == 1 }
        let stalled = ContinuousClock.now
        try await TestSupport.onOwnThread { workload.go() }
        // A debug build's daemon handles some 12,000 records a second, fewer beside the other suites.
        try await waitUntil(seconds: 300) { try await daemon.client.status().events.emitted >= UInt64(calls) }
        let rest = Duration.seconds(5) - (ContinuousClock.now - stalled)
        if rest > .zero { try await Task.sleep(for: rest) }
        _ = unread.fileHandleForReading.availableData  // it reads again, a little
        let status = try await daemon.client.status()

        #expect(status.drops.ringBufferFull == 0)
        #expect(status.drops.sinkQueueFull == 0)
        let stream = try #require(status.streams.first)
        #expect(stream.dropped > 0, "the stalled reader lost nothing: sent \(stream.sent)")
        #expect(stream.sent + stream.dropped == UInt64(calls), "sent \(stream.sent), dropped \(stream.dropped)")
        // Sent is what left the reader's bounded buffer: no more than the socket and pipe hold.
        #expect(stream.sent < UInt64(calls / 10), "the daemon held \(stream.sent) lines for a reader that read none")
        #expect(status.drops.streamReaders == stream.dropped)
        try await waitUntil(seconds: 30) {
            (try? FileManager.default.attributesOfItem(atPath: compact)[.size] as? Int).map { $0 > calls * 20 } ?? false
        }
        reader.terminate()
        #expect(daemon.stop().status == 0)
        let lines = try String(contentsOfFile: compact, encoding: .utf8).split(separator: "\n")
        #expect(lines.filter { $0.contains("getppid(") }.count == calls)
    }

    @Test("The seed's first example, streamed with d sub as root, has no record of the streaming tawonctl itself")
    func streamReaderIsNotTraced() async throws {
        try KernelSupport.require()
        let daemon = try await RunningDaemon()
        let output = daemon.directory.appending(path: "sub.out").path
        let subscriber = try ChildProcess.spawn(
            [tawonctl, "d", "sub", "--socket", daemon.socket, "-c", "process.capeff:CAP_NET_RAW OR process.capamb:CAP_NET_RAW",
             "-t", "syscalls|functions:read+write"], stdout: .path(output))
        try await waitUntil { try await daemon.client.status().streams.count == 1 }
        let workload = try TracedWorkload(["write"])
        workload.go()
        // Every record the subscriber writes out would be a write of its own, were it traced.
        try await Task.sleep(for: .seconds(2))
        kill(subscriber, SIGINT)
        #expect(ChildProcess.wait(subscriber) == 0)
        #expect(daemon.stop().status == 0)

        let pids = (SystemFile.text(output) ?? "").split(separator: "\n").compactMap { line -> Int? in
            guard let envelope = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let data = (envelope["data"] as? [[String: Any]])?.first?["data"] as? [String: Any]
            else { return nil }
            return (data["process"] as? [String: Any])?["pid"] as? Int
        }
        let workloadRecords = pids.filter { $0 == Int(workload.pid) }.count
        let ownRecords = pids.filter { $0 == Int(subscriber) }.count
        #expect(workloadRecords > 0, "the workload's write is missing from \(pids.count) records")
        #expect(ownRecords == 0, "records of the streaming tawonctl itself, of \(pids.count)")
    }
}
