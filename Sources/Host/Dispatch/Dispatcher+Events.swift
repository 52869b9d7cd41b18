import CTawonBPF
import Foundation
import SyscallTable

/// The event path: what the dispatcher does with each record the kernel source decoded.
extension Dispatcher {
    /// `running`: the running directives, where the caller took them once for many records.
    func handle(_ event: KernelEvent, running: [ActiveDirective]? = nil) {
        statistics.received()
        switch event {
        case .syscall(let record): dispatch(record, running: running ?? runningDirectives)
        case .process(let record): handleProcess(record)
        case .cgroup(let record): handleCgroup(record)
        }
    }

    private func handleProcess(_ record: ProcessRecord) {
        if record.change != .exit { kernelChangesRead[record.pid] = record.bootNanoseconds }
        decidedAgainst[record.pid] = nil
        switch record.change {
        case .exec, .fork:
            // Before the model learns the new image: the call belongs to the process as it was.
            if record.change == .exec { completeExec(record) }
            let process = processes.refresh(record.pid, kernel: record)
            decide(record.pid, process: process)
            if record.change == .exec, let process { deliver(.exec, of: record, process: process) }
        case .rename:
            // Known by its new name from here on, and decided again under it.
            let process = processes.rename(record.pid, to: record.comm) ?? processes.refresh(record.pid, kernel: record)
            decide(record.pid, process: process)
        case .exit:
            publishUnreturnedCalls(of: record.pid)
            if let process = processes.cached(record.pid) { deliver(.exit, of: record, process: process) }
            // A decision handled after the exit (the notices queue) re-inserted the pid: clear it.
            try? setWatch(record.pid, directives: 0)
            kernelChangesRead[record.pid] = nil
            processes.exited(record.pid)
        }
    }

    /// Processes whose snapshots changed outside the event path (their container's metadata):
    /// their masks are set again and the records they held while it was awaited are dispatched,
    /// in order. Records held past the deadline are decided without it.
    func decideChangedProcesses(_ pids: [UInt32]) {
        for pid in pids {
            guard let process = processes.cached(pid) else { continue }
            decide(pid, process: process)
        }
        guard !awaitingContainers.isEmpty else { return }
        for pid in awaitingContainers.pids where !processes.awaitsContainer(pid) {
            awaitingContainers.take(pid).forEach { dispatch($0, mayHold: false) }
        }
        for pid in awaitingContainers.overdue() {
            let records = awaitingContainers.take(pid)
            statistics.decidedWithoutContainer(records.count)
            records.forEach { dispatch($0, mayHold: false) }
        }
    }

    /// Sets a new or changed process's mask from every directive's condition.
    func decide(_ pid: UInt32, process: ProcessSnapshot?) {
        // An excluded process is not traced from now on, but what it did before its exclusion
        // may still be on its way: the model keeps it for that.
        let selecting = watchMask(pid, process: process, ignoringExclusion: true)
        try? setWatch(pid, directives: isExcluded(pid) ? 0 : selecting)
        // A call still in flight is published with the process it was made by.
        if selecting == 0 && !pendingCalls.hasCalls(of: pid) {
            // Nothing watches it, so no exit record will come to clear what was read of it.
            processes.forget(pid)
            kernelChangesRead[pid] = nil
            rememberDecisionAgainst(pid)
        }
    }

    /// Remembers a decision against `pid` while records from before it may still be read; kept
    /// for `ProcessProgram.recordLateness` of records, and to at most 4096 processes.
    private func rememberDecisionAgainst(_ pid: UInt32) {
        decidedAgainst[pid] = newestRecordRead
        guard decidedAgainst.count > 4096 else { return }
        decidedAgainst = decidedAgainst.filter { $0.value &+ ProcessProgram.recordLateness > newestRecordRead }
        if decidedAgainst.count > 4096 { decidedAgainst = [pid: newestRecordRead] }
    }

