import Foundation
import Logging
import SyscallTable
import Synchronization

/// The dispatcher: runs directives. It programs the kernel's masks from their conditions and
/// what their tasks asked for, decides every event against the conditions (user space is
/// authoritative) and hands it to the task instances that asked for it.
///
/// `add` and `remove` may be called from any thread; `poll` from one thread at a time.
public final class Dispatcher: @unchecked Sendable {
    public static let maximumDirectives = 64
    public static let maximumTasksPerDirective = 16
    /// Records handled per poll before the lock is let go: bounds how long `add`, `remove` and
    /// `counters` wait while a flood keeps the ring buffer from running empty.
    static let recordsPerPoll = 8192

    let catalog: TaskCatalog
    let processes: ProcessModel
    let logger: Logger
    private let configuration: KernelConfiguration
    private let output: @Sendable (EmittedRecord) -> Void
    /// The output's way for a task's JSON as lent, without a record made of it (see
    /// `OutputStage.acceptJSON`).
    private let outputJSON: (@Sendable (String, String, UnsafeRawBufferPointer, UInt64) -> Bool)?
    /// Whether the outputs read the event a record was emitted for (compact lines, streams).
    private let outputReadsEvents: Bool
    let statistics: PipelineStatistics
    private let stateLock = NSLock()
    /// Closed: tracing has stopped for good, and no directive starts. Set and read with the
    /// kernel lock held (a directive past its slot still waits for that lock to load programs).
    private var isClosed = false
    private var directives: [Int: ActiveDirective] = [:] {
        didSet { running = directives.values.sorted { $0.slot < $1.slot } }
    }
    /// Slots taken by directives still being set up: a concurrent `add` picks another.
    private var reservedSlots: Set<Int> = []
    /// `directives` in slot order, for the event path: read once per record, never filtered there.
    private var running: [ActiveDirective] = []
    private let kernelLock = NSLock()  // the programs' lifetime against polling
    private var kernel: KernelEventSource?
    /// What the kernel counted while programs were loaded before: the counters live in a map
    /// that goes away with them.
    private var retiredKernelCounters = KernelCounters()
    /// Calls whose return is awaited. Only the polling thread touches them.
    var pendingCalls = PendingCalls()
    /// By process: the boot time of the last exec, fork or rename record read. The kernel's
    /// entry of a process it changed after that is not overwritten (`setWatch`).
    var kernelChangesRead: [UInt32: UInt64] = [:]
    /// The boot time of the newest record read from the kernel.
    var newestRecordRead: UInt64 = 0
    /// Every record read up to this boot time has been handed on by the time order: what a
    /// decision made in a record's turn knows of, a window behind what was read.
    var handedOnUntil: UInt64 = 0
    /// Processes decided against (and forgotten) since their last exec, fork or rename record,
    /// with `newestRecordRead` then: their records already in the ring stay unselected, rather
    /// than decided on what /proc shows by the time they are read (a name set just after).
    var decidedAgainst: [UInt32: UInt64] = [:]
    /// Records held to be handed on in timestamp order: by their places in the kernel's ring
    /// buffer while it is read, copied out when its space is wanted back before their turn.
    /// Touched with the kernel lock held.
    var timeOrder: TimeOrder<HeldRecord>
    /// Where the time order last released records: it releases again after every
    /// `releaseSpan` read, within a poll too, so the ring's space is handed back as it goes.
    private var releasedAtPosition: UInt64 = 0
    /// How long a call may block before its entry is published as unfinished, in nanoseconds.
    let callDeadline: UInt64
    /// Processes whose container became known (or unknown) since the last poll; decided again
    /// there, on the polling thread. Its own object, so that what outlives the dispatcher (the
    /// container sources) holds it weakly, not the dispatcher: an object weakly referenced pays
    /// a slower retain and release, and the dispatcher's are per record.
    public let changedProcesses = ChangedProcesses()
    /// Processes that read live records (a client's stream), by how many streams they read:
    /// never traced meanwhile, or a reader would feed on its own reading.
    private let excludedLock = NSLock()
    private var excluded: [UInt32: Int] = [:]
    /// When each excluded process started (clock ticks, /proc's): a pid that outlived its
    /// process (a stream reader killed while its stream was quiet) stops being excluded, so the
    /// next process given that pid is traced.
    private var excludedStarts: [UInt32: UInt64] = [:]
    /// When each process began to be excluded (CLOCK_BOOTTIME, as records' timestamps): its
    /// calls from before, which may still be on their way, are traced like anyone's.
    private var excludedSince: [UInt32: UInt64] = [:]
    /// `excludedSince` as of the poll under way; touched with the kernel lock held.
    var exclusionTimes: [UInt32: UInt64] = [:]
    private var exclusionsCheckedAt = ContinuousClock.now
    /// When processes left undecided were last looked for, and the kernel's losses then.
    var undecidedCheckedAt = ContinuousClock.now
    var kernelLossesAtUndecidedCheck: UInt64 = 0
    private var exclusionsChanged: [UInt32] = []
    /// How many `exclude` calls were made (under `excludedLock`), and how many of them the
    /// kernel's masks follow: a stream starts only once its reader's exclusion is in the kernel.
    private var exclusionsRequested: UInt64 = 0
    private let exclusionsApplied = Atomic<UInt64>(0)
    /// Records of processes whose container is not described yet. Only the polling thread touches them.
    var awaitingContainers = RecordsAwaitingContainers()
    /// Where containers' names, images and pods come from; nil: nowhere.
    let containers: ContainerDirectory?
    /// Container events derived from the kernel's cgroup records, enabled while some directive
    /// wants them. Changed and read with the kernel lock held.
    var derivations = DerivationTable.standard
    /// Container events waiting for their container to be described.
    let containerEvents = ContainerEventQueue()
    /// When tasks get their events on the lane's thread rather than the polling thread.
    let taskThreading: TaskThreading
    /// The tasks' second thread, and whether events go to it now. Only the polling thread
    /// touches `laneEngaged` and `laneBatch`.
    private(set) var lane: DeliveryLane!
    private(set) var laneEngaged = false
    /// Events for the lane, handed to it at the end of the poll that decided them.
    private var laneBatch: [DeliveryLane.Delivery] = []
    /// The process model's last answer on the event path; touched with the kernel lock held.
    var lastProcessLookup = ProcessModel.EntryLookup()

