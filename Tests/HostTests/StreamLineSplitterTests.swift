import Testing

@testable import Host

/// How `tawonctl d sub` cuts a live stream, arriving in pieces of any size, into records.
@Suite("Stream line splitter")
struct StreamLineSplitterTests {
    /// Splits `stream` cut into pieces of `size` bytes; returns what went out as records, in
    /// order and joined, and how many heartbeats (empty lines) were seen.
    private static func split(_ stream: [UInt8], pieces size: Int) throws -> (records: [UInt8], heartbeats: Int, calls: Int) {
        var splitter = StreamLineSplitter()
        var records: [UInt8] = []
        var heartbeats = 0
        var calls = 0
        var start = 0
        while start < stream.count {
            let piece = Array(stream[start..<min(start + size, stream.count)])
            try piece.withUnsafeBytes { bytes in
                try splitter.split(
                    bytes,
                    lines: { lines in
                        #expect(lines.last == 0x0A, "a run that does not end a line")
                        records += lines
                        calls += 1
                    },
                    quiet: { heartbeats += 1 })
            }
            start += size
        }
        return (records, heartbeats, calls)
    }

    @Test("Whole lines go out in order, without the empty ones, however the stream is cut; a line without its end waits for it")
    func wholeLinesWithoutHeartbeats() throws {
        let lines = ["{\"a\":1}", "", "{\"b\":\"two\"}", "", "", "x", "{\"c\":3}", ""]
        let stream = Array((lines.joined(separator: "\n") + "\n" + "{\"unended\"").utf8)
        let expected = Array(lines.filter { !$0.isEmpty }.map { $0 + "\n" }.joined().utf8)
        for size in 1...stream.count {
            let result = try Self.split(stream, pieces: size)
            #expect(result.records == expected, "pieces of \(size)")
            #expect(result.heartbeats == 4, "pieces of \(size)")
        }
    }

    @Test("Many lines that arrive together go out in one call")
    func oneCallPerPiece() throws {
        let stream = Array(String(repeating: "{\"record\":true}\n", count: 1000).utf8)
        let result = try Self.split(stream, pieces: stream.count)
        #expect(result.records == stream)
        #expect(result.calls == 1)
    }

    @Test("Nothing but heartbeats, or nothing at all, writes nothing")
    func onlyHeartbeats() throws {
        #expect(try Self.split(Array("\n\n\n".utf8), pieces: 2) == ([], 3, 0))
        #expect(try Self.split([], pieces: 1) == ([], 0, 0))
    }

    @Test("A failing writer stops the splitting with its error")
    func writerErrorPropagates() {
        struct Closed: Error {}
        var splitter = StreamLineSplitter()
        #expect(throws: Closed.self) {
            try Array("a\nb\n".utf8).withUnsafeBytes { try splitter.split($0, lines: { _ in throw Closed() }, quiet: {}) }
        }
    }
}
