import Foundation
import Logging
import SyscallTable

/// Runs directives: programs the kernel's masks from their conditions and tasks, reads the
/// ring buffer, matches every event against the conditions (user space is authoritative) and
/// hands it to the task instances that asked for it.
///
/// `add` and `remove` may be called from any thread; `poll` from one thread at a time.
public final class TracingSession: @unchecked Sendable {
    public static let maximumDirectives = 64
    /// Records handled per poll before the lock is let go: bounds how long `add`, `remove` and
    /// `counters` wait while a flood keeps the ring buffer from running empty.
    static let recordsPerPoll = 8192

    let catalog: TaskCatalog
    let processes: ProcessCache
    let logger: Logger
    private let configuration: SyscallsProgram.Configuration
    private let output: @Sendable (EmittedRecord) -> Void
    private let stateLock = NSLock()
    private var directives: [Int: ActiveDirective] = [:] {
        didSet { running = directives.values.sorted { $0.slot < $1.slot } }
    }
    /// `directives` in slot order, for the event path: read once per record, never filtered there.
    private var running: [ActiveDirective] = []
    private let kernelLock = NSLock()  // the program's lifetime against polling
    private var kernel: KernelSide?
    private let statistics = SessionStatistics()
    private let monotonicToWallClock: Int64

    public init(
        catalog: TaskCatalog, configuration: SyscallsProgram.Configuration = .init(),
        processes: ProcessCache = ProcessCache(), logger: Logger,
        output: @escaping @Sendable (EmittedRecord) -> Void
    ) {
        self.catalog = catalog
        self.configuration = configuration
        self.processes = processes
        self.logger = logger
        self.output = output
        monotonicToWallClock = Int64(BootClock.clockNanoseconds(CLOCK_REALTIME))
            - Int64(BootClock.clockNanoseconds(CLOCK_MONOTONIC))
    }

    deinit { close() }

    /// Starts a directive and returns its summary, or throws a `DirectiveError` saying why not.
    /// Nothing already running is disturbed by a refused directive.
    @discardableResult
    public func add(_ request: DirectiveRequest) throws -> DirectiveSummary {
        let text = request.conditions.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { throw DirectiveError.missingCondition }
        let condition: Condition
        do { condition = try ConditionParser.parse(text) } catch { throw DirectiveError("-c \"\(text)\": \(error)") }
        guard !request.tasks.isEmpty else { throw DirectiveError("a directive needs at least one task (-t)") }

        let id = Identifier.next()
        let instances = try request.tasks.map { try makeInstance($0, directiveID: id) }
        let slot = try stateLock.withLock { () throws -> Int in
            guard let free = (0..<Self.maximumDirectives).first(where: { directives[$0] == nil }) else {
                throw DirectiveError("too many directives: at most \(Self.maximumDirectives) run at once")
            }
            return free
        }
        let directive = ActiveDirective(
            id: id, slot: slot, conditionText: text, condition: condition, instances: instances)
        try kernelLock.withLock {
            let side = try loadKernelSideLocked()
            stateLock.withLock { directives[slot] = directive }
            do {
                for entry in directive.instances { try entry.instance.start() }
                try side.install(directive, all: allDirectives())
                try watchExistingProcesses(for: directive, side: side)
            } catch {
                stateLock.withLock { directives[slot] = nil }
                try? side.uninstall(directive, remaining: allDirectives())
                if allDirectives().isEmpty { unloadLocked() }
                for entry in directive.instances { entry.instance.stop() }
                throw error as? DirectiveError ?? DirectiveError("cannot start directive: \(error)")
            }
        }
        logger.info("directive started", metadata: ["directive.id": "\(id)", "directive.conditions": "\(text)"])
        return directive.summary
    }

