import JSONText

/// Turns records into output lines (JSON envelopes or compact lines), for every sink.
struct RecordLineFormatter {
    let format: OutputFormat
    let colored: Bool
    private var envelopes: OutputEnvelope.Writer

    init(format: OutputFormat, source: OutputSource, colored: Bool) {
        self.format = format
        self.colored = colored
        envelopes = OutputEnvelope.Writer(source: source)
    }

    /// Appends the record's line, newline included.
    mutating func append(_ record: EmittedRecord, to buffer: inout JSONText) {
        switch format {
        case .json: envelopes.append(record, to: &buffer)
        case .compact: buffer.rawJSON(CompactLine.render(record, colored: colored))
        }
        buffer.raw("\n")
    }
}
