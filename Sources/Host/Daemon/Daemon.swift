import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization

/// What tawond runs: the task catalog and the pipeline with its outputs and live streams.
public final class Daemon: @unchecked Sendable {
    public static let version = "0.1.0"

    public let configuration: DaemonConfiguration
    public let catalog: TaskCatalog
    public let pipeline: Pipeline
    let metrics: DaemonMetrics
    let logger: Logger
    let started = Date()
    /// Directives made for one client's stream (`tawonctl d sub`) whose stream has not come yet:
    /// a client killed between the two requests would otherwise leave its directive behind.
    private let awaitingStream = Mutex<Set<String>>([])
    static let streamGrace: Duration = .seconds(5)

    /// Removes directive `id` unless a stream that owns it (`removeOnClose`) comes within the grace.
    func expectOwningStream(for id: String) {
        awaitingStream.withLock { _ = $0.insert(id) }
        Task { [weak self] in
            try? await Task.sleep(for: Self.streamGrace)
            guard let self, awaitingStream.withLock({ $0.remove(id) }) != nil else { return }
            pipeline.remove(id)
        }
    }

    /// A stream that owns directive `id` has come: it goes when the stream ends.
    func owningStreamAttached(_ id: String) {
        awaitingStream.withLock { _ = $0.remove(id) }
    }

    public init(configuration: DaemonConfiguration, catalog: TaskCatalog, logger: Logger) throws {
        self.configuration = configuration
        self.catalog = catalog
        self.logger = logger
        var builder = PipelineBuilder(catalog: catalog, logger: logger)
        builder.sinks = try configuration.outputs.map { output -> any OutputSink in
            switch output.kind {
            case .stdout: return DescriptorSink(descriptor: STDOUT_FILENO, format: output.format)
            case .file:
                return try RotatingFileSink(
                    path: output.path, maxBytes: output.maxBytes, maxFiles: output.maxFiles, format: output.format)
            }
        }
        builder.streamBufferRecords = configuration.streamBufferRecords
        builder.kernel.ringBufferBytes = UInt32(configuration.ringBufferMegabytes) << 20
        builder.kernel.bufferLimit = UInt32(configuration.bufferLimit)
        builder.callDeadline = .milliseconds(configuration.callDeadlineMilliseconds)
        builder.containerSockets = configuration.containerSockets
        pipeline = builder.build()
        metrics = DaemonMetrics()
    }

    /// Live readers of directives' records.
    public var streams: DirectiveStreams { pipeline.streams! }

    /// The status the control API reports.
    public func status() -> DaemonStatus {
        let counters = pipeline.counters()
        return DaemonStatus(
            version: Self.version, uptimeSeconds: Date().timeIntervalSince(started),
            tasks: catalog.tasks.map(\.name), refusedPlugins: catalog.refusals,
            directives: pipeline.summaries,
            events: .init(received: counters.received, written: counters.emitted),
            drops: .init(
                ringBufferFull: counters.kernel.ringBufferFull, taskFailures: counters.taskFailures,
                streamReaders: counters.output.streamReaders, sinkQueueFull: counters.output.sinkQueueFull,
                unreadableArguments: counters.kernel.captureFaults, heldUndecided: counters.kernel.heldUndecided),
            streams: streams.current.map { .init(id: $0.id, directiveID: $0.directiveID, sent: $0.sent, dropped: $0.dropped) },
            capabilities: PrivilegeDrop.held())
    }
}

/// GET /v1/status.
public struct DaemonStatus: Codable, Sendable {
    public struct Events: Codable, Sendable { public var received: UInt64; public var written: UInt64 }
    public struct Drops: Codable, Sendable {
        /// In the kernel: no room in the ring buffer.
        public var ringBufferFull: UInt64
        public var taskFailures: UInt64
        /// For slow stream readers, summed.
        public var streamReaders: UInt64
        /// For outputs slower than the records come (their queues were full).
        public var sinkQueueFull: UInt64
        public var unreadableArguments: UInt64
        /// Held back from just-exec'd processes past their budget before the host decided.
        public var heldUndecided: UInt64
    }
    public struct Stream: Codable, Sendable {
        public var id: Int
        public var directiveID: String
        public var sent: UInt64
        public var dropped: UInt64
    }
    public var version: String
    public var uptimeSeconds: Double
    public var tasks: [String]
    public var refusedPlugins: [PluginRefusal]
    public var directives: [DirectiveSummary]
    public var events: Events
    public var drops: Drops
    public var streams: [Stream]
    /// The capabilities tawond holds (its effective set).
    public var capabilities: [String]
}

/// Polls the pipeline on a thread of its own; at shutdown stops it, detaches every BPF program
/// and lets the outputs write what they hold.
public struct TracingService: Service {
    let daemon: Daemon

    public init(daemon: Daemon) {
        self.daemon = daemon
    }

    public func run() async throws {
        let stop = StopFlag()
        let daemon = self.daemon
        let thread = Thread {
            while !stop.isSet {
                do { try daemon.pipeline.poll(timeoutMilliseconds: 20) } catch {
                    daemon.logger.error("reading the ring buffer failed: \(error)")
                }
            }
            stop.finished()
        }
        thread.name = "tawon-poll"
        thread.start()
        try? await gracefulShutdown()
        stop.set()
        while !stop.hasFinished { try? await Task.sleep(for: .milliseconds(5)) }
        daemon.pipeline.close()
        daemon.logger.notice("tracing stopped; every BPF program detached")
    }
}

/// Ends every live stream as soon as shutdown begins, so that the control API, which waits for
/// its open connections, can stop.
public struct LiveStreamsService: Service {
    let daemon: Daemon

    public init(daemon: Daemon) {
        self.daemon = daemon
    }

    public func run() async throws {
        try? await gracefulShutdown()
        daemon.streams.finishAll()
    }
}

/// A flag the poll thread checks, and its answer that it has ended.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopping = false
    private var done = false
    var isSet: Bool { lock.withLock { stopping } }
    var hasFinished: Bool { lock.withLock { done } }
    func set() { lock.withLock { stopping = true } }
    func finished() { lock.withLock { done = true } }
}