    /// The directives that may select the process: every one whose condition is not false for it.
    private func watchMask(_ pid: UInt32, process: ProcessSnapshot?, ignoringExclusion: Bool = false) -> UInt64 {
        guard ignoringExclusion || !isExcluded(pid), let process else { return 0 }
        return runningDirectives.reduce(UInt64(0)) { mask, directive in
            directive.selects(process, capabilities: nil) == false ? mask : mask | directive.bit
        }
    }

    /// A process just exec'd (or forked by one not yet decided, or renamed) is watched by every
    /// directive, to a budget, until it is decided; its record's turn in the time order comes a
    /// window later, in which a fast process spends the budget. So the kernel's mask is set as
    /// soon as the record is read, from what the record says; the decision in its turn follows,
    /// and what was read of the process before it stays the old image's.
    func decideOnArrival(_ record: ProcessRecord, in kernel: KernelEventSource) {
        guard record.change != .exit, timeOrder.windowMilliseconds > 0 else { return }
        let mask = watchMask(record.pid, process: processes.preview(record.pid, kernel: record))
        try? kernel.process.watch(
            tgid: record.pid, directives: mask, readChangesUntil: record.bootNanoseconds, readUntil: newestRecordRead)
    }

    /// A process whose exec, fork or rename record was lost (a full ring buffer) is never decided
    /// by it: the kernel would hold it to the undecided budget for good and drop its calls past
    /// that. While the kernel counts losses or held records, once a second, a process left
    /// undecided for over `ProcessProgram.recordLateness` is decided from /proc, its change
    /// taken as read. Call with the kernel lock held.
    func decideProcessesLeftUndecided(in kernel: KernelEventSource) {
        let now = ContinuousClock.now
        guard now - undecidedCheckedAt >= .seconds(1) else { return }
        undecidedCheckedAt = now
        let counters = kernelCounters()
        let losses = counters.ringBufferFull &+ counters.heldUndecided
        guard losses != kernelLossesAtUndecidedCheck else { return }
        kernelLossesAtUndecidedCheck = losses
        let bootNow = UInt64(max(KernelClock.nanoseconds(CLOCK_BOOTTIME), 0))
        let before = bootNow > ProcessProgram.recordLateness ? bootNow - ProcessProgram.recordLateness : 0
        for (pid, changed) in kernel.process.undecidedProcesses(changedBefore: before) {
            kernelChangesRead[pid] = max(kernelChangesRead[pid] ?? 0, changed)
            // The model may still hold the image before the lost exec.
            decide(pid, process: processes.refresh(pid))
        }
    }

    /// Sets the kernel's mask of a process as decided, unless the kernel set its entry anew (an
    /// exec, a fork, a rename) after the records handed on so far: that change's own record
    /// decides. Judged by what was handed on, not read: with a long window, the change's record
    /// may have been read a window ago and still wait its turn, and is not lost.
    func setWatch(_ pid: UInt32, directives mask: UInt64) throws {
        try kernelSource?.process.watch(
            tgid: pid, directives: mask, readChangesUntil: kernelChangesRead[pid] ?? 0, readUntil: handedOnUntil)
    }

    /// A pending execve has succeeded: its return (0) is seen in the new image, which a directive
    /// may no longer select, so it is completed here from the exec's file name and argv.
    private func completeExec(_ record: ProcessRecord) {
        guard let pending = pendingCalls.takeExec(of: record.pid) else { return }
        var whole = pending.entry.completedByExec(
            filename: record.exe, argv: record.arguments,
            argvTruncated: record.arguments.reduce(0) { $0 + $1.utf8.count + 1 } >= Int(PROCESS_ARGS_LEN))
        // It returned in the new image: it stands in time order where the exec happened.
        whole.bootNanoseconds = record.bootNanoseconds
        deliver(
            whole, functionID: pending.functionID, to: pending.directives, running: runningDirectives,
            generation: pending.generation, phase: .exit, callID: pending.callID, wholeCalls: true)
    }

    /// Hands a process lifecycle event to the instances that subscribed to it, in directives
    /// that select the process (with its capabilities at that moment).
    private func deliver(_ kind: ProcessEventKind, of record: ProcessRecord, process: ProcessSnapshot) {
        var event: DeliverableEvent?
        for directive in runningDirectives where record.directives & directive.bit != 0 && directive.wants(kind)
            && directive.selects(process, capabilities: record.capabilities) == true {
            for entry in directive.entries where entry.processEvents.contains(kind) {
                if event == nil { event = Self.processEvent(kind, record, generation: process.generation) }
                hand(event!, to: entry.instance)
            }
        }
    }

