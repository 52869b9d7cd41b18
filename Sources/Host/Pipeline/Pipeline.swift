/// The assembled pipeline (see `PipelineBuilder`): what its users drive. Directives go to the
/// dispatcher; `poll` reads the kernel and moves records through every stage.
public final class Pipeline: @unchecked Sendable {
    public let catalog: TaskCatalog
    public let processes: ProcessModel
    /// Containers' names, labels and pods, from the runtimes found.
    public let containers: ContainerDirectory
    public let dispatcher: Dispatcher
    public let output: OutputStage

    init(
        catalog: TaskCatalog, processes: ProcessModel, containers: ContainerDirectory, dispatcher: Dispatcher,
        output: OutputStage
    ) {
        self.catalog = catalog
        self.processes = processes
        self.containers = containers
        self.dispatcher = dispatcher
        self.output = output
    }

    /// Live readers of directives' records, when the pipeline was built with them.
    public var streams: DirectiveStreams? { output.streams }

    /// Starts a directive (see `Dispatcher.add`).
    @discardableResult
    public func add(
        _ request: DirectiveRequest, observer: (@Sendable (EmittedRecord) -> Void)? = nil
    ) throws -> DirectiveSummary {
        var summary = try dispatcher.add(request, observer: observer)
        if let condition = try? ConditionParser.parse(request.conditions) {
            summary.warnings = condition.nameTermWarnings + containers.warnings(for: condition.fields)
        }
        return summary
    }

    /// Stops a directive and ends its live streams; false when there is none with that ID.
    @discardableResult
    public func remove(_ id: String) -> Bool {
        let removed = dispatcher.remove(id)
        streams?.finish(directiveID: id)
        return removed
    }

    public var summaries: [DirectiveSummary] { dispatcher.summaries }

    /// Reads what the kernel has (waiting up to the timeout), dispatches it, and hands the
    /// formatted lines to the sinks. Returns how many records were read.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32) throws -> Int {
        defer { output.flush() }
        return try dispatcher.poll(timeoutMilliseconds: timeoutMilliseconds)
    }

    /// Reads what the kernel's ring buffer holds until it is empty (a record still being written
    /// counts as held) or `deadline` passes: a traced process that keeps writing must not keep
    /// the caller from stopping.
    public func drain(until deadline: ContinuousClock.Instant) throws {
        while ContinuousClock.now < deadline, try poll(timeoutMilliseconds: 0) > 0 || dispatcher.hasUnreadRecords {}
    }

    /// Every counter of every stage.
    public func counters() -> PipelineCounters {
        var counters = dispatcher.statistics.snapshot()
        counters.kernel = dispatcher.kernelCounters()
        counters.output = output.counters
        return counters
    }

    /// The kernel's IDs of the programs loaded; empty while no directive runs.
    public func loadedProgramIDs() throws -> [UInt32] { try dispatcher.loadedProgramIDs() }

    /// How many processes the process model holds.
    public var knownProcessCount: Int { processes.count }

    /// Stops every directive, unloads the programs, and lets the sinks write what they hold
    /// (within `deadline`).
    public func close(within deadline: Duration = .seconds(5)) {
        containers.stop()
        dispatcher.close()
        output.close(within: deadline)
    }
}
