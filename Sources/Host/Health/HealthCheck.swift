import DemoSimulation
import Foundation
import Logging
import SyscallTable
import Synchronization

/// Proves the kernel-to-user path end to end: a temporary directive scoped to one run of every
/// demo simulation, and a wait until each simulated syscall has come back decoded.
public enum HealthCheck {
    /// One simulation's line in the report.
    public struct Row: Sendable, Equatable, Codable {
        public var simulation: String
        public var expected: [String]
        public var seen: [String]
        /// Milliseconds from starting the run to the last expected call seen; nil if not all were.
        public var latencyMilliseconds: Double?
        /// The simulation's own outcome (a call may fail, for want of privilege, and still be seen).
        public var outcome: String
    }

    public struct Report: Sendable, Codable {
        public var rows: [Row]
        /// Why the check failed; nil when healthy.
        public var failure: String?
        public var healthy: Bool { failure == nil }
    }

    /// The check in a pipeline someone else polls (the daemon's own): its records go to the
    /// check alone, and it waits without holding a thread.
    public static func run(in pipeline: Pipeline, timeout: Duration) async -> Report {
        let probe: HealthProbe
        switch HealthProbe.begin(in: pipeline) {
        case .started(let started): probe = started
        case .failed(let report): return report
        }
        while !probe.isComplete, ContinuousClock.now < probe.start + timeout {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return await withCheckedContinuation { continuation in
            // Waiting for the simulator's report blocks: not on a concurrency thread.
            Thread { continuation.resume(returning: probe.finish(timeout: timeout)) }.start()
        }
    }

    /// The check with a pipeline of its own, polled on this thread (`tawonctl health`).
    public static func runEmbedded(catalog: TaskCatalog, timeout: Duration = .seconds(5), logger: Logger) -> Report {
        let pipeline = PipelineBuilder(catalog: catalog, logger: logger).build()
        defer { pipeline.close() }
        let probe: HealthProbe
        switch HealthProbe.begin(in: pipeline) {
        case .started(let started): probe = started
        case .failed(let report): return report
        }
        while !probe.isComplete, ContinuousClock.now < probe.start + timeout {
            _ = try? pipeline.poll(timeoutMilliseconds: 10)
        }
        return probe.finish(timeout: timeout)
    }

    static func rows(
        _ expected: [(name: String, functions: [String])], seen: [String: ContinuousClock.Instant],
        outcomes: [DemoSimulator.Outcome], start: ContinuousClock.Instant
    ) -> [Row] {
        expected.map { simulation in
            let times = simulation.functions.compactMap { seen[$0] }
            let latency = times.count == simulation.functions.count
                ? times.max().map { ($0 - start) / .milliseconds(1) }
                : nil
            let outcome = outcomes.first { $0.name == simulation.name }
            return Row(
                simulation: simulation.name, expected: simulation.functions,
                seen: simulation.functions.filter { seen[$0] != nil }, latencyMilliseconds: latency,
                outcome: outcome.map { $0.ok ? "ok" : "failed: \($0.reason)" } ?? "no report")
        }
    }
}

/// One run of the check: its directive in a pipeline, the simulator, and what came back.
final class HealthProbe: @unchecked Sendable {
    let pipeline: Pipeline
    let directiveID: String
    let seen: SeenCalls
    let run: SimulatorRun
    let start: ContinuousClock.Instant
    private let outcomes = Mutex<[DemoSimulator.Outcome]?>(nil)
    private let expected = DemoSimulator.simulations

    private init(pipeline: Pipeline, directiveID: String, seen: SeenCalls, run: SimulatorRun) {
        self.pipeline = pipeline
        self.directiveID = directiveID
        self.seen = seen
        self.run = run
        start = .now
        let waiter = Thread { [self] in
            let result = run.wait()
            outcomes.withLock { $0 = result }
        }
        waiter.start()
    }

    private var functions: [String] { expected.flatMap(\.functions) }

    enum Start {
        case started(HealthProbe)
        case failed(HealthCheck.Report)
    }

    /// Adds the directive and starts every simulation; a report of the failure otherwise.
    static func begin(in pipeline: Pipeline) -> Start {
        let expected = DemoSimulator.simulations
        let token = "tawon-health-" + Identifier.next()
        let seen = SeenCalls()
        let functions = expected.flatMap(\.functions)
        func failed(_ reason: String) -> HealthCheck.Report {
            HealthCheck.Report(rows: HealthCheck.rows(expected, seen: [:], outcomes: [], start: .now), failure: reason)
        }
        let directive: DirectiveSummary
        do {
            directive = try pipeline.add(
                DirectiveRequest(
                    conditions: "process.cmd:~\(token)~",
                    tasks: [TaskSpec(taskName: "syscalls", options: [("functions", functions.joined(separator: "+"))])]),
                observer: { seen.note($0) })
        } catch {
            return .failed(failed("\(error)"))
        }
        do {
            let run = try DemoSimulator.start(["all"], token: token)
            return .started(HealthProbe(pipeline: pipeline, directiveID: directive.id, seen: seen, run: run))
        } catch {
            pipeline.remove(directive.id)
            return .failed(failed("\(error)"))
        }
    }

    var isComplete: Bool { seen.all(functions) }

    /// Waits briefly for the simulator's own report, removes the directive, and reports.
    func finish(timeout: Duration) -> HealthCheck.Report {
        let deadline = start + timeout + .seconds(1)
        while outcomes.withLock({ $0 == nil }) && ContinuousClock.now < deadline { usleep(5_000) }
        run.stop()
        pipeline.remove(directiveID)
        let table = HealthCheck.rows(expected, seen: seen.times, outcomes: outcomes.withLock { $0 ?? [] }, start: start)
        let missing = functions.filter { seen.times[$0] == nil }
        return HealthCheck.Report(
            rows: table, failure: missing.isEmpty ? nil : "not seen within \(timeout): \(missing.joined(separator: ", "))")
    }
}

/// When each function was first seen with all its arguments decoded.
final class SeenCalls: Sendable {
    private let seen = Mutex<[String: ContinuousClock.Instant]>([:])

    var times: [String: ContinuousClock.Instant] { seen.withLock { $0 } }

    func all(_ functions: [String]) -> Bool {
        seen.withLock { times in functions.allSatisfy { times[$0] != nil } }
    }

    /// Reads the event the record was emitted for, not the task's JSON.
    func note(_ record: EmittedRecord) {
        let now = ContinuousClock.now
        guard let event = record.event, event.kind == .syscall,
            let signature = SyscallTable.signature(named: event.functionName),
            event.arguments.count == signature.argumentNames.count
        else { return }
        seen.withLock { times in if times[event.functionName] == nil { times[event.functionName] = now } }
    }
}
