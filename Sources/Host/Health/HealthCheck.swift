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

    /// Runs the check: at most `timeout` waiting for the events.
    public static func run(catalog: TaskCatalog, timeout: Duration = .seconds(5), logger: Logger) -> Report {
        let expected = DemoSimulator.simulations
        let token = "tawon-health-" + Identifier.next()
        let seen = SeenCalls()
        let session = TracingSession(catalog: catalog, logger: logger) { record in seen.note(record) }
        defer { session.close() }
        let functions = expected.flatMap(\.functions)
        do {
            try session.add(DirectiveRequest(
                conditions: "process.cmd:~\(token)~",
                tasks: [TaskSpec(taskName: "syscalls", options: [("functions", functions.joined(separator: "+"))])]))
        } catch {
            return Report(rows: rows(expected, seen: [:], outcomes: [], start: .now), failure: "\(error)")
        }
        let start = ContinuousClock.now
        let run: SimulatorRun
        do { run = try DemoSimulator.start(["all"], token: token) } catch {
            return Report(rows: rows(expected, seen: [:], outcomes: [], start: start), failure: "\(error)")
        }
        let outcomes = Mutex<[DemoSimulator.Outcome]>([])
        let waiter = Thread { let result = run.wait(); outcomes.withLock { $0 = result } }
        waiter.start()
        let deadline = start + timeout
        while ContinuousClock.now < deadline, !seen.all(functions) {
            _ = try? session.poll(timeoutMilliseconds: 10)
        }
        while waiter.isExecuting && ContinuousClock.now < deadline + .seconds(1) { usleep(5_000) }
        run.stop()
        let table = rows(expected, seen: seen.times, outcomes: outcomes.withLock { $0 }, start: start)
        let missing = functions.filter { seen.times[$0] == nil }
        let failure = missing.isEmpty
            ? nil
            : "not seen within \(timeout): \(missing.joined(separator: ", "))"
        return Report(rows: table, failure: failure)
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

/// When each function was first seen with all its arguments decoded.
final class SeenCalls: Sendable {
    private let seen = Mutex<[String: ContinuousClock.Instant]>([:])

    var times: [String: ContinuousClock.Instant] { seen.withLock { $0 } }

    func all(_ functions: [String]) -> Bool {
        seen.withLock { times in functions.allSatisfy { times[$0] != nil } }
    }

    func note(_ record: EmittedRecord) {
        let now = ContinuousClock.now
        guard let object = try? JSONSerialization.jsonObject(with: Data(record.json.utf8)) as? [String: Any],
            let function = object["function"] as? String, let arguments = object["args"] as? [[String: Any]],
            let signature = SyscallTable.signature(named: function),
            arguments.count == signature.argumentNames.count,
            arguments.allSatisfy({ $0["value"] != nil })
        else { return }
        seen.withLock { times in if times[function] == nil { times[function] = now } }
    }
}