    init(
        catalog: TaskCatalog, configuration: KernelConfiguration, processes: ProcessModel,
        statistics: PipelineStatistics, logger: Logger, callDeadline: Duration = .seconds(1),
        orderWindow: Duration = .milliseconds(1), outputReadsEvents: Bool = true, containers: ContainerDirectory? = nil,
        taskThreading: TaskThreading = .whenBehind,
        output: @escaping @Sendable (EmittedRecord) -> Void,
        outputJSON: (@Sendable (String, String, UnsafeRawBufferPointer, UInt64) -> Bool)? = nil,
        flushOutput: @escaping @Sendable () -> Void = {}
    ) {
        self.taskThreading = taskThreading
        self.containers = containers
        self.outputJSON = outputJSON
        self.outputReadsEvents = outputReadsEvents
        self.catalog = catalog
        self.callDeadline = callDeadline.nanoseconds
        timeOrder = TimeOrder(windowNanoseconds: orderWindow.nanoseconds)
        self.configuration = configuration
        self.processes = processes
        self.statistics = statistics
        self.logger = logger
        self.output = output
        // Unowned: the dispatcher closes the lane (and its thread) before it goes away.
        lane = DeliveryLane(afterBatch: flushOutput, failed: { [unowned(unsafe) self] instance in self.reportFailure(of: instance) })
    }

    deinit { close() }

