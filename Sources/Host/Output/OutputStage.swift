import Foundation
import JSONText

/// The output stage: each record is formatted once per line style that someone wants, and the
/// same bytes go to every sink of that style and every live-stream reader of its directive.
/// Sinks get batches through their own bounded queues (`SinkQueue`), handed over at each
/// `flush`: the ring buffer's reader never waits for a sink.
///
/// `accept` may be called from any thread (tasks may emit from threads of their own).
public final class OutputStage: @unchecked Sendable {
    public let source: OutputSource
    /// Live readers of directives' records; nil where there are none (tawonctl run).
    public let streams: DirectiveStreams?
    private let queues: [SinkQueue]
    private let observers: [@Sendable (EmittedRecord) -> Void]
    private let sinkStyles: Set<LineStyle>
    private let sinkStyleList: [LineStyle]
    /// Some sink writes compact lines, made from the events records carry.
    private let sinksReadEvents: Bool
    private let lock = NSLock()
    /// Lines formatted since the last flush, by `LineStyle.index`.
    private var pending = LineStyle.allCases.map { _ in PendingBatch() }
    private var envelopes: OutputEnvelope.Writer

    /// Bytes a sink's queue holds before it drops batches.
    public static let defaultSinkQueueBytes = 64 << 20
    /// A batch is handed to the sinks once it holds this much, besides at each flush: buffers
    /// of this size are reused by the allocator, where larger ones come fresh from the kernel
    /// (page faults and zeroing were a tenth of a record's cost).
    static let batchBytes = 64 << 10

    public init(
        sinks: [any OutputSink], streams: DirectiveStreams? = nil, source: OutputSource,
        sinkQueueBytes: Int = OutputStage.defaultSinkQueueBytes, observers: [@Sendable (EmittedRecord) -> Void] = []
    ) {
        self.source = source
        self.observers = observers
        self.streams = streams
        queues = sinks.map { SinkQueue($0, capacity: sinkQueueBytes) }
        sinkStyles = Set(sinks.map(\.style))
        sinkStyleList = LineStyle.allCases.filter(sinkStyles.contains)
        sinksReadEvents = sinkStyles.contains { $0 != .json }
        envelopes = OutputEnvelope.Writer(source: source)
    }

    private struct PendingBatch {
        var lines = JSONText(capacity: 1 << 16)
        var records = 0
    }

    /// Formats one record for the sinks and the live readers of its directive.
    public func accept(_ record: EmittedRecord) {
        for observer in observers { observer(record) }
        lock.withLock {
            let formatted = formatForSinks { style in append(record, style: style) }
            offer(directiveID: record.directiveID, formatted) { style in line(record, style: style) }
        }
    }

    /// Formats a task's JSON, lent for the call, as `accept` would its record, without making
    /// a record of it: where every output wants JSON lines and nothing observes records. False
    /// (nothing done) where some output needs the event (compact lines): `accept` then.
    func acceptJSON(_ json: UnsafeRawBufferPointer, taskName: String, directiveID: String, timestampNanoseconds: UInt64) -> Bool {
        guard observers.isEmpty, !sinksReadEvents, !(streams?.hasCompactReaders ?? false) else { return false }
        lock.withLock {
            let formatted = formatForSinks { style in
                let start = pending[style.index].lines.bytes.count
                envelopes.append(
                    json: json, taskName: taskName, directiveID: directiveID, timestampNanoseconds: timestampNanoseconds,
                    to: &pending[style.index].lines)
                return finishLine(style, from: start)
            }
            offer(directiveID: directiveID, formatted) { _ in
                var text = JSONText(capacity: json.count + 256)
                envelopes.append(json: json, taskName: taskName, directiveID: directiveID, timestampNanoseconds: timestampNanoseconds, to: &text)
                return text.string + "\n"
            }
        }
        return true
    }

    /// Where each style's line lies in its batch, for the readers (no allocation per record).
    private typealias FormattedLines = (Range<Int>?, Range<Int>?, Range<Int>?)

    /// Appends the line of each style a sink wants with `append`. Call with the lock held.
    private func formatForSinks(_ append: (LineStyle) -> Range<Int>) -> FormattedLines {
        var formatted: FormattedLines = (nil, nil, nil)
        for style in sinkStyleList {
            let range = append(style)
            switch style.index {
            case 0: formatted.0 = range
            case 1: formatted.1 = range
            default: formatted.2 = range
            }
        }
        return formatted
    }

