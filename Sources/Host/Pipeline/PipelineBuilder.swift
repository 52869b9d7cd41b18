import Foundation
import Logging

/// Assembles the pipeline — kernel event source → process model → dispatcher → output stage —
/// the one way `tawond`, `tawonctl run` and the health check get theirs.
public struct PipelineBuilder {
    public var catalog: TaskCatalog
    public var kernel = KernelConfiguration()
    public var sinks: [any OutputSink] = []
    /// Records buffered per live-stream reader; nil: no live streams (an embedded run).
    public var streamBufferRecords: Int?
    public var sinkQueueBytes = OutputStage.defaultSinkQueueBytes
    /// How long a call may block before its entry is published as unfinished.
    public var callDeadline: Duration = .seconds(1)
    /// How long records are held to be handed on in timestamp order across CPUs.
    public var orderWindow: Duration = .milliseconds(1)
    /// When tasks get their events on a second thread (by default only while the ring buffer
    /// fills faster than one thread empties it).
    public var taskThreading = TaskThreading.whenBehind
    public var source: OutputSource?
    /// Called with every record besides the sinks (an embedder's own use of them; tests).
    public var observers: [@Sendable (EmittedRecord) -> Void] = []
    public var logger: Logger
    /// Unix sockets of container runtimes to ask for containers' names and labels; nil: the
    /// usual places, or TAWON_CONTAINER_SOCKETS (paths separated by ':'). Empty: none.
    public var containerSockets: [String]?
    /// Directories of OCI bundles (a runtime's state: containerd's tasks, cri-o's containers)
    /// whose annotations name containers and pods no socket describes; nil: the usual places,
    /// or TAWON_CONTAINER_BUNDLES (paths separated by ':'). Empty: none.
    public var containerBundleRoots: [String]?

    public init(catalog: TaskCatalog, logger: Logger) {
        self.catalog = catalog
        self.logger = logger
    }

    public func build() -> Pipeline {
        let output = OutputStage(
            sinks: sinks, streams: streamBufferRecords.map { DirectiveStreams(capacity: $0) },
            source: source ?? .current(), sinkQueueBytes: sinkQueueBytes, observers: observers)
        let containers = ContainerDirectory()
        let processes = ProcessModel(containers: containers)
        let statistics = PipelineStatistics()
        let dispatcher = Dispatcher(
            catalog: catalog, configuration: kernel, processes: processes, statistics: statistics,
            logger: logger, callDeadline: callDeadline, orderWindow: orderWindow, outputReadsEvents: output.readsEvents || !observers.isEmpty,
            containers: containers, taskThreading: taskThreading, output: { output.accept($0) },
            outputJSON: { taskName, directiveID, json, timestamp in
                output.acceptJSON(json, taskName: taskName, directiveID: directiveID, timestampNanoseconds: timestamp)
            },
            flushOutput: { output.flush() })
        containers.onChange { [weak changed = dispatcher.changedProcesses] id in changed?.add(processes.containerChanged(id)) }
        containers.start(
            sockets: containerSockets ?? Self.configured("TAWON_CONTAINER_SOCKETS", ContainerDirectory.defaultSockets),
            bundleRoots: containerBundleRoots ?? Self.configured("TAWON_CONTAINER_BUNDLES", OCIBundleSource.defaultRoots),
            logger: logger)
        return Pipeline(
            catalog: catalog, processes: processes, containers: containers, dispatcher: dispatcher, output: output)
    }

    /// The paths in the environment variable `name` (separated by ':'), or `defaults`.
    static func configured(_ name: String, _ defaults: [String]) -> [String] {
        guard let list = ProcessInfo.processInfo.environment[name] else { return defaults }
        return list.split(separator: ":").map(String.init)
    }
}