    /// Starts a directive and returns its summary, or throws a `DirectiveError` saying why not.
    /// Nothing already running is disturbed by a refused directive. With an `observer`, the
    /// directive's records go to it alone, not to the outputs (the daemon's health check).
    @discardableResult
    public func add(
        _ request: DirectiveRequest, observer: (@Sendable (EmittedRecord) -> Void)? = nil
    ) throws -> DirectiveSummary {
        let text = request.conditions.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { throw DirectiveError.missingCondition }
        let condition: Condition
        do { condition = try ConditionParser.parse(text) } catch {
            throw DirectiveError("-c \"\(QuotedInput.quote(text))\": \(error)")
        }
        guard !request.tasks.isEmpty else { throw DirectiveError("a directive needs at least one task (-t)") }
        // Each task is an instance with its own state (and the demo's, a process every interval).
        guard request.tasks.count <= Self.maximumTasksPerDirective else {
            throw DirectiveError("-t: \(request.tasks.count) tasks; a directive runs at most \(Self.maximumTasksPerDirective)")
        }

        let id = Identifier.next()
        let slot = try reserveSlot()
        defer { stateLock.withLock { _ = reservedSlots.remove(slot) } }
        let instances = try request.tasks.map { try makeInstance($0, directiveID: id, observer: observer) }
        do {
            for instance in instances { try instance.start() }
        } catch {
            for instance in instances { instance.stop() }
            throw error as? DirectiveError ?? DirectiveError("-t: \(error)")
        }
        let directive = ActiveDirective(
            id: id, slot: slot, conditionText: text, condition: condition, instances: instances)
        try kernelLock.withLock {
            guard !isClosed else {
                for entry in directive.entries { entry.instance.stop() }
                throw DirectiveError.stopping
            }
            let source = try loadKernelLocked()
            stateLock.withLock { directives[slot] = directive }
            do {
                try install(directive, in: source)
                try watchExistingProcesses(for: directive, source: source)
                queueContainerEvents(startEvents(for: directive))
            } catch {
                stateLock.withLock { directives[slot] = nil }
                try? uninstall(directive, from: source)
                if allDirectives().isEmpty { unloadLocked() }
                for entry in directive.entries { entry.instance.stop() }
                throw error as? DirectiveError ?? DirectiveError("cannot start directive: \(error)", isEnvironmental: true)
            }
        }
        logger.info("directive started", metadata: ["directive.id": "\(id)", "directive.conditions": "\(text)"])
        return directive.summary
    }

    /// Stops a directive; returns false when there is none with that ID.
    @discardableResult
    public func remove(_ id: String) -> Bool {
        // What the kernel reported before the directive ended is its own.
        kernelLock.withLock {
            handleHeld(all: true)
            submitDeliveries()
        }
        guard let directive = stateLock.withLock({ () -> ActiveDirective? in
            guard let found = directives.values.first(where: { $0.id == id }) else { return nil }
            directives[found.slot] = nil
            return found
        }) else { return false }
        kernelLock.withLock {
            if let kernel {
                do { try uninstall(directive, from: kernel) } catch {
                    logger.error("could not clear directive from the kernel: \(error)", metadata: ["directive.id": "\(id)"])
                }
            }
            if allDirectives().isEmpty { unloadLocked() }
        }
        // No poll picks the directive any more; what the second thread holds for it goes first.
        lane.waitUntilIdle()
        for entry in directive.entries { entry.instance.stop() }
        logger.info("directive stopped", metadata: ["directive.id": "\(id)"])
        return true
    }

    /// The running directives.
    public var summaries: [DirectiveSummary] {
        allDirectives().sorted { $0.slot < $1.slot }.map(\.summary)
    }

