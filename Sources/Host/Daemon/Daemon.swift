import Foundation
import Logging
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
    /// Each with the pid of the client that will read it, untraced meanwhile (nil: unknown).
    private let awaitingStream = Mutex<[String: UInt32?]>([:])
    static let streamGrace: Duration = .seconds(5)
    /// Yields when shutdown begins (the live streams end): tracing stops then, beside the
    /// control API's wait for its connections rather than after it.
    let (shutdownBegan, shutdownBeganContinuation) = AsyncStream.makeStream(of: Void.self)

    /// Removes directive `id` unless a stream that owns it (`removeOnClose`) comes within the
    /// grace; `reader`, excluded from tracing for that stream, is traced again if none comes.
    func expectOwningStream(for id: String, reader: UInt32?) {
        awaitingStream.withLock { $0[id] = reader }
        Task { [weak self] in
            try? await Task.sleep(for: Self.streamGrace)
            guard let self, let expected = awaitingStream.withLock({ $0.removeValue(forKey: id) }) else { return }
            pipeline.remove(id)
            if let expected { pipeline.dispatcher.stopExcluding(expected) }
        }
    }

    /// A stream that owns directive `id` has come: it goes when the stream ends. Returns the
    /// reader excluded when the directive was made, to be traced again then.
    func owningStreamAttached(_ id: String) -> UInt32? {
        awaitingStream.withLock { $0.removeValue(forKey: id) } ?? nil
    }

    public init(configuration: DaemonConfiguration, catalog: TaskCatalog, logger: Logger) throws {
        self.configuration = configuration
        self.catalog = catalog
        self.logger = logger
        var builder = PipelineBuilder(catalog: catalog, logger: logger)
        builder.sinks = try configuration.outputs.map { output -> any OutputSink in
            switch output.kind {
            case .stdout:
                return DescriptorSink(
                    descriptor: STDOUT_FILENO, format: output.format,
                    onWriteError: { logger.error("writing standard output failed: \(String(cString: strerror($0))); its records are counted as lost") })
            case .file:
                return try RotatingFileSink(
                    path: output.path, maxBytes: output.maxBytes, maxFiles: output.maxFiles, format: output.format)
            }
        }
        builder.streamBufferRecords = configuration.streamBufferRecords
        builder.kernel.ringBufferBytes = UInt32(configuration.ringBufferMegabytes) << 20
        builder.kernel.bufferLimit = UInt32(configuration.bufferLimit)
        builder.callDeadline = .milliseconds(configuration.callDeadlineMilliseconds)
        builder.orderWindow = .milliseconds(configuration.orderWindowMilliseconds)
        builder.containerSockets = configuration.containerSockets
        builder.containerBundleRoots = configuration.containerBundleDirectories
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
            events: .init(received: counters.received, emitted: counters.emitted),
            drops: .init(
                ringBufferFull: counters.kernel.ringBufferFull, taskFailures: counters.taskFailures,
                streamReaders: counters.output.streamReaders, sinkQueueFull: counters.output.sinkQueueFull,
                sinkWriteFailed: counters.output.sinkWriteFailed,
                unreadableArguments: counters.kernel.captureFaults, heldUndecided: counters.kernel.heldUndecided,
                awaitingContainer: counters.droppedAwaitingContainer, lateForOrder: counters.lateForOrder),
            queues: .init(
                ringBufferBytes: UInt64(configuration.ringBufferMegabytes) << 20,
                orderWindowMilliseconds: configuration.orderWindowMilliseconds,
                heldForOrder: pipeline.dispatcher.recordsHeldForOrder,
                taskThreadBatches: pipeline.dispatcher.lane.maximumBatches, tasksOnSecondThread: counters.tasksOnSecondThread,
                taskThreadEngaged: counters.taskThreadEngaged,
                streamBufferRecords: configuration.streamBufferRecords,
                sinkQueueBytes: OutputStage.defaultSinkQueueBytes, pendingCalls: PendingCalls.capacity,
                awaitingContainer: RecordsAwaitingContainers.total),
            streams: streams.current.map { .init(id: $0.id, directiveID: $0.directiveID, sent: $0.sent, dropped: $0.dropped) },
            capabilities: PrivilegeDrop.held())
    }
}