    static func processEvent(_ kind: ProcessEventKind, _ record: ProcessRecord, generation: UInt64) -> DeliverableEvent {
        let arguments: [DeliverableEvent.Argument]
        switch kind {
        case .exec:
            let argv = record.arguments.joined(separator: " ")
            arguments = [
                .init(name: "exe", type: "const char *", raw: 0, value: .text(record.exe, truncated: false)),
                .init(name: "argv", type: "const char *", raw: 0, value: .text(argv, truncated: false)),
            ]
        case .exit:
            let status = record.exitStatus
            arguments = [
                .init(name: "exit_code", type: "int", raw: UInt64(bitPattern: Int64(status)), value: .signed(Int64((status >> 8) & 0xFF))),
                .init(name: "signal", type: "int", raw: UInt64(bitPattern: Int64(status)), value: .signed(Int64(status & 0x7F))),
            ]
        }
        return DeliverableEvent(
            timestampNanoseconds: UInt64(clamping: KernelClock.wallNanoseconds(boot: record.bootNanoseconds)),
            cpu: record.cpu, pid: record.pid, tid: record.tid, functionID: kind.rawValue, functionName: kind.name,
            comm: record.comm, arguments: arguments, processGeneration: generation, kind: .process, phase: .none)
    }

    func dispatch(_ record: SyscallRecord, mayHold: Bool = true, running: [ActiveDirective]? = nil) {
        let running = running ?? runningDirectives
        guard running.contains(where: { record.directives & $0.bit != 0 }) else { return }
        // A stream's reader's calls since it began to read are its reading: never published;
        // nor is a call it is blocked in (stamped when it blocked, before), its wait to read.
        if !exclusionTimes.isEmpty, let since = exclusionTimes[record.pid],
            record.bootNanoseconds >= since || record.moment == .pending
        {
            return
        }
        guard let functionID = Self.functionID(of: record) else {
            statistics.unknownSyscall()
            return
        }
        if mayHold, awaitsContainer(record, running: running) {
            if !awaitingContainers.hold(record) { statistics.droppedAwaitingContainer() }
            return
        }
        switch record.moment {
        case .exit: return complete(record, functionID: functionID, running: running)
        case .pending: return hold(record, functionID: functionID, running: running)
        case .final: return publishFinal(record, functionID: functionID, running: running)
        case .entry: break
        }
        // At entry: for the instances that hooked the function there.
        let (selected, generation) = selecting(record, running: running)
        guard selected != 0 else { return }
        deliver(record, functionID: functionID, to: selected, running: running, generation: generation, wholeCalls: false)
    }

    /// The directives whose conditions select the process at this call and that have an
    /// instance wanting the function's calls whole, with the generation of the snapshot.
    private func selectingWholeCalls(
        _ record: SyscallRecord, functionID: UInt64, running: [ActiveDirective]
    ) -> (directives: UInt64, generation: UInt64) {
        let (selected, generation) = selecting(record, running: running)
        let whole = running.reduce(UInt64(0)) { mask, directive in
            selected & directive.bit != 0 && directive.wantsWholeCalls(of: functionID) ? mask | directive.bit : mask
        }
        return (whole, generation)
    }

    /// A call that has not returned: held until it does, published as unfinished past the
    /// deadline. A call that blocks again is the call already held.
    private func hold(_ record: SyscallRecord, functionID: UInt64, running: [ActiveDirective]) {
        guard !pendingCalls.holds(sameCallAs: record) else { return }
        // An exec belongs to the image that made it. A process the model holds nothing of was
        // decided against (and forgotten), and /proc may already show the image the exec
        // started, which a directive may select.
        if PendingCalls.execFunctionIDs.contains(functionID), processes.cachedGeneration(record.pid) == nil { return }
        let (whole, generation) = selectingWholeCalls(record, functionID: functionID, running: running)
        guard whole != 0 else { return }
        if let unreturned = pendingCalls.hold(PendingCall(entry: record, functionID: functionID, directives: whole, generation: generation)) {
            publishUnreturned(unreturned, running: running)
        }
    }