    /// Gives the readers of the directive their lines, the sinks' where formatted, else made by
    /// `line`; then hands on full batches. Call with the lock held.
    private func offer(directiveID: String, _ formatted: FormattedLines, line: (LineStyle) -> String) {
        if let streams, streams.hasReaders {
            streams.offer(directiveID: directiveID) { format in
                let style = LineStyle(format, colored: false)
                if let range = [formatted.0, formatted.1, formatted.2][style.index] {
                    return String(decoding: pending[style.index].lines.bytes[range], as: UTF8.self)
                }
                return line(style)
            }
        }
        for style in sinkStyleList where pending[style.index].lines.bytes.count >= Self.batchBytes { handOver(style) }
    }

    /// Whether some output reads the event a record was emitted for: compact lines are made
    /// from it, and a live reader may ask for them.
    var readsEvents: Bool { streams != nil || sinksReadEvents }

    /// Hands what was formatted since the last flush to the sinks' queues.
    public func flush() {
        lock.withLock {
            for style in sinkStyleList where pending[style.index].records > 0 { handOver(style) }
        }
    }

    /// Gives the pending batch of `style` to the queues of its sinks. Call with the lock held.
    private func handOver(_ style: LineStyle) {
        var lines = pending[style.index].lines.take()
        let records = pending[style.index].records
        pending[style.index].records = 0
        var allWritten = true
        for queue in queues where queue.sink.style == style {
            if queue.enqueue(lines, records: records) != .written { allWritten = false }
        }
        // Written where they stood: the same storage takes the next batch.
        if allWritten { pending[style.index].lines.reuse(&lines) }
    }

    /// Flushes, ends every live stream, and lets each sink write what it holds: at most
    /// `deadline` in all, so a stuck sink cannot hold up shutdown.
    public func close(within deadline: Duration = .seconds(5)) {
        flush()
        streams?.finishAll()
        let start = ContinuousClock.now
        for queue in queues {
            let left = deadline - (ContinuousClock.now - start)
            queue.close(within: left > .zero ? left : .milliseconds(1))
        }
    }

    /// Records lost on the way out, by cause.
    public var counters: OutputCounters {
        OutputCounters(
            sinkQueueFull: queues.reduce(0) { $0 + $1.dropped }, sinkWriteFailed: queues.reduce(0) { $0 + $1.failed },
            streamReaders: streams?.totalDropped ?? 0)
    }

    /// Appends the record's line to the pending batch of `style`; returns where it lies.
    private func append(_ record: EmittedRecord, style: LineStyle) -> Range<Int> {
        let index = style.index
        let start = pending[index].lines.bytes.count
        switch style {
        case .json: envelopes.append(record, to: &pending[index].lines)
        case .compact, .compactColored:
            pending[index].lines.rawJSON(CompactLine.render(record, colored: style == .compactColored))
        }
        return finishLine(style, from: start)
    }

    /// Ends the line that starts at `start` in the batch of `style`; returns where it lies.
    private func finishLine(_ style: LineStyle, from start: Int) -> Range<Int> {
        pending[style.index].lines.raw("\n")
        pending[style.index].records += 1
        return start..<pending[style.index].lines.bytes.count
    }

    private func line(_ record: EmittedRecord, style: LineStyle) -> String {
        switch style {
        case .json: return OutputEnvelope.json(record, source: source) + "\n"
        case .compact, .compactColored: return CompactLine.render(record, colored: style == .compactColored) + "\n"
        }
    }
}

/// Records the output stage lost, by cause.
public struct OutputCounters: Sendable, Equatable, Codable {
    /// A sink's queue was full (the sink is slower than the records come).
    public var sinkQueueFull: UInt64 = 0
    /// A sink's write failed (a full disk, a pipe its reader closed).
    public var sinkWriteFailed: UInt64 = 0
    /// A live-stream reader's buffer was full (it stopped reading).
    public var streamReaders: UInt64 = 0

    public init(sinkQueueFull: UInt64 = 0, sinkWriteFailed: UInt64 = 0, streamReaders: UInt64 = 0) {
        self.sinkQueueFull = sinkQueueFull
        self.sinkWriteFailed = sinkWriteFailed
        self.streamReaders = streamReaders
    }
}
