import Foundation
import Synchronization

/// Live streams of one directive's records to readers (tawonctl d sub, curl). Each reader has a
/// bounded buffer: a reader that stops reading loses records — counted for it — but never
/// stalls the pipeline or the kernel.
public final class DirectiveStreams: @unchecked Sendable {
    /// One reader.
    public final class Reader: Sendable {
        public let id: Int
        public let directiveID: String
        public let format: OutputFormat
        let buffer: LineBuffer
        private let droppedCount = Atomic<UInt64>(0)
        private let sentCount = Atomic<UInt64>(0)
        /// Records taken from the buffer whose write to the connection has not completed.
        private let writingCount = Atomic<Int>(0)

        init(id: Int, directiveID: String, format: OutputFormat, capacity: Int) {
            self.id = id
            self.directiveID = directiveID
            self.format = format
            self.buffer = LineBuffer(capacity: capacity)
        }

        public var dropped: UInt64 { droppedCount.load(ordering: .relaxed) }
        public var sent: UInt64 { sentCount.load(ordering: .relaxed) }

        /// An empty line, which readers skip: not a record, neither sent nor dropped. Lost when
        /// the buffer is full, where the reader has plenty to notice anyway.
        public func heartbeat() {
            _ = buffer.offer("\n")
        }

        /// Every line buffered for the reader, after waiting for one; nil once its stream has
        /// ended and nothing is left, or when the calling task is cancelled.
        public func take() async -> [String]? { await buffer.take() }

        /// Returns once the reader's stream has ended (its directive removed, the daemon
        /// stopping), or when the calling task is cancelled.
        public func waitUntilEnded() async { await buffer.ended.wait() }

        /// The connection is writing `lines` (nil: done with them).
        public func writing(_ lines: [String]?) {
            writingCount.store(lines.map(Self.records(in:)) ?? 0, ordering: .relaxed)
        }

        /// Records, not heartbeats, among `lines`.
        static func records(in lines: [String]) -> Int { lines.count { $0 != "\n" } }

        /// What the reader was given and never got: in its buffer, or in a write that did not
        /// complete. Counted as dropped when its connection ends.
        func abandon() -> UInt64 {
            UInt64(Self.records(in: buffer.discard()) + writingCount.exchange(0, ordering: .relaxed))
        }

        func offer(_ line: String) {
            switch buffer.offer(line) {
            case .enqueued: sentCount.add(1, ordering: .relaxed)
            case .dropped: droppedCount.add(1, ordering: .relaxed)
            case .finished: break
            }
        }
    }

    private let capacity: Int
    private let lock = NSLock()
    private var readers: [Int: Reader] = [:]
    private var byDirective: [String: [Reader]] = [:]
    private var nextID = 0
    private let readerCount = Atomic<Int>(0)
    private let compactReaderCount = Atomic<Int>(0)
    private let closedDrops = Atomic<UInt64>(0)
    private let closing = Atomic<Bool>(false)

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// A new reader of `directiveID`'s records; `unsubscribe` it when its connection ends.
    public func subscribe(directiveID: String, format: OutputFormat) -> Reader {
        lock.withLock { () -> Reader in
            nextID += 1
            let reader = Reader(id: nextID, directiveID: directiveID, format: format, capacity: capacity)
            readers[reader.id] = reader
            byDirective[directiveID, default: []].append(reader)
            countReaders()
            // One that comes as the daemon stops gets nothing more.
            if closing.load(ordering: .relaxed) { reader.buffer.finish() }
            return reader
        }
    }

    /// Whether anyone reads at all: checked per record before anything else.
    var hasReaders: Bool { readerCount.load(ordering: .relaxed) > 0 }
    /// Whether someone reads compact lines, which are made from the event, not the task's JSON.
    var hasCompactReaders: Bool { compactReaderCount.load(ordering: .relaxed) > 0 }

    /// Call with the lock held.
    private func countReaders() {
        readerCount.store(readers.count, ordering: .relaxed)
        compactReaderCount.store(readers.values.count { $0.format != .json }, ordering: .relaxed)
    }

    /// Ends every reader of a directive (it was removed).
    public func finish(directiveID: String) {
        for reader in lock.withLock({ byDirective[directiveID] ?? [] }) { reader.buffer.finish() }
    }

    /// Ends every reader: the daemon is stopping.
    public func finishAll() {
        closing.store(true, ordering: .relaxed)
        for reader in lock.withLock({ Array(readers.values) }) { reader.buffer.finish() }
    }

    /// Hands a record's line to the readers of its directive; `line` formats it (at most once
    /// per format, by the output stage). Never blocks.
    func offer(directiveID: String, line: (OutputFormat) -> String) {
        guard let targets = lock.withLock({ byDirective[directiveID] }) else { return }
        var lines: [OutputFormat: String] = [:]
        for reader in targets {
            let text = lines[reader.format] ?? line(reader.format)
            lines[reader.format] = text
            reader.offer(text)
        }
    }

    /// Current readers.
    public var current: [Reader] { lock.withLock { Array(readers.values).sorted { $0.id < $1.id } } }

    /// Records dropped for all readers, including those gone.
    public var totalDropped: UInt64 {
        closedDrops.load(ordering: .relaxed) + current.reduce(0) { $0 + $1.dropped }
    }

    /// The reader's connection has ended.
    public func unsubscribe(_ id: Int) {
        let removed = lock.withLock { () -> Reader? in
            guard let reader = readers.removeValue(forKey: id) else { return nil }
            byDirective[reader.directiveID]?.removeAll { $0.id == id }
            if byDirective[reader.directiveID]?.isEmpty == true { byDirective[reader.directiveID] = nil }
            countReaders()
            return reader
        }
        if let removed { closedDrops.add(removed.dropped + removed.abandon(), ordering: .relaxed) }
    }
}
