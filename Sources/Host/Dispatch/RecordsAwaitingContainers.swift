/// Syscall records of processes whose container no runtime has described yet, while a directive
/// has a condition on containers' names, labels or pods. A new container's first process runs
/// before its runtime answers; its first calls wait here, in order, and
/// are decided when the answer comes or the deadline passes. Bounded per process and in all.
/// Only the polling thread touches it.
struct RecordsAwaitingContainers {
    static let perProcess = 4096
    static let total = 65_536
    /// Runtimes answer in milliseconds to a tenth of a second; a loaded machine takes longer.
    static let deadline: Duration = .seconds(5)

    private var held: [UInt32: (since: ContinuousClock.Instant, records: [SyscallRecord])] = [:]
    private var count = 0

    var isEmpty: Bool { held.isEmpty }

    func isHolding(_ pid: UInt32) -> Bool { held[pid] != nil }

    /// Holds `record` behind the process's earlier ones; false when there is no room.
    mutating func hold(_ record: SyscallRecord) -> Bool {
        guard count < Self.total, (held[record.pid]?.records.count ?? 0) < Self.perProcess else { return false }
        held[record.pid, default: (.now, [])].records.append(record)
        count += 1
        return true
    }

    /// The process's records, oldest first, no longer held.
    mutating func take(_ pid: UInt32) -> [SyscallRecord] {
        guard let records = held.removeValue(forKey: pid)?.records else { return [] }
        count -= records.count
        return records
    }

    /// Processes whose first held record has waited past the deadline.
    func overdue(at now: ContinuousClock.Instant = .now) -> [UInt32] {
        held.compactMap { now - $0.value.since > Self.deadline ? $0.key : nil }
    }

    var pids: [UInt32] { Array(held.keys) }
}
