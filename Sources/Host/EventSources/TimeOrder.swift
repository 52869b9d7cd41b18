/// Puts the records of every CPU in timestamp order before they go on.
///
/// The programs on different CPUs take a record's timestamp and its place in the shared ring
/// buffer at slightly different moments (a record whose user memory is read first reserves its
/// place last), so the ring's order is nearly, not exactly, the order of time. Records are held
/// for `window` after their timestamp and released sorted. A record that arrives after records
/// younger than it were released (later than the window allows) is released at once, before
/// anything held, and counted as late: nothing is dropped.
///
/// What is held is the caller's `Item`: the dispatcher holds records' places in the ring
/// buffer, where they stay until released, and copies them out (`spill`) only when the ring's
/// space is wanted back before their turn.
struct TimeOrder<Item> {
    /// How long a record is held for records older than it to arrive.
    let window: UInt64
    /// The records held, each with its timestamp and arrival number (equal timestamps keep the
    /// ring's order).
    private var held: [(timestamp: UInt64, sequence: UInt64, item: Item)] = []
    private var sorted = true
    private var sequence: UInt64 = 0
    /// The timestamp of the last record released.
    private var released: UInt64 = 0
    /// Items that arrived up to this number were spilled: `firstArrived` passes over them.
    private var spilledThrough: UInt64 = 0
    /// The item held longest of those not spilled, while it is known (nil: none held).
    private var firstArrivedCache: Item?
    private var firstArrivedKnown = true

    init(windowNanoseconds: UInt64) {
        window = windowNanoseconds
    }

    var isEmpty: Bool { held.isEmpty }
    /// The window in whole milliseconds, at least 1: how long a poll may wait while records are held.
    var windowMilliseconds: Int32 { Int32(clamping: max(window / 1_000_000, 1)) }
    var count: Int { held.count }

    /// Holds a record; one older than what was released already is returned, to go on at once
    /// (the caller counts it as late).
    mutating func add(_ item: Item, timestamp: UInt64) -> Item? {
        if timestamp < released { return item }
        if let last = held.last, timestamp < last.timestamp { sorted = false }
        sequence += 1
        if firstArrivedKnown, firstArrivedCache == nil { firstArrivedCache = item }
        held.append((timestamp, sequence, item))
        return nil
    }

    /// The item that arrived first of those held and not spilled: the ring position below which
    /// the dispatcher holds nothing in the ring. Nil when there is none.
    mutating func firstArrived() -> Item? {
        if !firstArrivedKnown {
            let spilledThrough = spilledThrough
            firstArrivedCache = held.lazy.filter { $0.sequence > spilledThrough }.min { $0.sequence < $1.sequence }?.item
            firstArrivedKnown = true
        }
        return firstArrivedCache
    }

    /// Replaces every item held, not spilled yet, by `spill(item)` (the dispatcher copies a record
    /// out of the ring buffer so that its space can go back); `firstArrived` passes over them.
    mutating func spill(_ spill: (Item) -> Item) {
        for index in held.indices where held[index].sequence > spilledThrough {
            held[index].item = spill(held[index].item)
        }
        spilledThrough = sequence
        firstArrivedCache = nil
        firstArrivedKnown = true
    }

    /// Takes out, in timestamp order, every record older than `now` minus the window (boot-clock
    /// nanoseconds); `all` takes everything (the source is closing).
    mutating func release(now: UInt64, all: Bool = false) -> [Item] {
        guard !held.isEmpty else { return [] }
        if !sorted {
            held.sort { ($0.timestamp, $0.sequence) < ($1.timestamp, $1.sequence) }
            sorted = true
        }
        let cutoff = all ? UInt64.max : now &- min(window, now)
        var count = 0
        while count < held.count, held[count].timestamp <= cutoff { count += 1 }
        guard count > 0 else { return [] }
        released = max(released, held[count - 1].timestamp)
        let batch = held[..<count].map(\.item)
        // Under load the reader is behind the window and everything goes.
        if count == held.count {
            held.removeAll(keepingCapacity: true)
            firstArrivedCache = nil
            firstArrivedKnown = true
        } else {
            held.removeFirst(count)
            firstArrivedKnown = false
        }
        return batch
    }
}
