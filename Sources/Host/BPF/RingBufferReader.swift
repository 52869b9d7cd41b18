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

    /// Waits up to `timeoutMilliseconds` for a wake-up, then handles every available record.
    /// Returns how many were handled.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32) throws -> Int {
        guard let ring else { return 0 }
        let woken = ring_buffer__poll(ring, timeoutMilliseconds)
        if woken < 0 && woken != -EINTR { try LibbpfCallError.check(woken, "ring_buffer__poll") }
        // Producers wake the reader only past a fill threshold (batched wake-ups), so records
        // that arrived without a wake-up are consumed here, on the timer.
        return max(Int(woken), 0) + (try drain())
    }

    /// Handles every record available now, without waiting.
    @discardableResult
    public func drain() throws -> Int {
        guard let ring else { return 0 }
        let handled = ring_buffer__consume(ring)
        try LibbpfCallError.check(handled, "ring_buffer__consume")
        return Int(handled)
    }

    /// Frees the reader. Safe to call twice.
    public func close() {
        guard let ring else { return }
        ring_buffer__free(ring)
        self.ring = nil
        sink.release()
    }
}

/// The handler, retained for as long as libbpf may call back with it as context.
private final class RingBufferSink {
    let onRecord: RingBufferReader.RecordHandler
    init(_ onRecord: @escaping RingBufferReader.RecordHandler) { self.onRecord = onRecord }
}

private func deliverRecord(
    context: UnsafeMutableRawPointer?, data: UnsafeMutableRawPointer?, size: Int
) -> Int32 {
    guard let context, let data else { return 0 }
    let sink = Unmanaged<RingBufferSink>.fromOpaque(context).takeUnretainedValue()
    sink.onRecord(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
