import Foundation
import Logging
import Synchronization
import Testing

@testable import Host

/// The tasks' second thread: when it is used, that it keeps the order and the process facts of
/// each event, and that moving to it and back under a real flood loses nothing silently.
@Suite("Tasks on a second thread")
struct TaskThreadTests {
    @Test("Engaged at a half-full ring, back at a sixteenth; always and never hold")
    func policy() {
        let behind = TaskThreading.whenBehind
        #expect(!behind.engages(ringFill: 0, engagedNow: false))
        #expect(!behind.engages(ringFill: 0.49, engagedNow: false))
        #expect(behind.engages(ringFill: 0.5, engagedNow: false))
        #expect(behind.engages(ringFill: 1, engagedNow: false))
        // Engaged, it stays so until the reader has nearly caught up.
        #expect(behind.engages(ringFill: 0.2, engagedNow: true))
        #expect(!behind.engages(ringFill: 1.0 / 16, engagedNow: true))
        #expect(!behind.engages(ringFill: 0, engagedNow: true))
        #expect(TaskThreading.always.engages(ringFill: 0, engagedNow: false))
        #expect(!TaskThreading.never.engages(ringFill: 1, engagedNow: true))
    }

    static func snapshot(exe: String, generation: UInt64) -> ProcessSnapshot {
        var process = ProcessSnapshot(
            pid: 7, ppid: 1, name: (exe as NSString).lastPathComponent, cmd: exe, exe: exe, ns: "", startedAtNanoseconds: 0)
        process.generation = generation
        return process
    }

    static func getppid(generation: UInt64, at timestamp: UInt64 = 1) -> DeliverableEvent {
        DeliverableEvent(
            timestampNanoseconds: timestamp, cpu: 0, pid: 7, tid: 7, functionID: 110, functionName: "getppid", comm: "sh",
            processGeneration: generation, phase: .exit, returnValue: 1)
    }

    /// A syscalls instance whose host answers process_info with `live` (what the model holds now).
    static func instance(live: ProcessSnapshot, collector: RecordCollector) throws -> TaskInstance {
        let syscalls = try #require(BuiltTasks.catalog.task(named: "syscalls"))
        var services = collector.services()
        services.processInfo = { pid in pid == live.pid ? live : nil }
        let instance = try TaskInstance(task: syscalls, directiveID: "d", options: [("functions", "getppid")], services: services)
        try instance.start()
        return instance
    }

    @Test("An event delivered late is described with its process as it was when the event was decided")
    func pinnedProcess() throws {
        let collector = RecordCollector()
        // The model has moved on: the process exec'd /usr/bin/new since.
        let instance = try Self.instance(live: Self.snapshot(exe: "/usr/bin/new", generation: 9), collector: collector)
        let decided = ProcessModel.Entry(Self.snapshot(exe: "/usr/bin/old", generation: 8))
        #expect(instance.deliver(Self.getppid(generation: 8), process: decided))
        #expect(instance.deliver(Self.getppid(generation: 9), process: nil))
        instance.stop()

        let exes = try collector.all.map { record in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(record.json.utf8)) as? [String: Any])
            return (object["process"] as? [String: Any])?["exe"] as? String
        }
        #expect(exes == ["/usr/bin/old", "/usr/bin/new"])
    }

    @Test("The lane delivers batches in the order submitted, flushes after each, and waits for the last")
    func laneOrder() throws {
        let collector = RecordCollector()
        let instance = try Self.instance(live: Self.snapshot(exe: "/bin/sh", generation: 1), collector: collector)
        let flushes = Atomic<Int>(0)
        let lane = DeliveryLane(maximumBatches: 1, afterBatch: { flushes.add(1, ordering: .relaxed) }, failed: { _ in })
        let batches = 5, perBatch = 1000
        for batch in 0..<batches {
            lane.submit((0..<perBatch).map { index in
                DeliveryLane.Delivery(
                    instance: instance, event: Self.getppid(generation: 1, at: UInt64(batch * perBatch + index + 1)), process: nil)
            })
        }
        lane.waitUntilIdle()
        #expect(lane.isIdle)
        #expect(flushes.load(ordering: .relaxed) == batches)
        #expect(collector.all.map(\.timestampNanoseconds) == (1...UInt64(batches * perBatch)).map { $0 })
        lane.close()
        // Closed: what comes later is not delivered, and submitting does not block.
        lane.submit([DeliveryLane.Delivery(instance: instance, event: Self.getppid(generation: 1, at: 99_999), process: nil)])
        #expect(collector.all.count == batches * perBatch)
        instance.stop()
    }

    @Test("A flood that fills a small ring moves the tasks to the second thread and back; every call is written or counted, in order")
    func engagesUnderAFlood() throws {
        try KernelSupport.require()
        var configuration = KernelConfiguration()
        configuration.ringBufferBytes = 2 << 20
        let calls = 300_000
        let tracer = CollectingSession(configuration: configuration, taskThreading: .whenBehind)
        let workload = try TracedWorkload(["getppid", "\(calls)"])
        let directive = try tracer.session.add(DirectiveRequest(
            conditions: "process.pid:\(workload.pid)", tasks: [try TaskSpec.parse("syscalls|functions:getppid")]))
        workload.start()
        while workload.process.isRunning { try tracer.session.poll(timeoutMilliseconds: 20) }
        try tracer.session.drain(until: ContinuousClock.now + .seconds(10))
        let counters = tracer.session.counters()
        tracer.session.remove(directive.id)

        let events = tracer.collector.all.compactMap(\.event).filter { $0.functionName == "getppid" }
        #expect(counters.taskThreadEngaged >= 1, "the ring never reached half full: \(counters)")
        // Caught up: back on the polling thread.
        #expect(!counters.tasksOnSecondThread)
        // The kernel's count also has other records lost in the same flood: the workload's
        // exit, other processes' (every new image is reported until it is decided, and the
        // other suites start busy ones), so it bounds the workload's losses only from above.
        let accounted = UInt64(events.count) + counters.kernel.ringBufferFull
        #expect(events.count <= calls && accounted >= UInt64(calls),
                "\(events.count) written, \(counters.kernel.ringBufferFull) lost in the kernel, of \(calls)")
        let backwards = zip(events, events.dropFirst()).filter { $1.timestampNanoseconds < $0.timestampNanoseconds }
        #expect(backwards.isEmpty, "\(backwards.count) records before an older one")
        #expect(counters.lateForOrder == 0 && counters.taskFailures == 0)
        tracer.session.close()
    }
}