    /// exit or exit_group: published at once, as it will never return.
    private func publishFinal(_ record: SyscallRecord, functionID: UInt64, running: [ActiveDirective]) {
        // The same call held as blocked (a ptrace stop at its entry, as under strace) is this one.
        if let unreturned = pendingCalls.take(thread: record.tid), unreturned.functionID != functionID {
            publishUnreturned(unreturned, running: running)
        }
        let (whole, generation) = selectingWholeCalls(record, functionID: functionID, running: running)
        guard whole != 0 else { return }
        deliver(record, functionID: functionID, to: whole, running: running, generation: generation, wholeCalls: true)
    }

    /// Whether the record waits for its process's container to be described: a directive it is
    /// for tests runtime facts, and the runtime has not answered (or earlier records wait).
    private func awaitsContainer(_ record: SyscallRecord, running: [ActiveDirective]) -> Bool {
        guard running.contains(where: { record.directives & $0.bit != 0 && $0.needsRuntimeFacts }) else { return false }
        return awaitingContainers.isHolding(record.pid) || processes.awaitsContainer(record.pid)
    }

    /// The directives whose conditions select the process at this call, with the generation of
    /// the snapshot they were decided on.
    private func selecting(_ record: SyscallRecord, running: [ActiveDirective]) -> (UInt64, UInt64) {
        // The snapshot is copied out of the model only when some decision needs it.
        let cached = processes.latestEntry(record.pid, last: &lastProcessLookup)?.snapshot.generation
        if cached == nil, decidedAgainst[record.pid] != nil { return (0, 0) }
        var generation = cached ?? 0
        var process: ProcessSnapshot?
        func loadProcess() -> ProcessSnapshot {
            if let process { return process }
            let loaded = processes.snapshot(record.pid)
                ?? ProcessSnapshot(pid: record.pid, ppid: 0, name: record.comm, cmd: "", exe: "", ns: "", startedAtNanoseconds: 0)
            process = loaded
            return loaded
        }
        var selected: UInt64 = 0
        for directive in running where record.directives & directive.bit != 0
            && directive.selectsEvent(generation: generation, capabilities: record.capabilities, process: loadProcess) {
            selected |= directive.bit
        }
        if selected != 0 && generation == 0 { generation = loadProcess().generation }
        return (selected, generation)
    }

    /// Hands the call to the instances of the `directives` that asked for it: for its entry
    /// (hooked functions), or as a whole (`wholeCalls`).
    private func deliver(
        _ record: SyscallRecord, functionID: UInt64, to directives: UInt64, running: [ActiveDirective],
        generation: UInt64, phase: DeliverableEvent.Phase = .entry, callID: UInt64 = 0, wholeCalls: Bool
    ) {
        // Instances of one task share its registration, so the event is decoded once per task.
        var decodedFor: ObjectIdentifier?
        var event: DeliverableEvent?
        for directive in running where directives & directive.bit != 0 {
            for entry in directive.entries
            where wholeCalls ? entry.calls.contains(functionID) : entry.functions.contains(functionID) {
                let task = ObjectIdentifier(entry.instance.task)
                if decodedFor != task {
                    guard let registered = entry.signature(of: functionID) else { continue }
                    var made = makeEvent(record, registered, functionID: functionID, processGeneration: generation)
                    made.phase = phase
                    made.callID = callID
                    if phase == .exit { made.returnValue = record.returnValue }
                    event = made
                    decodedFor = task
                }
                hand(event.unsafelyUnwrapped, to: entry.instance)
            }
        }
    }

