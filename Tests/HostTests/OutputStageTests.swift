import Foundation
import Synchronization
import Testing

@testable import Host

/// The output stage's two ways in: records, and a task's JSON as lent (no record made).
@Suite("Output stage")
struct OutputStageTests {
    final class CollectingSink: OutputSink {
        let style: LineStyle
        let written = Mutex<[UInt8]>([])
        init(_ style: LineStyle) { self.style = style }
        func write(_ lines: [UInt8]) -> Bool {
            written.withLock { $0 += lines }
            return true
        }
        func close() {}
        var writesWithoutWaiting: Bool { true }
        var lines: [String] { written.withLock { String(decoding: $0, as: UTF8.self) }.split(separator: "\n").map(String.init) }
    }

    static let source = OutputSource(hostname: "h", instanceID: "i", tawonID: "t")

    static func lend(_ json: String, _ body: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        Array(json.utf8).withUnsafeBytes(body)
    }

    @Test("A task's JSON taken as lent gives the very line its record would, to sinks and JSON readers")
    func sameLines() async throws {
        let sink = CollectingSink(.json)
        let streams = DirectiveStreams(capacity: 16)
        let output = OutputStage(sinks: [sink], streams: streams, source: Self.source)
        let reader = streams.subscribe(directiveID: "d", format: .json)
        let json = #"{"a":"x\ny","n":1}"#
        output.accept(EmittedRecord(taskName: "syscalls", directiveID: "d", json: json, timestampNanoseconds: 1_700_000_000_123_456_789))
        #expect(Self.lend(json) { output.acceptJSON($0, taskName: "syscalls", directiveID: "d", timestampNanoseconds: 1_700_000_000_123_456_789) })
        output.close()
        #expect(sink.lines.count == 2 && sink.lines[0] == sink.lines[1], "\(sink.lines)")
        var streamed: [String] = []
        while let lines = await reader.take() { streamed += lines }
        #expect(streamed == sink.lines.map { $0 + "\n" })
    }

    @Test("Where an output needs the event (a compact sink, a compact reader, an observer), the JSON is refused and a record is made instead")
    func refusedWhereEventsAreRead() {
        let json = #"{"n":1}"#
        let compactSink = OutputStage(sinks: [CollectingSink(.compact)], source: Self.source)
        #expect(!Self.lend(json) { compactSink.acceptJSON($0, taskName: "t", directiveID: "d", timestampNanoseconds: 1) })
        let observed = OutputStage(sinks: [CollectingSink(.json)], source: Self.source, observers: [{ _ in }])
        #expect(!Self.lend(json) { observed.acceptJSON($0, taskName: "t", directiveID: "d", timestampNanoseconds: 1) })

        let streams = DirectiveStreams(capacity: 16)
        let output = OutputStage(sinks: [CollectingSink(.json)], streams: streams, source: Self.source)
        #expect(Self.lend(json) { output.acceptJSON($0, taskName: "t", directiveID: "d", timestampNanoseconds: 1) })
        let reader = streams.subscribe(directiveID: "other", format: .compact)
        #expect(!Self.lend(json) { output.acceptJSON($0, taskName: "t", directiveID: "d", timestampNanoseconds: 1) })
        streams.unsubscribe(reader.id)
        #expect(Self.lend(json) { output.acceptJSON($0, taskName: "t", directiveID: "d", timestampNanoseconds: 1) }, "the compact reader is gone")
    }

    @Test("Compact lines end as strace's do: a result, an errno with its text, '= ?' for exit_group, unfinished for a blocked call")
    func compactEndings() {
        func line(_ name: String, returnValue: Int64?, callID: UInt64 = 0) -> String {
            var event = DeliverableEvent(
                timestampNanoseconds: 1, cpu: 0, pid: 7, tid: 7, functionID: 0, functionName: name, comm: "sh",
                arguments: [.init(name: "status", type: "int", raw: 0, value: .signed(0))], phase: returnValue == nil ? .entry : .exit,
                returnValue: returnValue)
            event.callID = callID
            return CompactLine.render(
                EmittedRecord(taskName: "syscalls", directiveID: "d", json: "{}", timestampNanoseconds: 1, event: event), colored: false)
        }
        #expect(line("exit_group", returnValue: nil).hasSuffix(" 7 sh exit_group(status=0) = ?"))
        #expect(line("openat", returnValue: -2).hasSuffix("openat(status=0) = -1 ENOENT (No such file or directory)"))
        #expect(line("read", returnValue: 3).hasSuffix("read(status=0) = 3"))
        #expect(line("read", returnValue: nil, callID: 9).hasSuffix("read(status=0) <unfinished ...>"))
    }
}
