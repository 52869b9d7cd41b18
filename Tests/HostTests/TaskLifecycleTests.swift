import Foundation
import Host
import Logging
import Synchronization
import Testing

/// Collects what instances emit.
final class RecordCollector: Sendable {
    private let records = Mutex<[EmittedRecord]>([])
    var all: [EmittedRecord] { records.withLock { $0 } }

    func append(_ record: EmittedRecord) { records.withLock { $0.append(record) } }

    func services() -> TaskServices {
        TaskServices(
            emit: { record in self.records.withLock { $0.append(record) } },
            processInfo: { _ in nil }, logger: Logger(label: "test"))
    }
}

@Suite("Task lifecycle through the ABI")
struct TaskLifecycleTests {
    @Test("examples/hello-task builds with its README's command, loads, and runs")
    func helloTaskBuildsLoadsAndRuns() throws {
        let example = TestSupport.packageRoot.appending(path: "examples/hello-task")
        let readme = try String(contentsOf: example.appending(path: "README.md"), encoding: .utf8)
        let command = try #require(
            readme.split(separator: "\n").map(String.init).first { $0.hasPrefix("cc -shared") })
        let directory = try TestSupport.temporaryDirectory("hello")
        defer { try? FileManager.default.removeItem(at: directory) }

        let build = try TestSupport.shell(command, in: example)
        #expect(build.status == 0, "\(build.stderr)")
        try FileManager.default.moveItem(
            at: example.appending(path: "libtawon-task-hello.so"),
            to: directory.appending(path: "libtawon-task-hello.so"))

        let catalog = PluginLoader(searchPath: PluginSearchPath(entries: [directory.path])).loadAll()
        #expect(catalog.refusals.isEmpty)
        let hello = try #require(catalog.task(named: "hello"))
        #expect(hello.description.functions.map(\.name) == ["getppid"])
        #expect(hello.description.capabilitySets.map(\.name) == ["FAMILY"])
        #expect(hello.description.options.map(\.defaultValue) == ["hello"])

        let collector = RecordCollector()
        let instance = try TaskInstance(
            task: hello, directiveID: "d1", options: [("greeting", "hi")], services: collector.services())
        #expect(instance.hookedFunctions == [110])
        try instance.start()
        let event = DeliverableEvent(
            timestampNanoseconds: 42, cpu: 0, pid: 7, tid: 7, functionID: 110, functionName: "getppid", comm: "sh")
        let delivered = instance.deliver(event)
        instance.stop()

        #expect(delivered)
        // The record is tied to the event it was emitted for.
        #expect(collector.all == [
            EmittedRecord(
                taskName: "hello", directiveID: "d1",
                json: #"{"hello":{"pid":7,"comm":"sh","greeting":"hi"}}"#, timestampNanoseconds: 42, event: event)
        ])
    }

    @Test("Events reach the task with their own names and texts, one after another")
    func eventsKeepTheirOwnNamesAndTexts() throws {
        let syscalls = try #require(BuiltTasks.catalog.task(named: "syscalls"))
        let collector = RecordCollector()
        let instance = try TaskInstance(
            task: syscalls, directiveID: "d", options: [("functions", "write")], services: collector.services())
        try instance.start()
        func write(_ names: [String], _ texts: [String]) -> DeliverableEvent {
            DeliverableEvent(
                timestampNanoseconds: 1, cpu: 0, pid: 7, tid: 7, functionID: 1, functionName: "write",
                comm: "sh", arguments: zip(names, texts).map {
                    DeliverableEvent.Argument(name: $0, type: "const char *", raw: 0, value: .text($1, truncated: false))
                })
        }
        // The same function with other argument names must not reuse the first one's, and
        // more arguments than the marshaller first made room for must all arrive.
        let many = (0..<10).map { "arg\($0)" }
        let events = [
            write(["fd", "buf"], ["1", "+"]), write(["fd", "data"], ["2", "a \"quoted\" text"]),
            write(many, many.map { "value of \($0)" }), write(["fd", "buf"], ["3", String(repeating: "x", count: 5000)]),
        ]
        for event in events { #expect(instance.deliver(event)) }
        instance.stop()

        let records = collector.all.map { record -> [[String: String]] in
            let object = try? JSONSerialization.jsonObject(with: Data(record.json.utf8)) as? [String: Any]
            return object?["args"] as? [[String: String]] ?? []
        }
        #expect(records.count == events.count)
        for (record, event) in zip(records, events) {
            #expect(record.map { $0["name"] } == event.arguments.map(\.name))
            #expect(record.map { $0["value"] } == event.arguments.map {
                if case .text(let text, _) = $0.value { return text } else { return nil }
            })
        }
    }

    @Test("Options are checked against the registration, and the task's refusal is passed on")
    func optionsAreChecked() throws {
        let syscalls = try #require(BuiltTasks.catalog.task(named: "syscalls"))
        let collector = RecordCollector()
        func create(_ options: [(String, String)]) throws -> TaskInstance {
            try TaskInstance(
                task: syscalls, directiveID: "d", options: options.map { ($0.0, $0.1) },
                services: collector.services())
        }

        #expect(throws: TaskInstanceError(
            "syscalls: unknown option 'colour' (options: functions, capabilities, compact, entryOnly, meta, demo, demoInterval)"))
        { try create([("functions", "read"), ("colour", "red")]) }
        #expect(throws: TaskInstanceError("syscalls: option 'compact': 'maybe' is not true or false")) {
            try create([("functions", "read"), ("compact", "maybe")])
        }
        #expect(throws: TaskInstanceError(
            "syscalls: functions: unknown syscall 'send_msg' (did you mean 'sendmsg'?)"))
        { try create([("functions", "send_msg")]) }
        #expect(throws: TaskInstanceError(
            "syscalls: capabilities: unknown capability 'CAP_FLY' (supported: CAP_NET_RAW, CAP_NET_ADMIN,"
                + " CAP_IPC_LOCK, CAP_SYS_PTRACE)"))
        { try create([("capabilities", "CAP_FLY")]) }

        let raw = try create([("capabilities", "CAP_NET_RAW")])
        #expect(raw.wholeCalls == [41, 44, 45, 47, 49, 54, 16])
        let all = try create([("functions", "all")])
        #expect(all.wholeCalls.count == syscalls.description.functions.count)
    }
}

/// The task plugins this build produced, loaded once.
enum BuiltTasks {
    static let catalog = PluginLoader(
        searchPath: PluginSearchPath(entries: [TestSupport.productsDirectory.path])
    ).loadAll()
}