    /// A call returned: whole, it goes to the instances that want it so, joined with what was
    /// reported while it had not returned, if anything.
    private func complete(_ exit: SyscallRecord, functionID: UInt64, running: [ActiveDirective]) {
        switch pendingCalls.take(matching: exit) {
        case .joined(let pending):
            deliver(
                pending.entry.completed(by: exit), functionID: functionID, to: pending.directives, running: running,
                generation: pending.generation, phase: .exit, callID: pending.callID, wholeCalls: true)
        case .unmatched(let unreturned):
            if let unreturned { publishUnreturned(unreturned, running: running) }
            let (whole, generation) = selectingWholeCalls(exit, functionID: functionID, running: running)
            guard whole != 0 else { return }
            deliver(exit, functionID: functionID, to: whole, running: running, generation: generation, phase: .exit, wholeCalls: true)
        }
    }

    /// Publishes the entries of calls still blocked past the deadline, each with a call id its
    /// exit will carry too. The deadline is measured on the time order's clock: once every
    /// record up to `orderedUntil` (boot-clock ns) has been handed on, a call that entered more
    /// than the deadline before it and has not returned is overdue. Measured from now instead,
    /// a window as long as the deadline would publish every brief block as unfinished before
    /// its return, held in the window, was handed on.
    func publishOverdueCalls(orderedUntil: UInt64) {
        let deadline = callDeadline
        guard orderedUntil > deadline, pendingCalls.earliestUnpublished < orderedUntil - deadline else { return }
        let running = runningDirectives
        for pending in pendingCalls.markOverdue(before: orderedUntil - deadline) {
            deliver(
                pending.entry, functionID: pending.functionID, to: pending.directives, running: running,
                generation: pending.generation, phase: .entry, callID: pending.callID, wholeCalls: true)
        }
    }

    /// A call that will not return (exit, exit_group, or its exit was lost): its entry is
    /// published, unless it was already as unfinished.
    private func publishUnreturned(_ pending: PendingCall, running: [ActiveDirective]) {
        guard pending.callID == 0 else { return }
        deliver(
            pending.entry, functionID: pending.functionID, to: pending.directives, running: running,
            generation: pending.generation, phase: .entry, wholeCalls: true)
    }

    /// The calls a process had in flight when it ended never return.
    private func publishUnreturnedCalls(of pid: UInt32) {
        let running = runningDirectives
        for pending in pendingCalls.takeAll(of: pid) { publishUnreturned(pending, running: running) }
    }

    /// Counts a failed delivery and logs the task's reason: the first few, then every 1000th.
    func reportFailure(of instance: TaskInstance) {
        let count = statistics.taskFailed()
        guard count <= 5 || count % 1000 == 0 else { return }
        logger.warning(
            "task failed to handle an event: \(instance.lastFailure() ?? "no reason given")",
            metadata: ["task.name": "\(instance.task.name)", "directive.id": "\(instance.directiveID)",
                       "failures": "\(count)"])
    }

    /// The function id tasks know a syscall by: its x86_64 number, or for a 32-bit process's
    /// call, the function it is a form of (see SyscallTable.functions).
    static func functionID(of record: SyscallRecord) -> UInt64? {
        if record.isCompat { return SyscallTable.functionID(i386Number: record.number) }
        return SyscallTable.signature(number: record.number) != nil ? UInt64(record.number) : nil
    }

    private func makeEvent(
        _ record: SyscallRecord, _ registered: (name: String, signature: SyscallSignature), functionID: UInt64,
        processGeneration: UInt64
    ) -> DeliverableEvent {
        // A 32-bit call is decoded with the i386 syscall's own arguments, and named as the
        // kernel's i386 table (and strace) name it: mmap2, getuid32, _llseek.
        var signature = registered.signature
        var name = registered.name
        if record.isCompat, let compat = SyscallTable.signature(number: record.number, abi: .i386) {
            signature = compat
            name = compat.name
        }
        return DeliverableEvent(
            timestampNanoseconds: UInt64(clamping: KernelClock.wallNanoseconds(boot: record.bootNanoseconds)),
            cpu: record.cpu, pid: record.pid, tid: record.tid, isCompat: record.isCompat,
            functionID: functionID, functionName: name, comm: record.comm,
            arguments: ArgumentDecoder.decode(record, signature: signature), processGeneration: processGeneration)
    }
}
