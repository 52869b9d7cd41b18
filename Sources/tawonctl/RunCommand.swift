import ArgumentParser
import Foundation
import Host
import Logging
import Synchronization

/// `tawonctl run`: the host embedded in the CLI, like strace: one directive until Ctrl-C.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Trace with the host embedded (no daemon): one directive, until Ctrl-C.",
        discussion: """
            Examples:
              tawonctl run -c "process.name:myapp" -t "syscalls|functions:read+write"
              tawonctl run -c "process.pid:4242" -t "syscalls|capabilities:CAP_NET_RAW;compact:true"
              echo "openat+read" | tawonctl run -c "process.name:cat" -t "syscalls|functions:@-"
            """)

    @Option(name: .customShort("c"), parsing: .unconditional, help: "Whose syscalls: a condition such as \"process.name:curl\".")
    var conditions = ""

    @Option(name: .customShort("t"), parsing: .unconditionalSingleValue, help: "A task and its options: \"TASK|name:value;name:value\" (repeatable).")
    var tasks: [String] = []

    @Option(help: "json (one envelope per line) or compact (strace-like lines).")
    var output: OutputFormat = .json

    @Option(parsing: .unconditional, help: "Bytes captured of write/send buffers.")
    var bufferLimit: Int = 64

    @Option(name: .customLong("ring-buffer-mb"), parsing: .unconditional, help: "Kernel ring buffer size in MiB, a power of two (default: a 64th of the memory, 16 to 256).")
    var ringBufferMegabytes: UInt32 = KernelConfiguration.machineRingBufferBytes >> 20

    @Option(name: .customLong("order-window-ms"), parsing: .unconditional, help: "Milliseconds records are held to be put in timestamp order (0-1000).")
    var orderWindowMilliseconds = 1

    @Option(name: .customLong("call-deadline-ms"), parsing: .unconditional, help: "Milliseconds a call may block before it is published as unfinished (1-60000).")
    var callDeadlineMilliseconds = 1000

    @Option(name: .customLong("container-socket"), help: "A container runtime's socket, instead of the usual places: a Docker Engine API's, or cri:PATH for a CRI runtime's (repeatable).")
    var containerSockets: [String] = []
    @Option(name: .customLong("container-bundles"), help: "A directory of OCI bundles (a runtime's state) whose annotations name containers and pods, instead of the usual places (repeatable).")
    var containerBundleDirectories: [String] = []

    @OptionGroup var plugins: PluginOptions

    func run() throws {
        let logger = bootstrapLogging(level: .warning)
        let specs = try tasks.map { text in
            do { return try FunctionFileExpansion.expand(try TaskSpec.parse(text)) } catch {
                throw usageFailure("\(error)")
            }
        }
        let limits = KernelConfiguration.bufferLimitRange
        guard limits.contains(bufferLimit) else {
            throw usageFailure("--buffer-limit: \(bufferLimit) is not from \(limits.lowerBound) to \(limits.upperBound)")
        }
        guard ringBufferMegabytes > 0, ringBufferMegabytes <= 1024, ringBufferMegabytes.nonzeroBitCount == 1 else {
            throw usageFailure("--ring-buffer-mb: \(ringBufferMegabytes) is not a power of two from 1 to 1024")
        }
        for directory in containerBundleDirectories where !directory.hasPrefix("/") {
            throw usageFailure("--container-bundles: expected an absolute directory, found '\(QuotedInput.quote(directory))'")
        }
        guard (1...60_000).contains(callDeadlineMilliseconds) else {
            throw usageFailure("--call-deadline-ms: \(callDeadlineMilliseconds) is not from 1 to 60000")
        }
        guard (0...1000).contains(orderWindowMilliseconds) else {
            throw usageFailure("--order-window-ms: \(orderWindowMilliseconds) is not from 0 to 1000")
        }
        var builder = PipelineBuilder(catalog: plugins.loadCatalog(), logger: logger)
        builder.callDeadline = .milliseconds(callDeadlineMilliseconds)
        builder.orderWindow = .milliseconds(orderWindowMilliseconds)
        // A reader that closes the pipe (`| head -1`) ends the run as Ctrl-C would; an output
        // that fails otherwise (a full disk) ends it with the error.
        let writeError = Mutex<Int32?>(nil)
        builder.sinks = [
            DescriptorSink(
                descriptor: STDOUT_FILENO, format: output, onReaderGone: { StopSignal.set() },
                onWriteError: { error in
                    writeError.withLock { $0 = error }
                    StopSignal.set()
                })
        ]
        builder.kernel.bufferLimit = UInt32(bufferLimit)
        builder.kernel.ringBufferBytes = ringBufferMegabytes << 20
        if !containerSockets.isEmpty { builder.containerSockets = containerSockets }
        if !containerBundleDirectories.isEmpty { builder.containerBundleRoots = containerBundleDirectories }
        let pipeline = builder.build()
        let directive: DirectiveSummary
        do {
            directive = try pipeline.add(DirectiveRequest(conditions: conditions, tasks: specs))
        } catch let error as DirectiveError where error.isEnvironmental {
            printToStandardError("tawonctl run: \(error)")
            throw ExitCode(1)
        } catch let error as DirectiveError {
            throw usageFailure(error.description)
        }
        StopSignal.install()
        for warning in directive.warnings { printToStandardError("tawonctl: warning: \(warning)") }
        printToStandardError("tawonctl: tracing directive \(directive.id) (Ctrl-C to stop)")
        while !StopSignal.received {
            try pipeline.poll(timeoutMilliseconds: 20)
        }
        // Whatever is still queued in the ring buffer belongs to the run; a traced process that
        // keeps writing must not keep us from stopping, so the drain has a deadline: about as long
        // as a full ring takes to read. What is left then is counted as lost.
        try pipeline.drain(until: ContinuousClock.now + .milliseconds(500 + 4 * Int(ringBufferMegabytes)))
        // An output nobody reads (a paused pager) must not hold up a Ctrl-C either: what it has
        // not taken within a second is counted as lost to a slow output.
        pipeline.close(within: .seconds(1))
        printToStandardError("tawonctl: " + Self.summary(pipeline.counters()))
        if let error = writeError.withLock({ $0 }) { throw OutputFailed(errno: error) }
    }

    /// One line: what the tasks emitted and what was lost, by cause (the kernel's losses before
    /// the tasks, the outputs' after them).
    static func summary(_ counters: PipelineCounters) -> String {
        let kernel = counters.kernel
        return "\(counters.emitted) records emitted; lost: \(kernel.ringBufferFull) (ring buffer full),"
            + " \(counters.taskFailures) (task failures), \(counters.output.sinkQueueFull) (output too slow),"
            + " \(counters.output.sinkWriteFailed) (output write failed),"
            + " \(counters.unreadAtClose) (unread at exit);"
            + " \(counters.lateForOrder) late for the time order;"
            + " \(kernel.captureFaults) unreadable arguments;"
            + " \(kernel.heldUndecided) held back from processes not yet decided about"
            + (counters.decidedWithoutContainer + counters.droppedAwaitingContainer == 0 ? "" :
                "; \(counters.decidedWithoutContainer) decided before the container's runtime described it,"
                + " \(counters.droppedAwaitingContainer) dropped while waiting for it")
            + (counters.taskThreadEngaged == 0 ? "" :
                "; tasks ran on a second thread \(counters.taskThreadEngaged) time(s), while the ring buffer was filling up")
    }
}

extension OutputFormat: ExpressibleByArgument {}

/// SIGINT/SIGTERM set a flag the poll loop checks (the handler does nothing else).
enum StopSignal {
    private static let flag = Atomic<Bool>(false)

    static var received: Bool { flag.load(ordering: .relaxed) }

    static func install() {
        signal(SIGINT, handleStopSignal)
        signal(SIGTERM, handleStopSignal)
        signal(SIGPIPE, SIG_IGN)  // a closed pipe ends output, not the process mid-cleanup
    }

    static func set() { flag.store(true, ordering: .relaxed) }
}

private func handleStopSignal(_ signal: Int32) {
    StopSignal.set()
}

/// A command line or input that cannot be used: one line on standard error, exit status 64
/// (ArgumentParser's own validation errors add usage and help lines).
func usageFailure(_ message: String) -> ExitCode {
    printToStandardError("tawonctl: \(message)")
    return ExitCode(64)
}

func printToStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
