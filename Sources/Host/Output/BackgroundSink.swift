import Foundation

/// Runs another sink on a thread of its own, so that formatting and writing lines overlaps with
/// reading the ring buffer instead of adding to it. Records keep their order. The writer takes
/// records in batches of `batchSize`, or whatever has come within `batchDelay`, and pushes its
/// lines out after each batch: no periodic `flush()` is needed. Waking it per batch, not per
/// record, keeps the reader's cost to a lock and an append.
///
/// Queued records are copied into one byte buffer, and their strings are freed where they were
/// made: a string freed on the other thread costs the allocator more than writing it out saved.
///
/// The queue is bounded: when the writer falls behind by `capacity` records, `write` waits, and
/// the backlog stays in the ring buffer, where a loss would be counted, not in unbounded memory.
/// The writer thread holds the sink until `close()`: call it when done.
public final class BackgroundSink: OutputSink, @unchecked Sendable {
    public static let defaultCapacity = 16384
    static let batchSize = 256
    static let batchDelay: TimeInterval = 0.005

    private let inner: any OutputSink
    private let capacity: Int
    private let batch: Int  // a full batch wakes the writer
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queued = QueuedRecords()
    private var writerBusy = false
    private var writerIdle = false  // asleep until a record comes
    private var flushWaiters = 0
    private var closing = false
    private var writerDone = false

    public init(_ inner: any OutputSink, capacity: Int = BackgroundSink.defaultCapacity) {
        self.inner = inner
        self.capacity = max(capacity, 1)
        batch = min(Self.batchSize, self.capacity)
        let thread = Thread { [self] in runWriter() }
        thread.name = "tawon-output"
        thread.start()
    }

    public func write(_ record: EmittedRecord) {
        condition.lock()
        while queued.count >= capacity && !closing { condition.wait() }
        if !closing {
            queued.append(record)
            if (queued.count == 1 && writerIdle) || queued.count == batch { condition.broadcast() }
        }
        condition.unlock()
    }

    /// Returns once every record written so far is out of the inner sink.
    public func flush() {
        condition.lock()
        flushWaiters += 1
        condition.broadcast()  // the writer stops waiting for a full batch
        while (!queued.isEmpty || writerBusy) && !writerDone { condition.wait() }
        flushWaiters -= 1
        condition.unlock()
    }

    /// Writes what is queued, then stops the writer thread. Later records are dropped.
    public func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        while !writerDone { condition.wait() }
        condition.unlock()
    }

    private func runWriter() {
        var taken = QueuedRecords()
        condition.lock()
        while true {
            while queued.isEmpty && !closing {
                writerIdle = true
                condition.wait()
                writerIdle = false
            }
            if queued.isEmpty { break }  // closing, and everything is written
            let deadline = Date(timeIntervalSinceNow: Self.batchDelay)
            while queued.count < batch && !closing && flushWaiters == 0
                && condition.wait(until: deadline) {}
            swap(&taken, &queued)
            writerBusy = true
            condition.broadcast()  // room again for a blocked `write`
            condition.unlock()
            taken.forEach { inner.write($0) }
            taken.removeAll()
            inner.flush()
            condition.lock()
            writerBusy = false
            condition.broadcast()  // a `flush` may be waiting for this batch
        }
        writerDone = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Records waiting for the writer: their JSON texts end to end in one buffer.
private struct QueuedRecords {
    private struct Entry {
        var taskName: String
        var directiveID: String
        var timestampNanoseconds: UInt64
        var jsonEnd: Int
    }

    private var entries: [Entry] = []
    private var json: [UInt8] = []

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    mutating func append(_ record: EmittedRecord) {
        json.append(contentsOf: record.json.utf8)
        entries.append(
            Entry(taskName: record.taskName, directiveID: record.directiveID,
                  timestampNanoseconds: record.timestampNanoseconds, jsonEnd: json.count))
    }

    func forEach(_ body: (EmittedRecord) -> Void) {
        json.withUnsafeBufferPointer { bytes in
            var start = 0
            for entry in entries {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<entry.jsonEnd]), as: UTF8.self)
                body(EmittedRecord(taskName: entry.taskName, directiveID: entry.directiveID, json: text,
                                   timestampNanoseconds: entry.timestampNanoseconds))
                start = entry.jsonEnd
            }
        }
    }

    mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
        json.removeAll(keepingCapacity: true)
    }
}
