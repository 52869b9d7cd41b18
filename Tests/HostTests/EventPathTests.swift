import Foundation
import Synchronization
import Testing

@testable import Host

@Suite("Event path: remembered decisions, hooked functions, the output thread")
struct EventPathTests {
    static func directive(_ condition: String) throws -> ActiveDirective {
        ActiveDirective(
            id: "d", slot: 0, conditionText: condition, condition: try ConditionParser.parse(condition), instances: [])
    }

    static func process(name: String, generation: UInt64) -> ProcessSnapshot {
        var process = ProcessSnapshot(pid: 7, ppid: 1, name: name, cmd: "", exe: "", ns: "", startedAtNanoseconds: 0)
        process.generation = generation
        return process
    }

    static let netRaw = CapabilitySets(inheritable: 0, permitted: 1 << 13, effective: 1 << 13, bounding: ~0, ambient: 0)
    static let none = CapabilitySets(inheritable: 0, permitted: 0, effective: 0, bounding: ~0, ambient: 0)

    @Test("A decision is reused only for the same snapshot generation and the same capabilities")
    func rememberedDecision() throws {
        let directive = try Self.directive("process.name:curl AND process.capeff:CAP_NET_RAW")
        var looked = 0
        func selects(_ generation: UInt64, _ caps: CapabilitySets, as name: String) -> Bool {
            directive.selectsEvent(generation: generation, capabilities: caps) {
                looked += 1
                return Self.process(name: name, generation: generation)
            }
        }
        #expect(selects(5, Self.netRaw, as: "curl"))
        #expect(selects(5, Self.netRaw, as: "curl"))
        #expect(looked == 1)  // the second answer was remembered
        #expect(!selects(5, Self.none, as: "curl"))  // capabilities dropped: evaluated again
        #expect(looked == 2)
        #expect(!selects(6, Self.netRaw, as: "wget"))  // exec'd: a new generation, a new answer
        #expect(looked == 3)
        // Generation 0 is an unknown process: never remembered.
        #expect(selects(0, Self.netRaw, as: "curl"))
        #expect(selects(0, Self.netRaw, as: "curl"))
        #expect(looked == 5)
    }

    @Test("A snapshot newer than the generation asked about is not remembered under the old one")
    func movedOnSnapshot() throws {
        let directive = try Self.directive("process.name:curl")
        #expect(!directive.selectsEvent(generation: 3, capabilities: Self.none) {
            Self.process(name: "wget", generation: 4)
        })
        #expect(directive.selectsEvent(generation: 3, capabilities: Self.none) {
            Self.process(name: "curl", generation: 3)
        })
    }

    @Test("Hooked functions: syscall numbers and IDs beyond the bitmap", arguments: [
        [UInt64](), [0, 63, 64, 110, 1023], [1024, 5000, UInt64.max], [0, 1023, 1024, 1 << 40],
    ])
    func functionSet(ids: [UInt64]) {
        let set = FunctionSet(ids)
        for probe in Set(ids + [0, 1, 62, 63, 64, 65, 110, 1022, 1023, 1024, 1025, 5000, 1 << 40, UInt64.max]) {
            #expect(set.contains(probe) == ids.contains(probe), "id \(probe)")
        }
    }

    /// A sink that records what reaches it, slowly when asked, to hold the writer thread.
    final class RecordingSink: OutputSink, @unchecked Sendable {
        let lock = NSLock()
        var written: [EmittedRecord] = []
        var flushes = 0
        let delay: useconds_t
        init(delay: useconds_t = 0) { self.delay = delay }
        func write(_ record: EmittedRecord) {
            if delay > 0 { usleep(delay) }
            lock.withLock { written.append(record) }
        }
        func flush() { lock.withLock { flushes += 1 } }
        var snapshot: (records: [EmittedRecord], flushes: Int) { lock.withLock { (written, flushes) } }
    }

    static func record(_ n: Int) -> EmittedRecord {
        EmittedRecord(taskName: "t\(n % 3)", directiveID: "d\(n % 2)", json: "{\"n\":\(n),\"s\":\"é\(String(repeating: "x", count: n % 50))\"}",
                      timestampNanoseconds: UInt64(n))
    }

    @Test("The output thread keeps every record, byte for byte and in order; flush waits for them")
    func backgroundOrder() {
        let inner = RecordingSink()
        let sink = BackgroundSink(inner, capacity: 64)
        let records = (0..<5000).map(Self.record)
        for record in records { sink.write(record) }
        sink.flush()
        let (written, flushes) = inner.snapshot
        #expect(written == records)
        #expect(flushes >= 1)
        sink.close()
    }

    @Test("A slow output holds the writer back at its capacity; close writes out the rest")
    func backgroundCapacity() {
        let inner = RecordingSink(delay: 2000)
        let sink = BackgroundSink(inner, capacity: 4)
        let start = Date()
        for n in 0..<20 { sink.write(Self.record(n)) }
        // 20 records through a queue of 4 at 2 ms each: when the last write returns, at most 4
        // wait in the queue and 4 are being written, so the caller waited for the other 12.
        #expect(inner.snapshot.records.count >= 12)
        #expect(Date().timeIntervalSince(start) >= 0.024)
        sink.close()
        #expect(inner.snapshot.records == (0..<20).map(Self.record))
        sink.write(Self.record(99))  // after close: dropped, and does not block
        #expect(inner.snapshot.records.count == 20)
    }

    @Test("Without a flush, a lone record is written within the batch delay")
    func backgroundLatency() throws {
        let inner = RecordingSink()
        let sink = BackgroundSink(inner)
        sink.write(Self.record(1))
        let deadline = Date().addingTimeInterval(1)
        while inner.snapshot.records.isEmpty && Date() < deadline { usleep(1000) }
        #expect(inner.snapshot.records == [Self.record(1)])
        #expect(inner.snapshot.flushes >= 1)
        sink.close()
    }
}
