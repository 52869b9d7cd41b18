/// Puts the records of every CPU in timestamp order before they go on.
///
/// The programs on different CPUs take a record's timestamp and its place in the shared ring
/// buffer at slightly different moments (a record whose user memory is read first reserves its
/// place last), so the ring's order is nearly, not exactly, the order of time. Records are held
/// for `window` after their timestamp and released sorted. A record that arrives after records
/// younger than it were released (later than the window allows) is released at once, before
/// anything held, and counted as late: nothing is dropped.
struct TimeOrder {
    /// How long a record is held for records older than it to arrive.
    let window: UInt64
    /// The records held, and beside each its timestamp and arrival number (equal timestamps
    /// keep the ring's order). Kept apart so that a batch released whole leaves as it is,
    /// without a copy of each record.
    private var held: [KernelEvent] = []
    private var keys: [(timestamp: UInt64, sequence: UInt64)] = []
    private var sorted = true
    private var sequence: UInt64 = 0
    /// The timestamp of the last record released.
    private var released: UInt64 = 0

    init(windowNanoseconds: UInt64) {
        window = windowNanoseconds
    }

    var isEmpty: Bool { held.isEmpty }
    /// The window in whole milliseconds, at least 1: how long a poll may wait while records are held.
    var windowMilliseconds: Int32 { Int32(clamping: max(window / 1_000_000, 1)) }
    var count: Int { held.count }

    /// Holds a record; one older than what was released already is returned, to go on at once
    /// (the caller counts it as late).
    mutating func add(_ event: KernelEvent) -> KernelEvent? {
        let timestamp = event.bootNanoseconds
        if timestamp < released { return event }
        if let last = keys.last, timestamp < last.timestamp { sorted = false }
        sequence += 1
        held.append(event)
        keys.append((timestamp, sequence))
        return nil
    }

    /// Takes out, in timestamp order, every record older than `now` minus the window (boot-clock
    /// nanoseconds); `all` takes everything (the source is closing).
    mutating func release(now: UInt64, all: Bool = false) -> [KernelEvent] {
        guard !held.isEmpty else { return [] }
        if !sorted {
            let order = keys.indices.sorted { (keys[$0].timestamp, keys[$0].sequence) < (keys[$1].timestamp, keys[$1].sequence) }
            held = order.map { held[$0] }
            keys = order.map { keys[$0] }
            sorted = true
        }
        let cutoff = all ? UInt64.max : now &- min(window, now)
        var count = 0
        while count < keys.count, keys[count].timestamp <= cutoff { count += 1 }
        guard count > 0 else { return [] }
        released = max(released, keys[count - 1].timestamp)
        if count == held.count {
            // Under load the reader is behind the window and everything goes: no copies.
            let batch = held
            held = []
            held.reserveCapacity(count)
            keys.removeAll(keepingCapacity: true)
            return batch
        }
        defer {
            held.removeFirst(count)
            keys.removeFirst(count)
        }
        return Array(held[..<count])
    }
}

extension KernelEvent {
    /// When the kernel took the record (CLOCK_BOOTTIME nanoseconds).
    var bootNanoseconds: UInt64 {
        switch self {
        case .syscall(let record): record.bootNanoseconds
        case .process(let record): record.bootNanoseconds
        case .cgroup(let record): record.bootNanoseconds
        }
    }
}
