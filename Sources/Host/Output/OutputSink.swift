import Foundation
import JSONText

/// Where output lines go.
public protocol OutputSink: AnyObject, Sendable {
    /// Writes one record.
    func write(_ record: EmittedRecord)
    /// Pushes buffered lines out.
    func flush()
}

/// How records are printed.
public enum OutputFormat: String, Sendable, CaseIterable {
    /// One JSON envelope per line, as the seed's sample.
    case json
    /// One strace-like line per event, for people.
    case compact
}

/// Writes lines to a file descriptor, buffered, flushed on `flush()` or when the buffer fills.
public final class LineWriterSink: OutputSink, @unchecked Sendable {
    private let descriptor: Int32
    private let lock = NSLock()
    private var lines: RecordLineFormatter
    private var buffer = JSONText(capacity: 1 << 17)

    public init(descriptor: Int32, format: OutputFormat, source: OutputSource, colored: Bool? = nil) {
        self.descriptor = descriptor
        lines = RecordLineFormatter(format: format, source: source, colored: colored ?? (isatty(descriptor) == 1))
    }

    public func write(_ record: EmittedRecord) {
        lock.withLock {
            lines.append(record, to: &buffer)
            if buffer.bytes.count >= 1 << 16 { drain() }
        }
    }

    public func flush() {
        lock.withLock { drain() }
    }

    private func drain() {
        writeFully(buffer.bytes, to: descriptor)
        buffer.removeAll()
    }
}
