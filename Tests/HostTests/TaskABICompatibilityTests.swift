import Foundation
import Host
import Logging
import SyscallTable
import SystemFiles
import Testing

/// Task ABI 1.1 against plugins built for 1.0, and what 1.1 added: process events, refusals
/// with reasons.
@Suite("Task ABI 1.1", .serialized)
struct TaskABICompatibilityTests {
    static let frozenHeader = TestSupport.packageRoot.appending(path: "Tests/HostTests/Fixtures/abi-1.0")

    static func catalog(_ fixture: String, as file: String, include: URL = CPluginBuilder.header) throws -> (TaskCatalog, URL) {
        let directory = try TestSupport.temporaryDirectory("abi")
        _ = try CPluginBuilder.build(fixture, as: file, include: include, in: directory)
        return (PluginLoader(searchPath: PluginSearchPath(entries: [directory.path])).loadAll(), directory)
    }

    @Test("A plugin built against the frozen 1.0 header runs unchanged: options, events, emit, process_info")
    func legacyPluginRuns() throws {
        try KernelSupport.require()
        let (catalog, directory) = try Self.catalog("abi-1.0/legacy_task.c", as: "legacy", include: Self.frozenHeader)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(catalog.refusals.isEmpty, "\(catalog.refusals)")
        let legacy = try #require(catalog.task(named: "legacy"))
        #expect(legacy.abiVersion.description == "1.0.0")
        #expect(legacy.description.options.map(\.name) == ["greeting", "repeat", "loud"])

        let tracer = CollectingSession(catalog: catalog)
        let workload = try TracedWorkload(["write"])
        let records = try tracer.trace(
            { "process.pid:\($0)" }, ["legacy|greeting:hi;repeat:2;loud:true"], workload: workload)
        let expected = #"{"legacy":{"function":"write","pid":\#(workload.pid),"fd":1,"name":"tawon-workload","greeting":"hi","loud":true,"args":3}}"#
        #expect(records.map(\.json) == [expected, expected])

        #expect(throws: DirectiveError("-t \"legacy\": legacy: repeat must be at least 1")) {
            try tracer.session.add(DirectiveRequest(conditions: "process.pid:1", tasks: [try TaskSpec.parse("legacy|repeat:0")]))
        }
    }

    @Test("A task subscribed to process exec and exit gets one of each per run of a watched program")
    func processEvents() throws {
        try KernelSupport.require()
        let (catalog, directory) = try Self.catalog("process_events_task.c", as: "events")
        defer { try? FileManager.default.removeItem(at: directory) }
        let tracer = CollectingSession(catalog: catalog)
        let token = "tawon-exec-" + Identifier.next()
        let directive = try tracer.session.add(DirectiveRequest(
            conditions: "process.cmd:~\(token)~", tasks: [try TaskSpec.parse("process-events|subscribe:2:1+2:2")]))
        defer { tracer.session.remove(directive.id) }
        var pids: [UInt32] = []
        for _ in 0..<5 {
            let pid = try ChildProcess.spawn(["/bin/sh", "-c", "exit 3", "sh", token])
            _ = ChildProcess.wait(pid)
            pids.append(UInt32(pid))
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while tracer.collector.all.count < 10, ContinuousClock.now < deadline {
            try tracer.session.poll(timeoutMilliseconds: 20)
        }
        let events = tracer.collector.all.compactMap { record in
            try? JSONSerialization.jsonObject(with: Data(record.json.utf8)) as? [String: Any]
        }
        let execs = events.filter { $0["event"] as? String == "exec" }
        let exits = events.filter { $0["event"] as? String == "exit" }
        #expect(execs.compactMap { ($0["pid"] as? Int).map(UInt32.init) } == pids)
        #expect(exits.compactMap { ($0["pid"] as? Int).map(UInt32.init) } == pids)
        for exec in execs {
            let arguments = exec["args"] as? [String: Any]
            #expect(arguments?["exe"] as? String == "/bin/sh")
            #expect(arguments?["argv"] as? String == "/bin/sh -c exit 3 sh \(token)")
            #expect(exec["kind"] as? Int == 2 && exec["phase"] as? Int == 0)
        }
        #expect(exits.allSatisfy { ($0["args"] as? [String: Any])?["exit_code"] as? Int == 3 })
    }

    @Test("Subscriptions the host cannot honour are refused with the host's one-line reason", arguments: [
        ("99:1", "no event kind 99 (TAWON_EVENT_SYSCALL = 1, TAWON_EVENT_PROCESS = 2, TAWON_EVENT_CONTAINER = 3)"),
        ("3:5", "no container event with id 5 (TAWON_CONTAINER_INIT_NAMESPACES = 1 to TAWON_CONTAINER_REMOVE = 4)"),
        ("2:9223372036854775808", "no process event with id 9223372036854775808 (TAWON_PROCESS_EXEC = 1, TAWON_PROCESS_EXIT = 2)"),
        ("1:9223372036854775808", "function 'huge' (id 9223372036854775808) is not a syscall this host can hook (x86_64 syscalls 0-\(SyscallTable.highestNumber), 32-bit-only calls 3000-3085)"),
        ("1:12345", "function id 12345 is not registered by task process-events"),
    ])
    func refusedSubscriptions(subscription: String, reason: String) throws {
        let (catalog, directory) = try Self.catalog("process_events_task.c", as: "events")
        defer { try? FileManager.default.removeItem(at: directory) }
        let task = try #require(catalog.task(named: "process-events"))
        let collector = RecordCollector()
        #expect(throws: TaskInstanceError("process-events: \(reason)")) {
            try TaskInstance(task: task, directiveID: "d", options: [("subscribe", subscription)], services: collector.services())
        }
        // A syscall it may hook is accepted.
        let accepted = try TaskInstance(task: task, directiveID: "d", options: [("subscribe", "1:110+2:1")], services: collector.services())
        #expect(accepted.wholeCalls == [110])
        #expect(accepted.processEvents == [.exec])
    }
}
