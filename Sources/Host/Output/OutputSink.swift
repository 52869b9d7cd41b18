import Foundation

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
    private let format: OutputFormat
    private let source: OutputSource
    private let colored: Bool
    private let lock = NSLock()
    private var buffer: [UInt8] = []

    public init(descriptor: Int32, format: OutputFormat, source: OutputSource, colored: Bool? = nil) {
        self.descriptor = descriptor
        self.format = format
        self.source = source
        self.colored = colored ?? (isatty(descriptor) == 1)
        buffer.reserveCapacity(1 << 16)
    }

    public func write(_ record: EmittedRecord) {
        let line: String
        switch format {
        case .json: line = OutputEnvelope.json(record, source: source)
        case .compact: line = CompactLine.render(record, colored: colored)
        }
        lock.withLock {
            buffer.append(contentsOf: line.utf8)
            buffer.append(0x0A)
            if buffer.count >= 1 << 16 { drain() }
        }
    }

    public func flush() {
        lock.withLock { drain() }
    }

    private func drain() {
        var written = 0
        while written < buffer.count {
            let result = buffer[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if result < 0 && errno == EINTR { continue }
            if result <= 0 { break }  // a closed pipe: drop what cannot be written
            written += result
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
