import Foundation

/// Appends lines to a file and rotates it by size: path → path.1 → … → path.N. It rotates
/// between batches, so a file passes its limit by at most one batch.
public final class RotatingFileSink: OutputSink, @unchecked Sendable {
    public let style: LineStyle
    public let writesWithoutWaiting = true  // a regular file
    private let path: String
    private let maxBytes: Int
    private let maxFiles: Int
    private var descriptor: Int32 = -1
    private var size = 0

    public init(path: String, maxBytes: Int, maxFiles: Int, format: OutputFormat) throws {
        self.path = path
        self.maxBytes = maxBytes
        self.maxFiles = max(maxFiles, 1)
        style = LineStyle(format, colored: false)
        try open()
    }

    deinit { close() }

    public func write(_ lines: [UInt8]) -> Bool {
        guard !lines.isEmpty else { return true }
        guard descriptor >= 0 else { return false }
        let written = writeFully(lines, to: descriptor)
        size += written
        if maxBytes > 0 && size >= maxBytes { rotate() }
        return written == lines.count
    }

    public func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    private func rotate() {
        close()
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