    /// Stops a directive; returns false when there is none with that ID.
    @discardableResult
    public func remove(_ id: String) -> Bool {
        guard let directive = stateLock.withLock({ () -> ActiveDirective? in
            guard let found = directives.values.first(where: { $0.id == id }) else { return nil }
            directives[found.slot] = nil
            return found
        }) else { return false }
        kernelLock.withLock {
            do {
                try kernel?.uninstall(directive, remaining: allDirectives())
            } catch {
                logger.error("could not clear directive from the kernel: \(error)", metadata: ["directive.id": "\(id)"])
            }
            if allDirectives().isEmpty { unloadLocked() }
        }
        for entry in directive.instances { entry.instance.stop() }
        logger.info("directive stopped", metadata: ["directive.id": "\(id)"])
        return true
    }

    /// How many processes the session holds information about.
    public var knownProcessCount: Int { processes.count }

    /// The running directives.
    public var summaries: [DirectiveSummary] {
        allDirectives().sorted { $0.slot < $1.slot }.map(\.summary)
    }

    /// Waits up to `timeoutMilliseconds` for events and dispatches them; returns how many
    /// records were read. Without directives it just waits.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32) throws -> Int {
        let read = try kernelLock.withLock { () throws -> Int? in
            guard let kernel else { return nil }
            return try kernel.reader.poll(timeoutMilliseconds: timeoutMilliseconds, maxRecords: Self.recordsPerPoll)
        }
        // Nothing loaded: wait out the timeout without the lock, or a polling loop would spin on
        // it and starve `add`.
        guard let read else {
            usleep(UInt32(max(timeoutMilliseconds, 0)) * 1000)
            return 0
        }
        return read
    }

    /// The kernel's IDs of the programs this session has loaded; empty while none is.
    public func loadedProgramIDs() throws -> [UInt32] {
        try kernelLock.withLock { try kernel?.program.programIDs() ?? [] }
    }

    /// Drop and delivery counters.
    public func counters() -> SessionCounters {
        var counters = statistics.snapshot()
        kernelLock.withLock { counters.kernel = (try? kernel?.program.counters()) ?? nil }
        return counters
    }

    /// Stops every directive and unloads the program.
    public func close() {
        for directive in allDirectives() { remove(directive.id) }
        kernelLock.withLock { unloadLocked() }
    }

    // MARK: - Setting up

    private func makeInstance(_ spec: TaskSpec, directiveID: String) throws -> TaskInstance {
        guard let task = catalog.task(named: spec.taskName) else {
            let loaded = catalog.tasks.map(\.name).joined(separator: ", ")
            throw DirectiveError("-t \"\(spec.taskName)\": unknown task (loaded: \(loaded.isEmpty ? "none" : loaded))")
        }
        let services = TaskServices(
            emit: { [statistics, output] record in
                statistics.emitted()
                output(record)
            },
            processInfo: { [processes] pid in processes.snapshot(pid) }, logger: logger)
        do {
            return try TaskInstance(task: task, directiveID: directiveID, options: spec.options, services: services)
        } catch let error as TaskInstanceError {
            throw DirectiveError("-t \"\(spec.taskName)\": \(error)")
        }
    }

    /// Loads the program if no directive has yet. Call with kernelLock held.
    private func loadKernelSideLocked() throws -> KernelSide {
        if let kernel { return kernel }
        do {
            // Unowned without a check: a weak load per record cost 2% of it. The session
            // frees the kernel side (and with it this reader) before it goes away itself.
            let side = try KernelSide(configuration: configuration) { [unowned(unsafe) self] raw in
                self.handle(raw)
            }
            kernel = side
            return side
        } catch {
            throw DirectiveError("cannot start tracing: \(error)")
        }
    }

    private func unloadLocked() {
        kernel?.close()
        kernel = nil
    }

    private func allDirectives() -> [ActiveDirective] {
        stateLock.withLock { Array(directives.values) }
    }

    /// Puts every existing process the directive may select into the kernel's process mask.
    private func watchExistingProcesses(for directive: ActiveDirective, side: KernelSide) throws {
        for pid in ProcFS.allPIDs() where pid != UInt32(getpid()) {
            guard let process = processes.snapshot(pid) else { continue }
            let mask = side.program.watchMask(tgid: pid) ?? 0
            if directive.selects(process, capabilities: nil) != false {
                try side.program.watch(tgid: pid, directives: mask | directive.bit)
            } else if mask == 0 {
                processes.forget(pid)
            }
        }
    }

    // MARK: - Events

    private func handle(_ raw: UnsafeRawBufferPointer) {
        statistics.received()
        guard let record = KernelRecord.parse(raw) else {
            statistics.malformed()
            return
        }
        switch record {
        case .syscall(let syscall): dispatch(syscall)
        case .exec(let info), .fork(let info): decide(info.pid, process: processes.refresh(info.pid, kernel: info))
        case .exit(let pid):
            // A decision handled after the exit (the notices queue) re-inserted the pid: clear it.
            try? kernel?.program.watch(tgid: pid, directives: 0)
            processes.exited(pid)
        }
    }

    /// Sets a new or changed process's mask from every directive's condition.
    private func decide(_ pid: UInt32, process: ProcessSnapshot?) {
        let mask = process.map { process in
            allDirectives().reduce(UInt64(0)) { mask, directive in
                directive.selects(process, capabilities: nil) == false ? mask : mask | directive.bit
            }
        } ?? 0
        try? kernel?.program.watch(tgid: pid, directives: mask)
        if mask == 0 { processes.forget(pid) }
    }

    private func dispatch(_ record: SyscallRecord) {
        let running: [ActiveDirective] = stateLock.withLock { self.running }
        guard running.contains(where: { record.directives & $0.bit != 0 }) else { return }
        guard let (signature, functionID) = Self.function(of: record) else {
            statistics.unknownSyscall()
            return
        }
        // The snapshot is copied out of the cache only when some decision needs it.
        var generation = processes.cachedGeneration(record.pid) ?? 0
        var process: ProcessSnapshot?
        func loadProcess() -> ProcessSnapshot {
            if let process { return process }
            let loaded = processes.snapshot(record.pid)
                ?? ProcessSnapshot(pid: record.pid, ppid: 0, name: record.comm, cmd: "", exe: "", ns: "", startedAtNanoseconds: 0)
            process = loaded
            return loaded
        }
        var event: DeliverableEvent?
        for directive in running where record.directives & directive.bit != 0
            && directive.selectsEvent(generation: generation, capabilities: record.capabilities, process: loadProcess) {
            for entry in directive.instances where entry.functions.contains(functionID) {
                if event == nil {
                    if generation == 0 { generation = loadProcess().generation }
                    event = makeEvent(record, signature: signature, functionID: functionID, processGeneration: generation)
                }
                if !entry.instance.deliver(event!) { reportFailure(of: entry.instance) }
            }
        }
    }

    /// Counts a failed delivery and logs the task's reason: the first few, then every 1000th.
    private func reportFailure(of instance: TaskInstance) {
        let count = statistics.taskFailed()
        guard count <= 5 || count % 1000 == 0 else { return }
        logger.warning(
            "task failed to handle an event: \(instance.lastFailure() ?? "no reason given")",
            metadata: ["task.name": "\(instance.task.name)", "directive.id": "\(instance.directiveID)",
                       "failures": "\(count)"])
    }

    /// The syscall's signature and the function id tasks know it by (its x86_64 number; a
    /// 32-bit task's call is matched to the x86_64 syscall of the same name).
    static func function(of record: SyscallRecord) -> (SyscallSignature, UInt64)? {
        guard let signature = SyscallTable.signature(number: record.number, abi: record.isCompat ? .i386 : .x86_64)
        else { return nil }
        if !record.isCompat { return (signature, UInt64(record.number)) }
        guard let native = SyscallTable.signature(named: signature.name) else { return nil }
        return (signature, UInt64(native.number))
    }

    private func makeEvent(
        _ record: SyscallRecord, signature: SyscallSignature, functionID: UInt64, processGeneration: UInt64
    ) -> DeliverableEvent {
        DeliverableEvent(
            timestampNanoseconds: UInt64(Int64(record.monotonicNanoseconds) + monotonicToWallClock),
            cpu: record.cpu, pid: record.pid, tid: record.tid, isCompat: record.isCompat,
            functionID: functionID, functionName: signature.name, comm: record.comm,
            arguments: ArgumentDecoder.decode(record, signature: signature), processGeneration: processGeneration)
    }
}