/// GET /v1/status.
public struct DaemonStatus: Codable, Sendable {
    /// Records read from the kernel, and records the tasks emitted (what the outputs and stream
    /// readers then lost is in `drops`).
    public struct Events: Codable, Sendable { public var received: UInt64; public var emitted: UInt64 }
    public struct Drops: Codable, Sendable {
        /// In the kernel: no room in the ring buffer.
        public var ringBufferFull: UInt64
        public var taskFailures: UInt64
        /// For slow stream readers, summed.
        public var streamReaders: UInt64
        /// For outputs slower than the records come (their queues were full).
        public var sinkQueueFull: UInt64
        /// An output's write failed (a full disk, a closed pipe).
        public var sinkWriteFailed: UInt64
        public var unreadableArguments: UInt64
        /// Held back from just-exec'd processes past their budget before the host decided.
        public var heldUndecided: UInt64
        /// Dropped while too many records waited for their containers to be described.
        public var awaitingContainer: UInt64
        /// Not a loss: records that came later than the time order's window, handed on out of order.
        public var lateForOrder: UInt64
    }
    /// The bound of every stage between the kernel and the outputs. Past it, the ring buffer and
    /// the records waiting for containers drop (counted), a stream buffer drops its reader's
    /// newest records, a sink queue drops what does not fit, and the oldest call awaiting its
    /// return is published unfinished.
    public struct Queues: Codable, Sendable {
        public var ringBufferBytes: UInt64
        /// Records are held this long to be put in timestamp order; `heldForOrder` are now.
        public var orderWindowMilliseconds: Int
        public var heldForOrder: Int
        /// While the ring buffer fills faster than one thread empties it, tasks get their
        /// events on a second thread, through a queue of this many batches (a poll's records
        /// each); beyond it the reader waits and records stay in the ring buffer.
        public var taskThreadBatches: Int
        public var tasksOnSecondThread: Bool
        /// Times the tasks moved to the second thread since start.
        public var taskThreadEngaged: UInt64
        public var streamBufferRecords: Int
        public var sinkQueueBytes: Int
        public var pendingCalls: Int
        public var awaitingContainer: Int
    }
    public struct Stream: Codable, Sendable {
        public var id: Int
        public var directiveID: String
        /// Records its buffer accepted for the reader (those it never took are counted as
        /// dropped, in `Drops.streamReaders`, once its connection ends).
        public var sent: UInt64
        /// Records its buffer had no room for.
        public var dropped: UInt64
    }
    public var version: String
    public var uptimeSeconds: Double
    public var tasks: [String]
    public var refusedPlugins: [PluginRefusal]
    public var directives: [DirectiveSummary]
    public var events: Events
    public var drops: Drops
    public var queues: Queues
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
        // Whichever comes first: this service's turn to shut down, or shutdown's start.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await gracefulShutdown() }
            group.addTask { for await _ in daemon.shutdownBegan { break } }
            await group.next()
            group.cancelAll()
        }
        stop.set()
        while !stop.hasFinished { try? await Task.sleep(for: .milliseconds(5)) }
        // Up to seconds of flushing, on a thread of its own: the control API, still answering,
        // needs the concurrency pool's few threads.
        await withCheckedContinuation { (closed: CheckedContinuation<Void, Never>) in
            Thread {
                daemon.pipeline.close()
                closed.resume()
            }.start()
        }
        daemon.logger.notice("tracing stopped; every BPF program detached")
        // Ended before its turn, the service would end the group at once, cutting live streams.
        try? await gracefulShutdown()
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
        daemon.shutdownBeganContinuation.yield()
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
