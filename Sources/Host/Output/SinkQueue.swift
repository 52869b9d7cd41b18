import Foundation
import Synchronization

/// A sink behind a bounded queue with a thread of its own: a slow or stuck sink (a full disk, a
/// terminal nobody reads, later a remote broker) never stalls the ring buffer's reader. When the
/// queue is full a batch is dropped whole and its records are counted.
final class SinkQueue: @unchecked Sendable {
    let sink: any OutputSink
    /// Bytes the queue holds at most.
    let capacity: Int
    private let condition = NSCondition()
    private var batches: [(lines: [UInt8], records: Int)] = []
    private var queuedBytes = 0
    private var closing = false
    private var finished = false
    /// A batch is being written (by the thread, or inline by `enqueue`).
    private var writing = false
    private let droppedRecords = Atomic<UInt64>(0)
    private let failedRecords = Atomic<UInt64>(0)

    init(_ sink: any OutputSink, capacity: Int) {
        self.sink = sink
        self.capacity = max(capacity, 1)
        let thread = Thread { [self] in drain() }
        thread.name = "tawon-sink"
        thread.start()
    }

    /// Records dropped because the queue was full (or still queued when closing gave up).
    var dropped: UInt64 { droppedRecords.load(ordering: .relaxed) }
    /// Records in batches the sink failed to write.
    var failed: UInt64 { failedRecords.load(ordering: .relaxed) }

    /// What became of a batch.
    enum Outcome {
        /// Written at once on the caller's thread: its storage is free again.
        case written
        case queued
        /// No room: dropped, and counted.
        case dropped
    }

    /// Queues a batch of `records` whole lines, or writes it at once where that cannot wait.
    @discardableResult
    func enqueue(_ lines: [UInt8], records: Int) -> Outcome {
        condition.lock()
        guard !closing, queuedBytes + lines.count <= capacity || batches.isEmpty else {
            condition.unlock()
            droppedRecords.add(UInt64(records), ordering: .relaxed)
            return .dropped
        }
        if sink.writesWithoutWaiting && batches.isEmpty && !writing {
            // Nothing ahead of it and the write returns at once: no need to wake the thread.
            writing = true
            condition.unlock()
            write(lines, records: records)
            condition.lock()
            writing = false
            // The thread waits only for queued batches or for closing: wake it only then.
            if !batches.isEmpty || closing { condition.broadcast() }
            condition.unlock()
            return .written
        }
        batches.append((lines, records))
        queuedBytes += lines.count
        condition.signal()
        condition.unlock()
        return .queued
    }

    /// Writes what is queued, then stops the thread and closes the sink. Gives up after
    /// `deadline` (a sink stuck in a write), counting what was still queued as dropped.
    func close(within deadline: Duration) {
        condition.lock()
        closing = true
        condition.broadcast()
        let limit = Date().addingTimeInterval(deadline.timeInterval)
        while !finished && condition.wait(until: limit) {}
        let abandoned = batches.reduce(0) { $0 + $1.records }
        batches.removeAll()
        let done = finished
        condition.unlock()
        droppedRecords.add(UInt64(abandoned), ordering: .relaxed)
        if done { sink.close() }
    }

    private func write(_ lines: [UInt8], records: Int) {
        if !sink.write(lines) { failedRecords.add(UInt64(records), ordering: .relaxed) }
    }

    private func drain() {
        condition.lock()
        while true {
            while (batches.isEmpty || writing) && !(closing && !writing && batches.isEmpty) { condition.wait() }
            if batches.isEmpty { break }
            let batch = batches.removeFirst()
            queuedBytes -= batch.lines.count
            writing = true
            condition.unlock()
            write(batch.lines, records: batch.records)
            condition.lock()
            writing = false
            condition.broadcast()
        }
        finished = true
        condition.broadcast()
        condition.unlock()
    }
}