    /// Waits up to `timeoutMilliseconds` for events and dispatches them; returns how many
    /// records were read. Without directives it just waits.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32) throws -> Int {
        KernelClock.refresh()
        let read = try kernelLock.withLock { () throws -> Int? in
            guard let kernel else { return nil }
            // While records are held for the time order, wait no longer than its window: a new
            // process is decided only once its exec record is handed on.
            let wait = timeOrder.isEmpty ? timeoutMilliseconds : min(timeoutMilliseconds, timeOrder.windowMilliseconds)
            // With nothing left to read, the poll waits: the kernel would not wake it while
            // records are held in the ring.
            if wait > 0, !kernel.reader.hasWaitingRecords { spillHeld(from: kernel) }
            // Before reading: a reader's calls since its exclusion began are not published.
            exclusionTimes = excludedLock.withLock { excludedSince }
            let read = try kernel.reader.poll(timeoutMilliseconds: wait, maxRecords: Self.recordsPerPoll)
            chooseTaskThread(ringFill: kernel.reader.fill)
            handleHeld()
            endExclusionsOfProcessesGone()
            applyExclusions()
            decideChangedProcesses(changedProcesses.take())
            deliverContainerEvents()
            publishObservations()
            decideProcessesLeftUndecided(in: kernel)
            submitDeliveries()
            // A poll that read nothing returns with everything read before delivered.
            if read == 0 { lane.waitUntilIdle() }
            return read
        }
        // Nothing loaded: wait out the timeout without the lock, or a polling loop would spin on
        // it and starve `add`.
        guard let read else {
            usleep(UInt32(max(timeoutMilliseconds, 0)) * 1000)
            return 0
        }
        return read
    }

    /// Whether records wait in the ring buffer (one still being written counts).
    public var hasUnreadRecords: Bool {
        kernelLock.withLock { kernel?.reader.hasWaitingRecords ?? false }
    }

    /// Stops tracing `pid` until as many `stopExcluding` calls: it reads live records. The
    /// kernel's mask follows at the next poll; directives added from now on pass it by.
    /// Returns a ticket for `waitUntilApplied`.
    @discardableResult
    public func exclude(_ pid: UInt32) -> UInt64 {
        let started = Self.startTicks(of: pid)
        let now = UInt64(max(KernelClock.nanoseconds(CLOCK_BOOTTIME), 0))
        return excludedLock.withLock {
            if excluded[pid] == nil { excludedSince[pid] = now }
            excluded[pid, default: 0] += 1
            if let started { excludedStarts[pid] = started }
            exclusionsChanged.append(pid)
            exclusionsRequested += 1
            return exclusionsRequested
        }
    }

    /// Waits until the kernel's masks follow the `exclude` that gave `ticket` (the next poll),
    /// or `limit` has passed: from then on none of the process's calls is read.
    public func waitUntilApplied(exclusion ticket: UInt64, limit: Duration = .seconds(1)) async {
        let deadline = ContinuousClock.now + limit
        while exclusionsApplied.load(ordering: .acquiring) < ticket, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    private static func startTicks(of pid: UInt32) -> UInt64? {
        ProcFS.read("/proc/\(pid)/stat").flatMap(ProcFS.statFields)?.startTicks
    }

    /// Ends the exclusions of processes gone (or whose pid now names another process), at
    /// most once a second. Call with the kernel lock held.
    private func endExclusionsOfProcessesGone() {
        let now = ContinuousClock.now
        guard now - exclusionsCheckedAt >= .seconds(1) else { return }
        exclusionsCheckedAt = now
        let starts = excludedLock.withLock { excludedStarts }
        let gone = starts.filter { Self.startTicks(of: $0.key) != $0.value }.map(\.key)
        guard !gone.isEmpty else { return }
        excludedLock.withLock {
            // A pid excluded again meanwhile, for its new process, stays excluded.
            for pid in gone where excludedStarts[pid] == starts[pid] {
                excluded[pid] = nil
                excludedStarts[pid] = nil
                excludedSince[pid] = nil
                exclusionsChanged.append(pid)
            }
        }
    }

    /// Ends one `exclude`; after the last, the process is decided by the directives' conditions again.
    public func stopExcluding(_ pid: UInt32) {
        excludedLock.withLock {
            guard let count = excluded[pid] else { return }
            excluded[pid] = count > 1 ? count - 1 : nil
            if count == 1 {
                excludedStarts[pid] = nil
                excludedSince[pid] = nil
            }
            exclusionsChanged.append(pid)
        }
    }

    /// Sets the kernel's masks of the processes excluded or no longer excluded since the last
    /// poll. Call with the kernel lock held.
    private func applyExclusions() {
        let (changed, ticket) = excludedLock.withLock { () -> ([UInt32], UInt64) in
            defer { exclusionsChanged = [] }
            return (exclusionsChanged, exclusionsRequested)
        }
        for pid in Set(changed) {
            if isExcluded(pid) {
                try? setWatch(pid, directives: 0)
                // A call it is blocked in (a read of its stream) is its own reading too.
                _ = pendingCalls.takeAll(of: pid)
            } else if let process = processes.refresh(pid) {
                // Read again: the model kept it while excluded, and it may be gone since.
                decide(pid, process: process)
            }
        }
        exclusionsApplied.store(ticket, ordering: .releasing)
    }

    func isExcluded(_ pid: UInt32) -> Bool { excludedLock.withLock { excluded[pid] != nil } }

    /// The kernel's IDs of the programs loaded; empty while none is.
    public func loadedProgramIDs() throws -> [UInt32] {
        try kernelLock.withLock { try kernel?.programIDs() ?? [] }
    }

    /// The kernel's counters since the dispatcher was made, across loads of the programs.
    /// As of the last poll: read without waiting for the polling thread, which holds the kernel
    /// lock while it waits for records and takes it again at once under a flood.
    func kernelCounters() -> KernelCounters { observed.withLock { $0.kernel } }

    /// What `kernelCounters` and `recordsHeldForOrder` read, set by the polling thread.
    private let observed = Mutex<(kernel: KernelCounters, heldForOrder: Int)>((KernelCounters(), 0))

    /// Publishes the kernel's counters and what the time order holds. Call with the kernel lock held.
    private func publishObservations() {
        let counters = retiredKernelCounters + ((try? kernel?.process.counters()) ?? KernelCounters())
        let held = timeOrder.count
        observed.withLock { $0 = (counters, held) }
    }

    /// Stops every directive and unloads the programs.
    public func close() {
        kernelLock.withLock { isClosed = true }
        for directive in allDirectives() { remove(directive.id) }
        kernelLock.withLock { unloadLocked() }
        lane.close()
    }

    // MARK: - The tasks' thread

    /// Moves the tasks to the lane while the ring buffer is filling faster than one thread
    /// empties it, and back once it has caught up. Call with the kernel lock held.
    private func chooseTaskThread(ringFill: Double) {
        let engage = taskThreading.engages(ringFill: ringFill, engagedNow: laneEngaged)
        guard engage != laneEngaged else { return }
        if !engage {
            // What the lane holds goes before what the polling thread delivers next.
            submitDeliveries()
            lane.waitUntilIdle()
        }
        laneEngaged = engage
        statistics.taskThreadChanged(engaged: engage)
    }

    /// Hands an event to an instance: at once, or queued for the lane while it is engaged.
    func hand(_ event: DeliverableEvent, to instance: TaskInstance) {
        if laneEngaged {
            laneBatch.append(
                DeliveryLane.Delivery(
                    instance: instance, event: event, process: processes.latestEntry(event.pid, last: &lastProcessLookup)))
        } else if !instance.deliver(event) {
            reportFailure(of: instance)
        }
    }

    /// Gives the lane the events queued for it. Call with the kernel lock held.
    private func submitDeliveries() {
        guard !laneBatch.isEmpty else { return }
        let batch = laneBatch
        laneBatch = []
        laneBatch.reserveCapacity(batch.count)
        lane.submit(batch)
    }

    // MARK: - Setting up

    private func reserveSlot() throws -> Int {
        try stateLock.withLock {
            guard let free = (0..<Self.maximumDirectives).first(where: { directives[$0] == nil && !reservedSlots.contains($0) })
            else { throw DirectiveError("too many directives: at most \(Self.maximumDirectives) run at once") }
            reservedSlots.insert(free)
            return free
        }
    }

    private func makeInstance(
        _ spec: TaskSpec, directiveID: String, observer: (@Sendable (EmittedRecord) -> Void)?
    ) throws -> TaskInstance {
        guard let task = catalog.task(named: spec.taskName) else {
            let loaded = catalog.tasks.map(\.name).joined(separator: ", ")
            throw DirectiveError("-t \"\(QuotedInput.quote(spec.taskName))\": unknown task (loaded: \(loaded.isEmpty ? "none" : loaded))")
        }
        let destination = observer ?? output
        var services = TaskServices(
            emit: { [statistics] record in
                statistics.emitted()
                destination(record)
            },
            processInfo: { [processes] pid in processes.snapshot(pid) }, logger: logger,
            attachesEvents: observer != nil || outputReadsEvents)
        if observer == nil, let outputJSON {
            services.emitJSON = { [statistics] taskName, directiveID, json, timestamp in
                guard outputJSON(taskName, directiveID, json, timestamp) else { return false }
                statistics.emitted()
                return true
            }
        }
        do {
            return try TaskInstance(task: task, directiveID: directiveID, options: spec.options, services: services)
        } catch let error as TaskInstanceError {
            throw DirectiveError("-t \"\(spec.taskName)\": \(error)")
        }
    }

    /// Loads the programs if no directive has yet. Call with kernelLock held.
    private func loadKernelLocked() throws -> KernelEventSource {
        if let kernel { return kernel }
        do {
            // Unowned without a check: a weak load per record cost 2% of it. The dispatcher
            // frees the source (and with it the reader) before it goes away itself.
            let source = try KernelEventSource(
                configuration: configuration,
                releasePoint: { [unowned(unsafe) self] in self.timeOrder.firstArrived()?.position ?? .max },
                onRecord: { [unowned(unsafe) self] raw, position in self.arrived(raw, at: position) })
            kernel = source
            return source
        } catch {
            throw DirectiveError("cannot start tracing: \(error)", isEnvironmental: true)
        }
    }

    /// A record from the kernel: held where it lies for the time order, unless it is late for it.
    /// Call with the kernel lock held.
    private func arrived(_ raw: UnsafeRawBufferPointer, at position: UInt64) {
        guard let header = RecordHeader(raw), let kernel, kernel.decoders.knows(header.kind) else {
            statistics.malformed()
            return
        }
        newestRecordRead = max(newestRecordRead, header.timestamp)
        if header.isProcess, case .process(let record) = kernel.decoders.decode(raw, header: header) {
            decideOnArrival(record, in: kernel)
        }
        if timeOrder.add(.inRing(position), timestamp: header.timestamp) != nil {
            statistics.arrivedLate()
            handleRecord(raw, header: header, in: kernel, running: runningDirectives)
            return
        }
        if position &- releasedAtPosition >= Self.releaseSpan(of: kernel.reader) { handleHeld(whileReading: true) }
    }

    /// How much is read between releases: a batch of the reader's hand-backs, and a small part
    /// of a small ring.
    private static func releaseSpan(of reader: RingBufferReader) -> UInt64 {
        min(RingBufferReader.releaseBytes, reader.capacity / 16)
    }

    /// Hands on the held records the time order's window has passed for (`all`: every one),
    /// then gives their space in the ring back. Call with the kernel lock held.
    ///
    /// The window is measured from now only once everything committed has been read; until then
    /// (`whileReading`, or records wait) from the newest record read: a record still unread took
    /// its place in the ring after that one, so its timestamp is at most the window older. A
    /// reader more than a window behind would otherwise release records that older ones, still
    /// unread, then arrive late for.
    private func handleHeld(all: Bool = false, whileReading: Bool = false) {
        guard let kernel else { return }
        releasedAtPosition = kernel.reader.readPosition
        var clock = UInt64(max(KernelClock.nanoseconds(CLOCK_BOOTTIME), 0))
        if whileReading || kernel.reader.hasWaitingRecords { clock = min(clock, newestRecordRead) }
        // Everything up to here has been handed on once the release below is done.
        defer {
            handedOnUntil = max(handedOnUntil, all ? newestRecordRead : clock &- min(timeOrder.window, clock))
            publishOverdueCalls(orderedUntil: handedOnUntil)
        }
        guard !timeOrder.isEmpty else { return }
        // Taken once: a directive added meanwhile waits for the kernel lock to be installed, and
        // one removed keeps its instances until it has.
        let running = runningDirectives
        // Records in the ring are read in place: their space goes back only after the last of them.
        for held in timeOrder.release(now: clock, all: all) {
            held.withBytes(in: kernel.reader) { raw in
                guard let header = RecordHeader(raw) else { return }  // checked on arrival
                // A call overdue before this record's time is published before it.
                publishOverdueCalls(orderedUntil: header.timestamp)
                handleRecord(raw, header: header, in: kernel, running: running)
            }
        }
        // Held in place, a quarter of the ring would be gone from the producers for a window:
        // what a small ring or a long window asks for is held in copies instead.
        if let first = timeOrder.firstArrived()?.position, kernel.reader.readPosition &- first > kernel.reader.capacity / 4 {
            spillHeld(from: kernel)
        } else {
            kernel.reader.handBack()
        }
    }

    /// Copies every record held in the ring out of it, and hands its space back: before a
    /// wait (the kernel wakes a reader only once everything has been handed back) or when
    /// holding them in place would take too much of the ring. Call with the kernel lock held.
    private func spillHeld(from kernel: KernelEventSource) {
        guard timeOrder.firstArrived() != nil else { return }
        timeOrder.spill { held in
            guard case .inRing(let position) = held else { return held }
            return .copied(Array(kernel.reader.bytes(at: position)))
        }
        kernel.reader.handBack()
    }

    /// Decodes a record and handles it: a syscall's goes straight on, without the copies a
    /// `KernelEvent` around it would cost.
    private func handleRecord(
        _ raw: UnsafeRawBufferPointer, header: RecordHeader, in kernel: KernelEventSource, running: [ActiveDirective]
    ) {
        if header.isSyscall {
            guard let record = SyscallRecord(UnsafeRawBufferPointer(rebasing: raw[..<Int(header.recordSize)])) else {
                statistics.malformed()
                return
            }
            statistics.received()
            dispatch(record, running: running)
        } else if let event = kernel.decoders.decode(raw, header: header) {
            handle(event, running: running)
        } else {
            statistics.malformed()
        }
    }

    /// How many records wait for the time order.
    var recordsHeldForOrder: Int { observed.withLock { $0.heldForOrder } }

    private func unloadLocked() {
        handleHeld(all: true)
        submitDeliveries()
        pendingCalls = PendingCalls()
        guard let kernel else { return }
        if let last = try? kernel.process.counters() { retiredKernelCounters = retiredKernelCounters + last }
        statistics.leftUnread(kernel.reader.unreadRecordCount())
        kernel.close()
        self.kernel = nil
        publishObservations()
    }

    private func allDirectives() -> [ActiveDirective] {
        stateLock.withLock { Array(directives.values) }
    }

    /// The running directives in slot order, for the event path.
    var runningDirectives: [ActiveDirective] { stateLock.withLock { running } }

    /// The loaded programs, for the event path: records are handled inside `poll`, which holds
    /// the kernel lock, so the source cannot go away meanwhile.
    var kernelSource: KernelEventSource? { kernel }

    /// Hooks the directive's syscalls (native and i386 numbers) and marks it active.
    private func install(_ directive: ActiveDirective, in source: KernelEventSource) throws {
        try source.process.setActiveDirectives(allDirectives().reduce(0) { $0 | $1.bit })
        try updateHooks(for: directive.syscalls, in: source)
        try updateDerivations(in: source)
    }

    /// Enables the derivations some directive wants, and has the kernel report cgroups while any is.
    private func updateDerivations(in source: KernelEventSource) throws {
        derivations.enable(Set(allDirectives().flatMap(\.containerEvents)))
        try source.cgroups.report(derivations.anyEnabled)
    }

    /// Unhooks what only the directive needed and clears its bit from every process.
    private func uninstall(_ directive: ActiveDirective, from source: KernelEventSource) throws {
        try source.process.setActiveDirectives(allDirectives().reduce(0) { $0 | $1.bit })
        try updateHooks(for: directive.syscalls, in: source)
        try updateDerivations(in: source)
        for (tgid, mask) in source.process.watchedProcesses() where mask & directive.bit != 0 {
            try source.process.watch(tgid: tgid, directives: mask & ~directive.bit)
        }
    }

    /// Sets, for each syscall function, which directives want its entry and which its exit, at
    /// its x86_64 number and at each i386 number that is a form of it; the entry program is
    /// attached only while some directive hooks a syscall at entry, the exit programs while one
    /// wants calls whole.
    private func updateHooks(for functions: Set<Int>, in source: KernelEventSource) throws {
        let all = allDirectives()
        for function in functions {
            let entries = all.filter { $0.entrySyscalls.contains(function) }.reduce(UInt64(0)) { $0 | $1.bit }
            let exits = all.filter { $0.exitSyscalls.contains(function) }.reduce(UInt64(0)) { $0 | $1.bit }
            let id = UInt64(function)
            if id < SyscallTable.i386OnlyBase, let native = SyscallTable.signature(number: function) {
                try source.syscalls.hook(syscall: native.number, compat: false, entries: entries, exits: exits)
                try source.syscalls.setCapturePlans(
                    syscall: native.number, compat: false, entry: .plan(for: native), exit: .exitPlan(for: native))
            }
            for number in SyscallTable.i386Numbers(ofFunction: id) {
                guard let compat = SyscallTable.signature(number: number, abi: .i386) else { continue }
                try source.syscalls.hook(syscall: number, compat: true, entries: entries, exits: exits)
                try source.syscalls.setCapturePlans(
                    syscall: number, compat: true, entry: .plan(for: compat),
                    exit: .exitPlan(for: compat, compat: true))
            }
        }
        try source.syscalls.reportEntries(all.contains { !$0.entrySyscalls.isEmpty })
        try source.syscalls.reportExits(all.contains { !$0.exitSyscalls.isEmpty })
    }

    /// Puts every existing process the directive may select into the kernel's process mask.
    private func watchExistingProcesses(for directive: ActiveDirective, source: KernelEventSource) throws {
        for pid in ProcFS.allPIDs() where pid != UInt32(getpid()) && !isExcluded(pid) {
            guard let process = processes.snapshot(pid) else { continue }
            let mask = source.process.watchMask(tgid: pid) ?? 0
            if directive.selects(process, capabilities: nil) != false {
                try source.process.watch(tgid: pid, directives: mask | directive.bit)
            } else if mask == 0 {
                processes.forget(pid)
            }
        }
    }
}

/// Pids to decide again at the next poll, from any thread.
public final class ChangedProcesses: @unchecked Sendable {
    private let lock = NSLock()
    private var pids: [UInt32] = []

    public func add(_ changed: [UInt32]) {
        guard !changed.isEmpty else { return }
        lock.withLock { pids += changed }
    }

    func take() -> [UInt32] {
        lock.withLock {
            defer { pids = [] }
            return pids
        }
    }
}

/// A record the time order holds: where it lies in the kernel's ring buffer, or a copy.
enum HeldRecord {
    case inRing(UInt64)
    case copied([UInt8])

    /// Its place in the ring; nil for a copy.
    var position: UInt64? {
        if case .inRing(let position) = self { position } else { nil }
    }

    /// Calls `body` with the record's bytes, where they lie in `reader`'s ring or in the copy.
    func withBytes(in reader: RingBufferReader, _ body: (UnsafeRawBufferPointer) -> Void) {
        switch self {
        case .inRing(let position): body(reader.bytes(at: position))
        case .copied(let bytes): bytes.withUnsafeBytes(body)
        }
    }
}
