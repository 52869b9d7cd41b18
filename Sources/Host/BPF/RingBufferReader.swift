import CLibBPF
import Foundation

/// Drains a BPF ring buffer map, handing each record to `onRecord` on the polling thread.
public final class RingBufferReader {
    /// Called with each record; the bytes are valid only during the call.
    public typealias RecordHandler = (UnsafeRawBufferPointer) -> Void

    private var ring: OpaquePointer?
    private let sink: Unmanaged<RingBufferSink>

    /// Opens a reader on the ring buffer map `mapDescriptor`.
    public init(mapDescriptor: Int32, onRecord: @escaping RecordHandler) throws {
        sink = Unmanaged.passRetained(RingBufferSink(onRecord))
        errno = 0
        guard let ring = ring_buffer__new(mapDescriptor, deliverRecord, sink.toOpaque(), nil) else {
            sink.release()
            throw LibbpfCallError("ring_buffer__new", errno: errno == 0 ? EINVAL : errno)
        }
        self.ring = ring
    }

    deinit { close() }

    /// Waits up to `timeoutMilliseconds` for a wake-up, then handles available records, at most
    /// `maxRecords`: under a flood the producers never let the buffer run empty, and the caller
    /// must get control back. Returns how many were handled.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32, maxRecords: Int = .max) throws -> Int {
        guard let ring else { return 0 }
        sink.takeUnretainedValue().begin(budget: maxRecords)
        let woken = ring_buffer__poll(ring, timeoutMilliseconds)
        try Self.check(woken, "ring_buffer__poll")
        // Producers wake the reader only past a fill threshold (batched wake-ups), so records
        // that arrived without a wake-up are consumed here, on the timer.
        if !sink.takeUnretainedValue().exhausted {
            try Self.check(ring_buffer__consume(ring), "ring_buffer__consume")
        }
        return sink.takeUnretainedValue().handled
    }

    /// libbpf's results: a count, an interrupted wait, the budget reached, or an error.
    private static func check(_ result: Int32, _ call: String) throws {
        if result < 0 && result != -EINTR && result != RingBufferSink.budgetReached {
            try LibbpfCallError.check(result, call)
        }
    }

    /// Frees the reader. Safe to call twice.
    public func close() {
        guard let ring else { return }
        ring_buffer__free(ring)
        self.ring = nil
        sink.release()
    }
}

/// The handler, retained for as long as libbpf may call back with it as context, and the count
/// of records handled in the current poll.
private final class RingBufferSink {
    /// Returned to libbpf to stop consuming (the record just handled is committed).
    static let budgetReached: Int32 = -EAGAIN
    let onRecord: RingBufferReader.RecordHandler
    private(set) var handled = 0
    private var budget = Int.max

    init(_ onRecord: @escaping RingBufferReader.RecordHandler) { self.onRecord = onRecord }

    func begin(budget: Int) {
        handled = 0
        self.budget = budget
    }

    var exhausted: Bool { handled >= budget }

    func deliver(_ record: UnsafeRawBufferPointer) -> Int32 {
        onRecord(record)
        handled += 1
        return exhausted ? Self.budgetReached : 0
    }
}

private func deliverRecord(
    context: UnsafeMutableRawPointer?, data: UnsafeMutableRawPointer?, size: Int
) -> Int32 {
    guard let context, let data else { return 0 }
    let sink = Unmanaged<RingBufferSink>.fromOpaque(context).takeUnretainedValue()
    return sink.deliver(UnsafeRawBufferPointer(start: data, count: size))
}
