import Synchronization
import Foundation

/// One destination of output lines: a file, standard output. It is handed whole lines in
/// batches, on its own queue's thread (`SinkQueue`), never on the ring buffer's reader.
public protocol OutputSink: AnyObject, Sendable {
    /// How the lines it gets are printed.
    var style: LineStyle { get }
    /// Writes a batch of whole lines; false if some could not be written (a full disk, a
    /// closed pipe): the batch's records are then counted as lost.
    func write(_ lines: [UInt8]) -> Bool
    /// Releases what it holds; nothing is written afterwards.
    func close()
    /// Whether a write returns at once (a regular file, /dev/null): such a sink is written on
    /// the caller's thread while its queue is empty, saving a thread wake-up per batch. Pipes,
    /// sockets and terminals are written from the queue's thread: their reader may be slow.
    var writesWithoutWaiting: Bool { get }
}

/// Whether writes to `descriptor` return without waiting for a reader: a regular file or a
/// character device that is not a terminal (/dev/null).
public func descriptorWritesWithoutWaiting(_ descriptor: Int32) -> Bool {
    var status = stat()
    guard fstat(descriptor, &status) == 0 else { return false }
    let type = status.st_mode & S_IFMT
    return type == S_IFREG || (type == S_IFCHR && isatty(descriptor) == 0)
}

/// How records are printed.
public enum OutputFormat: String, Sendable, CaseIterable {
    /// One JSON envelope per line, as the seed's sample.
    case json
    /// One strace-like line per event, for people.
    case compact
}

/// A format as one sink prints it: compact lines are coloured on a terminal.
public enum LineStyle: Hashable, Sendable, CaseIterable {
    case json
    case compact
    case compactColored

    /// A small number for arrays indexed by style.
    var index: Int {
        switch self {
        case .json: return 0
        case .compact: return 1
        case .compactColored: return 2
        }
    }

    public init(_ format: OutputFormat, colored: Bool) {
        switch format {
        case .json: self = .json
        case .compact: self = colored ? .compactColored : .compact
        }
    }
}

/// Writes lines to a file descriptor it does not own (standard output).
public final class DescriptorSink: OutputSink, @unchecked Sendable {
    public let style: LineStyle
    public let writesWithoutWaiting: Bool
    private let descriptor: Int32
    private let onReaderGone: (@Sendable () -> Void)?
    private let onWriteError: (@Sendable (Int32) -> Void)?
    private let readerGone = Atomic<Bool>(false)
    private let failedBefore = Atomic<Bool>(false)

    /// `colored` defaults to whether the descriptor is a terminal. `onReaderGone` is called once
    /// when the reader of a pipe has closed it (`| head -1`): nothing more can be written.
    /// `onWriteError` is called with the errno of the first write that fails otherwise.
    public init(
        descriptor: Int32, format: OutputFormat, colored: Bool? = nil, onReaderGone: (@Sendable () -> Void)? = nil,
        onWriteError: (@Sendable (Int32) -> Void)? = nil
    ) {
        self.descriptor = descriptor
        self.onReaderGone = onReaderGone
        self.onWriteError = onWriteError
        writesWithoutWaiting = descriptorWritesWithoutWaiting(descriptor)
        style = LineStyle(format, colored: colored ?? (isatty(descriptor) == 1))
    }

    public func write(_ lines: [UInt8]) -> Bool {
        guard !readerGone.load(ordering: .relaxed) else { return false }
        guard writeFully(lines, to: descriptor) < lines.count else { return true }
        let error = errno
        if error == EPIPE {
            if !readerGone.exchange(true, ordering: .relaxed) { onReaderGone?() }
        } else if !failedBefore.exchange(true, ordering: .relaxed) {
            onWriteError?(error)
        }
        return false
    }

    public func close() {}
}
