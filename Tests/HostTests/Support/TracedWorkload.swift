import Foundation
import Host
import Logging
import Synchronization

/// A workload program started paused, so a directive can be set up for its pid before it runs.
final class TracedWorkload: @unchecked Sendable {
    static let binary = TestSupport.compileFixture("workload.c", as: "tawon-workload")

    let process = Process()
    private let input = Pipe()
    private let outputPipe = Pipe()

    init(_ arguments: [String], executable: String = TracedWorkload.binary, directory: URL? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.standardInput = input
        process.standardOutput = outputPipe
        try process.run()
    }

    var pid: UInt32 { UInt32(process.processIdentifier) }

    /// Lets it run and waits for it to end.
    func go() {
        start()
        process.waitUntilExit()
    }

    /// Lets it run, without waiting for it to end.
    func start() {
        input.fileHandleForWriting.write(Data("go\n".utf8))
    }

    /// A second go line, for the scenarios that wait twice.
    func goOn() { start() }

    /// Waits for a line on its standard output (and whatever else it wrote by then).
    func waitForOutput() -> String {
        String(decoding: outputPipe.fileHandleForReading.availableData, as: UTF8.self)
    }
}

/// A pipeline whose records are collected, for tests.
final class CollectingSession: Sendable {
    let collector = RecordCollector()
    let session: Pipeline

    init(
        configuration: KernelConfiguration = .init(), catalog: TaskCatalog = BuiltTasks.catalog,
        containerSockets: [String]? = nil, containerBundleRoots: [String] = [],
        taskThreading: TaskThreading = .whenBehind, orderWindow: Duration = .milliseconds(1),
        callDeadline: Duration = .seconds(1)
    ) {
        let collector = self.collector
        var logger = Logger(label: "test")
        // TAWON_TEST_LOG=debug shows what the pipeline and the container sources decide.
        if let level = ProcessInfo.processInfo.environment["TAWON_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) {
            logger.logLevel = level
        }
        var builder = PipelineBuilder(catalog: catalog, logger: logger)
        builder.kernel = configuration
        builder.containerSockets = containerSockets
        builder.containerBundleRoots = containerBundleRoots
        builder.observers = [{ collector.append($0) }]
        builder.taskThreading = taskThreading
        builder.orderWindow = orderWindow
        builder.callDeadline = callDeadline
        session = builder.build()
    }

    /// Starts a directive, runs the workload, and returns the records of the directive after the
    /// workload has ended and the ring buffer is drained.
    func trace(_ conditions: (UInt32) -> String, _ tasks: [String], workload: TracedWorkload) throws -> [EmittedRecord] {
        let summary = try session.add(
            DirectiveRequest(conditions: conditions(workload.pid), tasks: try tasks.map { try TaskSpec.parse($0) }))
        workload.go()
        for _ in 0..<10 { try session.poll(timeoutMilliseconds: 20) }
        session.remove(summary.id)
        return Array(collector.all.filter { $0.directiveID == summary.id }.drop(while: Self.isGoLineRead))
    }

    /// The workloads wait for their go line in a read that began before the directive: it
    /// returns while traced and is reported (as `strace -p` reports a call in progress), but
    /// it is not the workload's own.
    static func isGoLineRead(_ record: EmittedRecord) -> Bool {
        guard let call = try? JSONDecoder().decode(SyscallData.self, from: Data(record.json.utf8)) else { return false }
        return call.function == "read" && call.args?.first?.value == .number(0)
    }
}
