import Foundation
import JSONText

/// Appends lines to a file and rotates it by size: path → path.1 → … → path.N.
public final class RotatingFileSink: OutputSink, @unchecked Sendable {
    private let path: String
    private let maxBytes: Int
    private let maxFiles: Int
    private let lock = NSLock()
    private var descriptor: Int32 = -1
    private var size = 0
    private var lines: RecordLineFormatter
    private var buffer = JSONText(capacity: 1 << 16)

    public init(path: String, maxBytes: Int, maxFiles: Int, format: OutputFormat, source: OutputSource) throws {
        self.path = path
        self.maxBytes = maxBytes
        self.maxFiles = max(maxFiles, 1)
        lines = RecordLineFormatter(format: format, source: source, colored: false)
        try open()
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

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
        guard !buffer.bytes.isEmpty, descriptor >= 0 else { return }
        size += writeFully(buffer.bytes, to: descriptor)
        buffer.removeAll()
        if maxBytes > 0 && size >= maxBytes { rotate() }
    }

    private func rotate() {
        close(descriptor)
        descriptor = -1
        for index in stride(from: maxFiles - 1, through: 1, by: -1) {
            rename("\(path).\(index)", "\(path).\(index + 1)")
        }
        rename(path, "\(path).1")
        try? open()
    }

    private func open() throws {
        descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            throw LibbpfCallError("open", errno: errno, subject: path)
        }
        var status = stat()
        size = fstat(descriptor, &status) == 0 ? Int(status.st_size) : 0
    }
}
