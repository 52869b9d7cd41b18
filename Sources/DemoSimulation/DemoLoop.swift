import Foundation

/// Runs simulations every `interval` in the background until stopped; stopping kills a run in
/// progress, so no demo process outlives its directive.
public final class DemoLoop: @unchecked Sendable {
    public typealias Report = @Sendable (_ pid: pid_t, _ outcomes: [DemoSimulator.Outcome]) -> Void
    public typealias Failure = @Sendable (_ reason: String) -> Void

    private let names: [String]
    private let interval: TimeInterval
    private let report: Report
    private let failure: Failure
    private let condition = NSCondition()
    private var stopping = false
    private var current: SimulatorRun?
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)
    /// The longest pause between runs: a longer one (or a NaN) would overflow the timed wait.
    public static let intervalRange: ClosedRange<TimeInterval> = 0.1...86_400

    public init(names: [String], interval: TimeInterval, report: @escaping Report, failure: @escaping Failure) {
        self.names = names
        self.interval = interval.isFinite ? min(max(interval, Self.intervalRange.lowerBound), Self.intervalRange.upperBound)
            : Self.intervalRange.upperBound
        self.report = report
        self.failure = failure
    }

    public func start() {
        let thread = Thread { [self] in
            loop()
            finished.signal()
        }
        thread.name = "tawon-demo"
        self.thread = thread
        thread.start()
    }

    /// Stops the loop and waits until it has ended and its processes are gone.
    public func stop() {
        condition.withLock {
            stopping = true
            current?.stop()
            condition.broadcast()
        }
        if thread != nil {
            finished.wait()
            thread = nil
        }
    }

    private func loop() {
        while true {
            let started: SimulatorRun?
            do {
                started = try condition.withLock { () throws -> SimulatorRun? in
                    guard !stopping else { return nil }
                    let run = try DemoSimulator.start(names)
                    current = run
                    return run
                }
            } catch {
                failure("\(error)")
                return
            }
            guard let run = started else { return }
            let outcomes = run.wait()
            condition.withLock { current = nil }
            if !outcomes.isEmpty { report(run.pid, outcomes) }
            let keepGoing = condition.withLock { () -> Bool in
                let deadline = Date(timeIntervalSinceNow: interval)
                while !stopping && condition.wait(until: deadline) {}
                return !stopping
            }
            if !keepGoing { return }
        }
    }
}
