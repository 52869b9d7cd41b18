/// A call reported before it returned (it blocked, or it is an exec), whose return is awaited,
/// for instances that want it whole.
struct PendingCall {
    let entry: SyscallRecord
    let functionID: UInt64
    /// The directives that selected the call at its entry.
    let directives: UInt64
    let generation: UInt64
    /// Set once its entry was published as unfinished; its exit carries the same id.
    var callID: UInt64 = 0
}

/// Calls in flight, by thread: a thread makes one call at a time. Bounded: past `capacity` a
/// new call's entry pushes out the oldest, which is published without its return.
struct PendingCalls {
    static let capacity = 16384

    enum Completion {
        /// The entry of the call that returned.
        case joined(PendingCall)
        /// No entry of this call was held; what the thread had in flight instead, if anything,
        /// will not return.
        case unmatched(PendingCall?)
    }

    /// execve and execveat (the function ids of their 32-bit forms too).
    static let execFunctionIDs: Set<UInt64> = [59, 322]

    private var byThread: [UInt32: PendingCall] = [:]
    private var nextCallID: UInt64 = 0
    /// No call held and not yet published entered before this (boot-clock ns): the event path
    /// compares each record with it, and looks through the calls only once one may be overdue.
    private(set) var earliestUnpublished = UInt64.max

    var isEmpty: Bool { byThread.isEmpty }
    var count: Int { byThread.count }

    /// Holds a call's entry; returns one that will not return now (the thread's previous call,
    /// whose exit was lost, or the oldest when full).
    mutating func hold(_ call: PendingCall) -> PendingCall? {
        earliestUnpublished = min(earliestUnpublished, call.entry.bootNanoseconds)
        var pushedOut = byThread.updateValue(call, forKey: call.entry.tid)
        if pushedOut == nil, byThread.count > Self.capacity,
            let oldest = byThread.min(by: { $0.value.entry.bootNanoseconds < $1.value.entry.bootNanoseconds }) {
            pushedOut = byThread.removeValue(forKey: oldest.key)
        }
        return pushedOut
    }

    /// The entry of the call `exit` ends, taken out. The argument registers still hold a call's
    /// arguments when it returns: an exit whose arguments differ is another call of the same
    /// function (the held call's own exit was not reported: its process stopped being watched
    /// in between), and the held one will not return.
    mutating func take(matching exit: SyscallRecord) -> Completion {
        // Most exits have no held entry, and hashing the thread costs more than the look.
        guard !byThread.isEmpty, let held = byThread.removeValue(forKey: exit.tid) else { return .unmatched(nil) }
        guard held.entry.number == exit.number, held.entry.isCompat == exit.isCompat, held.entry.arguments == exit.arguments
        else { return .unmatched(held) }
        return .joined(held)
    }

    /// Gives a call id to every call that entered before `deadline` (boot-clock ns) and has not
    /// been published yet, and returns them.
    mutating func markOverdue(before deadline: UInt64) -> [PendingCall] {
        var overdue: [PendingCall] = []
        earliestUnpublished = .max
        for (thread, call) in byThread where call.callID == 0 {
            guard call.entry.bootNanoseconds < deadline else {
                earliestUnpublished = min(earliestUnpublished, call.entry.bootNanoseconds)
                continue
            }
            nextCallID += 1
            byThread[thread]!.callID = nextCallID
            overdue.append(byThread[thread]!)
        }
        return overdue.sorted { $0.entry.bootNanoseconds < $1.entry.bootNanoseconds }
    }

    /// Whether the thread's held call is this one (it blocked again).
    func holds(sameCallAs record: SyscallRecord) -> Bool {
        guard !byThread.isEmpty, let held = byThread[record.tid]?.entry else { return false }
        return held.number == record.number && held.isCompat == record.isCompat && held.arguments == record.arguments
    }

    /// Takes out the thread's held call.
    mutating func take(thread tid: UInt32) -> PendingCall? {
        byThread.isEmpty ? nil : byThread.removeValue(forKey: tid)
    }

    /// Whether a call of the process is in flight.
    func hasCalls(of pid: UInt32) -> Bool {
        byThread.values.contains { $0.entry.pid == pid }
    }

    /// Takes out the process's execve or execveat: its exec has happened, so it succeeded.
    mutating func takeExec(of pid: UInt32) -> PendingCall? {
        guard let thread = byThread.first(where: { $0.value.entry.pid == pid && Self.execFunctionIDs.contains($0.value.functionID) })?.key
        else { return nil }
        return byThread.removeValue(forKey: thread)
    }

    /// Takes out every call of a process (it ended).
    mutating func takeAll(of pid: UInt32) -> [PendingCall] {
        let threads = byThread.filter { $0.value.entry.pid == pid }
        for thread in threads.keys { byThread[thread] = nil }
        return threads.values.sorted { $0.entry.bootNanoseconds < $1.entry.bootNanoseconds }
    }
}
